package wsredis

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/surge-ws/ws/hub"
)

// The envelope is what one PUBLISH carries between nodes: binary, so a packet's JSON travels as it is
// (no base64, no JSON around JSON), and the receiving node makes its clients' frame from those bytes
// without encoding anything.
//
//	version  1 byte (envelopeVersion)
//	kind     1 byte (kindPacket, kindCommand)
//	stream   uvarint: the sender's stream, random per Broker (a restarted node starts a new one)
//	seq      uvarint: the stream's sequence number on this Redis channel, from 1
//	origin   string: the sending node (hub.Config.Node)
//	channel  string: the packet's channel; a command's channel (KickChannel)
//	event    string: the packet's event
//	command only:
//	  op     1 byte (hub.CommandKind)
//	  ids    uvarint count, then that many strings
//	  reason string
//	dataOff  uvarint, dataLen uvarint: where the packet's data is inside wire (dataLen 0: no data)
//	wire     the rest: the packet's client wire form {"channel"?,"event","data"?,"meta"?}
//
// A string is a uvarint length and that many bytes.
const envelopeVersion = 1

const (
	kindPacket  = 1
	kindCommand = 2
)

// envelope is a decoded envelope. Its byte slices alias the decoded input.
type envelope struct {
	kind    byte
	stream  uint64
	seq     uint64
	origin  string
	channel string
	event   string
	op      hub.CommandKind
	ids     []string
	reason  string
	dataOff int
	dataLen int
	wire    []byte
}

var errMalformed = errors.New("wsredis: malformed envelope")

// maxIDs bounds the ids of one command a decoder accepts (a corrupt count must not allocate much).
const maxIDs = 1 << 16

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendEnvelope appends e's encoding to b.
func appendEnvelope(b []byte, e *envelope) []byte {
	b = append(b, envelopeVersion, e.kind)
	b = binary.AppendUvarint(b, e.stream)
	b = binary.AppendUvarint(b, e.seq)
	b = appendString(b, e.origin)
	b = appendString(b, e.channel)
	b = appendString(b, e.event)
	if e.kind == kindCommand {
		b = append(b, byte(e.op))
		b = binary.AppendUvarint(b, uint64(len(e.ids)))
		for _, id := range e.ids {
			b = appendString(b, id)
		}
		b = appendString(b, e.reason)
	}
	b = binary.AppendUvarint(b, uint64(e.dataOff))
	b = binary.AppendUvarint(b, uint64(e.dataLen))
	return append(b, e.wire...)
}

// maxSize bounds the length of e's encoding.
func (e *envelope) maxSize() int {
	const v = binary.MaxVarintLen64
	n := 2 + 4*v + 3*v + len(e.origin) + len(e.channel) + len(e.event) + len(e.wire)
	if e.kind == kindCommand {
		n += 1 + 2*v + len(e.reason)
		for _, id := range e.ids {
			n += v + len(id)
		}
	}
	return n
}

// dataSpan finds p.Data inside p.Encoded, the wire form the hub made: the first `,"data":` is the key
// (inside a JSON string a quote is always escaped, so channel and event cannot hold it).
func dataSpan(p *hub.Packet) (off, n int) {
	if len(p.Data) == 0 {
		return 0, 0
	}
	i := bytes.Index(p.Encoded, []byte(`,"data":`))
	if i < 0 {
		return 0, 0
	}
	off = i + len(`,"data":`)
	if off+len(p.Data) > len(p.Encoded) || !bytes.Equal(p.Encoded[off:off+len(p.Data)], p.Data) {
		return 0, 0
	}
	return off, len(p.Data)
}

// decoder reads an envelope.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// parseEnvelope decodes b into e. e's strings are copies; e.wire aliases b.
func parseEnvelope(b []byte, e *envelope) error {
	d := decoder{b: b}
	if d.byte() != envelopeVersion {
		return errMalformed
	}
	*e = envelope{kind: d.byte()}
	if e.kind != kindPacket && e.kind != kindCommand {
		return errMalformed
	}
	e.stream = d.uvarint()
	e.seq = d.uvarint()
	e.origin = string(d.bytes())
	e.channel = string(d.bytes())
	e.event = string(d.bytes())
	if e.kind == kindCommand {
		e.op = hub.CommandKind(d.byte())
		n := d.uvarint()
		if d.err || n > maxIDs || n > uint64(len(d.b)) {
			return errMalformed
		}
		if n > 0 {
			e.ids = make([]string, 0, n)
			for range n {
				e.ids = append(e.ids, string(d.bytes()))
			}
		}
		e.reason = string(d.bytes())
	}
	off, n := d.uvarint(), d.uvarint()
	if d.err {
		return errMalformed
	}
	e.wire = d.b
	if n > 0 && (off > uint64(len(e.wire)) || n > uint64(len(e.wire))-off) {
		return errMalformed
	}
	e.dataOff, e.dataLen = int(off), int(n)
	return nil
}

// packet is the hub.Packet e carries.
func (e *envelope) packet() hub.Packet {
	p := hub.Packet{Channel: e.channel, Event: e.event, Origin: e.origin}
	if len(e.wire) > 0 {
		p.Encoded = e.wire
	}
	if e.dataLen > 0 {
		p.Data = e.wire[e.dataOff : e.dataOff+e.dataLen : e.dataOff+e.dataLen]
	}
	return p
}

// command is the hub.Command e carries.
func (e *envelope) command() hub.Command {
	p := e.packet()
	p.Channel = ""
	return hub.Command{Kind: e.op, IDs: e.ids, Channel: e.channel, Packet: p, Reason: e.reason, Origin: e.origin}
}
