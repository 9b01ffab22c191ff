package abuse

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// What an offender got is counted by kind, in words a reader of the table
// understands: "reply ok", "reply error 429 too many messages", "error push
// 400 malformed message", "close 1008 send buffer full", "http 503", "reset
// by the server", ...

// classify names a frame from the server.
func classify(f frame.Frame) string {
	switch f.Op {
	case frame.OpClose:
		code, reason, err := frame.ParseClose(f.Payload)
		if err != nil {
			return "close frame that does not parse"
		}
		if code == 0 {
			return "close (no code)"
		}
		return strings.TrimSpace(fmt.Sprintf("close %d %s", code, reason))
	case frame.OpPong:
		return "pong"
	case frame.OpPing:
		return "ping from the server"
	case frame.OpText, frame.OpBinary:
		var m proto.Msg
		if proto.Scan(f.Payload, &m) != nil {
			return "message that is not a JSON object"
		}
		switch {
		case m.Reply && m.OK:
			return "reply ok"
		case m.Reply:
			return strings.TrimSpace(fmt.Sprintf("reply error %s %s", m.Code, trimMessage(unquote(m.Message))))
		case string(m.Event) == "error":
			var d struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(m.Data, &d)
			return strings.TrimSpace(fmt.Sprintf("error push %d %s", d.Code, trimMessage(d.Message)))
		}
		return "push " + string(m.Event)
	}
	return fmt.Sprintf("frame with opcode %d", f.Op)
}

func unquote(b []byte) string {
	if s, err := proto.Unquote(b); err == nil {
		return s
	}
	return string(b)
}

// trimMessage keeps error messages groupable: "malformed message: expected
// a key at offset 22" differs by offset only.
func trimMessage(s string) string {
	if i := strings.Index(s, " at offset "); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// drain reads c until the server closes it (a close frame, EOF, a reset) or
// deadline, counting every frame in got (nil: only the end is counted) and
// calling each (if not nil) with each frame's kind. It returns how the
// connection ended: the close frame's kind, or endReason's.
func drain(c *wsConn, deadline time.Time, got *client.Tally, each func(kind string, f frame.Frame)) string {
	for {
		f, err := c.next(deadline)
		if err != nil {
			end := endReason(err)
			if got != nil {
				got.Add(end)
			}
			return end
		}
		kind := classify(f)
		if got != nil {
			got.Add(kind)
		}
		if each != nil {
			each(kind, f)
		}
		if f.Op == frame.OpClose {
			return kind
		}
	}
}
