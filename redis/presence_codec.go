package wsredis

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/surge-ws/ws/hub"
)

// A client's entry in Redis is one field of a hash: the field is its connection id without its
// node's address (every id a node gives out starts with it, so it is said once, in the node's
// registration), and the value is binary:
//
//	version    1 byte (clientVersion)
//	connected  uvarint, unix milliseconds
//	ip         1 byte n, then n bytes: 4 or 16 for an address, else the text as given
//	user id    string (uvarint length, bytes)
//	name       string
//	channels   uvarint count, then that many strings (sorted)
//
// A typical client (an IPv4 address, a short user id and name, a channel) takes some 35 bytes, under
// the 64 bytes that keep a small hash in Redis's compact listpack encoding. User agent, meta and last
// seen are not stored: the first two are large and rarely listed, the third would need a write per
// message (runa defect 7). LastSeen reads as the node's last heartbeat.
const clientVersion = 1

// fieldForeign marks a field that holds a whole id (one that does not start with the node's address).
const fieldForeign = '!'

func clientField(address, id string) string {
	if address != "" && len(id) > len(address) && id[:len(address)] == address && id[len(address)] != fieldForeign {
		return id[len(address):]
	}
	return string(fieldForeign) + id
}

func clientID(address, field string) string {
	if len(field) > 0 && field[0] == fieldForeign {
		return field[1:]
	}
	return address + field
}

func encodeClient(info *hub.ClientInfo) string {
	b := make([]byte, 0, 40)
	b = append(b, clientVersion)
	b = binary.AppendUvarint(b, uint64(max(info.Connected.UnixMilli(), 0)))
	if ip, err := netip.ParseAddr(info.IP); err == nil && info.IP != "" {
		s := ip.AsSlice()
		if ip.Is4In6() {
			s = ip.Unmap().AsSlice()
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	} else {
		s := info.IP
		if len(s) > 255 || len(s) == 4 || len(s) == 16 {
			s = "?" + s[:min(len(s), 254)]
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	b = appendString(b, info.UserID)
	b = appendString(b, info.Name)
	b = binary.AppendUvarint(b, uint64(len(info.Channels)))
	for _, ch := range info.Channels {
		b = appendString(b, ch)
	}
	return string(b)
}

func decodeClient(v string, info *hub.ClientInfo) bool {
	d := decoder{b: []byte(v)}
	ms, ipb, user, name, ok := readHead(&d)
	if !ok {
		return false
	}
	switch len(ipb) {
	case 4, 16:
		ip, _ := netip.AddrFromSlice(ipb)
		info.IP = ip.String()
	default:
		info.IP = string(ipb)
	}
	info.Connected = time.UnixMilli(int64(ms))
	info.UserID = string(user)
	info.Name = string(name)
	nch := d.uvarint()
	if d.err || nch > uint64(len(d.b)) {
		return false
	}
	info.Channels = nil
	if nch > 0 {
		info.Channels = make([]string, 0, nch)
		for range nch {
			info.Channels = append(info.Channels, string(d.bytes()))
		}
	}
	return !d.err
}

// readHead reads the fields before the channels: connection time, address
// bytes, user id and name (the last three alias d's buffer).
func readHead(d *decoder) (ms uint64, ip, user, name []byte, ok bool) {
	if d.byte() != clientVersion {
		return 0, nil, nil, nil, false
	}
	ms = d.uvarint()
	n := int(d.byte())
	if d.err || n > len(d.b) {
		return 0, nil, nil, nil, false
	}
	ip, d.b = d.b[:n], d.b[n:]
	user, name = d.bytes(), d.bytes()
	return ms, ip, user, name, !d.err
}

// channelsOf returns the channels of a client encoded by encodeClient, as
// substrings of v: nothing of them is copied.
func channelsOf(v string) []string {
	d := decoder{b: []byte(v)}
	if _, _, _, _, ok := readHead(&d); !ok {
		return nil
	}
	nch := d.uvarint()
	if d.err || nch == 0 || nch > uint64(len(d.b)) {
		return nil
	}
	out := make([]string, 0, nch)
	for range nch {
		b := d.bytes()
		if d.err {
			return nil
		}
		end := len(v) - len(d.b)
		out = append(out, v[end-len(b):end])
	}
	return out
}
