package abuse

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/surge-ws/ws/frame"
)

// violations are frames that break RFC 6455; each closes the connection
// with 1002.
var violations = []struct {
	name string
	make func() []byte
}{
	{"unmasked frame", func() []byte { return frame.AppendFrame(nil, true, frame.OpText, 0, []byte(`{"event":"ping"}`), nil) }},
	{"reserved opcode", func() []byte { m := frame.NewMask(); return frame.AppendFrame(nil, true, 0x3, 0, []byte("x"), &m) }},
	{"RSV1 without an extension", func() []byte {
		m := frame.NewMask()
		return frame.AppendFrame(nil, true, frame.OpText, frame.RSV1, []byte("x"), &m)
	}},
	{"fragmented ping", func() []byte {
		m := frame.NewMask()
		return frame.AppendFrame(nil, false, frame.OpPing, 0, []byte("x"), &m)
	}},
	{"ping over 125 bytes", func() []byte { return appendMasked(nil, frame.OpPing, bytes.Repeat([]byte("x"), 126)) }},
	{"continuation without a message", func() []byte { return appendMasked(nil, frame.OpContinuation, []byte("x")) }},
	{"one-byte close payload", func() []byte { return appendMasked(nil, frame.OpClose, []byte{3}) }},
}

// offend opens sizes.Protocol connections (8 at a time), sends each the
// bytes made by bad(i) after one good round trip, and reads until the
// server ends the connection or the timeout.
func (e *env) offend(ctx context.Context, bad func(i int) []byte) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range e.sz.Protocol {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := e.dial(ctx, e.src())
			if err != nil {
				return
			}
			defer c.nc.Close()
			if !e.roundTrip(c, "e", "echo", "", []byte(strconv.Itoa(i))) {
				return
			}
			if err := c.write(bad(i), e.o.Timeout); err != nil {
				e.got.Add("our write failed: " + endReason(err))
				return
			}
			e.sent.Add(1)
			drain(c, time.Now().Add(e.o.Timeout), &e.got, nil)
		}()
	}
	wg.Wait()
}

// closedWith checks that every connection of the case (the good round trip
// aside) was closed with a close code of codes.
func closedWith(codes ...int) func(e *env, got map[string]int64) error {
	return func(e *env, got map[string]int64) error {
		var n int64
		for _, c := range codes {
			n += count(got, fmt.Sprintf("close %d", c))
		}
		if n != int64(e.sz.Protocol) {
			return fmt.Errorf("%d of %d connections closed with %v", n, e.sz.Protocol, codes)
		}
		return nil
	}
}

var protocolCases = []Case{
	{
		Name:   "invalid-json",
		Server: ServerChat,
		What:   "one client sends -flood messages that are not JSON ({not json), waits for the answers, leaves",
		Expect: "error push 400 malformed message for what is handled, then close 1008 (receive buffer full, or rate limit exceeded after 429s)",
		run: func(ctx context.Context, e *env) error {
			c, err := e.dial(ctx, e.src())
			if err != nil {
				return nil
			}
			r := e.startReader(c, isReply)
			sent := e.pump(c, e.sz.Flood, func(dst []byte, i int) []byte {
				return appendMasked(dst, frame.OpText, []byte("{not json"))
			})
			if !r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout)) && !r.ended.Load() {
				e.got.Add("unanswered at the deadline")
			}
			e.goodbye(c, r)
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			for k := range got {
				if !strings.HasPrefix(k, "error push 400 malformed message") && !strings.HasPrefix(k, "error push 429") &&
					!strings.HasPrefix(k, "reply error 429") && !strings.HasPrefix(k, "close 1008") && !strings.HasPrefix(k, "our write failed") {
					return fmt.Errorf("unexpected %q", k)
				}
			}
			if count(got, "error push 400")+count(got, "close 1008") == 0 {
				return fmt.Errorf("neither an error push 400 nor close 1008")
			}
			return nil
		},
	},
	{
		Name:   "invalid-utf8",
		Server: ServerChat,
		What:   "-protocol clients send a text frame that is not UTF-8",
		Expect: "close 1007",
		run: func(ctx context.Context, e *env) error {
			e.offend(ctx, func(int) []byte {
				return appendMasked(nil, frame.OpText, []byte("{\"event\":\"echo\",\"data\":\"\xff\xfe\"}"))
			})
			return nil
		},
		check: closedWith(1007),
	},
	{
		Name:   "bad-frames",
		Server: ServerChat,
		What:   "-protocol clients send a frame breaking RFC 6455 (" + violationNames() + ")",
		Expect: "close 1002",
		run: func(ctx context.Context, e *env) error {
			e.offend(ctx, func(i int) []byte { return violations[i%len(violations)].make() })
			return nil
		},
		check: closedWith(1002),
	},
	{
		Name:   "oversize",
		Server: ServerChat,
		What:   "-protocol clients announce a 1 MiB text message and send its first 16 KiB",
		Expect: "close 1009 (over MaxMessageSize, 64 KiB)",
		run: func(ctx context.Context, e *env) error {
			e.offend(ctx, func(int) []byte {
				m := frame.NewMask()
				b := frame.AppendHeader(nil, frame.Header{Fin: true, Op: frame.OpText, Masked: true, Mask: m, Length: 1 << 20})
				return append(b, bytes.Repeat([]byte("x"), 16<<10)...)
			})
			return nil
		},
		check: closedWith(1009),
	},
	{
		Name:   "garbage-frames",
		Server: ServerChat,
		What:   "-protocol clients send 4 KiB of random bytes after the upgrade",
		Expect: "a close frame (1002, 1007 or 1009, whatever the bytes break first)",
		run: func(ctx context.Context, e *env) error {
			e.offend(ctx, func(i int) []byte { return randomBytes(uint64(i), 4<<10) })
			return nil
		},
		check: closedWith(1002, 1007, 1009),
	},
	{
		Name:   "garbage-handshake",
		Server: ServerChat,
		What:   "-protocol clients send 4 KiB of random bytes instead of an HTTP request",
		Expect: "http 400, or the connection closed",
		run: func(ctx context.Context, e *env) error {
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for i := range e.sz.Protocol {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					e.garbageHandshake(ctx, i)
				}()
			}
			wg.Wait()
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if n := count(got, "still open"); n > 0 {
				return fmt.Errorf("%d connections still open at the deadline", n)
			}
			return nil
		},
	},
}

func violationNames() string {
	var s []string
	for _, v := range violations {
		s = append(s, v.name)
	}
	return strings.Join(s, ", ")
}

// randomBytes is n bytes from a generator seeded with seed: a failing
// case can be replayed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// garbageHandshake sends random bytes on a fresh TCP connection and reads
// the answer's status line, if any.
func (e *env) garbageHandshake(ctx context.Context, i int) {
	e.offenders.Add(1)
	nc, err := dialTCP(ctx, e.t, e.src(), e.o.Timeout)
	if err != nil {
		e.got.Add("dial: " + trimErr(err))
		return
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(e.o.Timeout))
	if _, err := nc.Write(randomBytes(uint64(i)+1<<32, 4<<10)); err != nil {
		e.got.Add("our write failed: " + endReason(err))
		return
	}
	e.sent.Add(1)
	e.got.Add(readStatus(nc))
}

// readStatus reads an HTTP answer's status ("http 400") or names how the
// connection ended without one.
func readStatus(nc interface{ Read([]byte) (int, error) }) string {
	var buf []byte
	tmp := make([]byte, 512)
	for {
		n, err := nc.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			f := strings.Fields(string(buf[:i]))
			if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
				return "http " + f[1]
			}
			return "an answer that is not HTTP"
		}
		if err != nil {
			return endReason(err)
		}
	}
}
