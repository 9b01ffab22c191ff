package client

import (
	"strconv"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// Request ids tell replies apart without any per-request state: the first
// byte says what was asked, the rest is a number where one is needed.
const (
	idSubscribe = "s"
	idEchoPfx   = 'e'
)

// OnOpen implements conn.Handler. Nothing to do: the dialing goroutine
// attaches the peer and sends the first request once Dial returns.
func (cl *Client) OnOpen(*conn.Conn) {}

// OnMessage implements conn.Handler. It runs on netpoll's goroutine for the
// connection: it scans the message (no JSON decode) and updates counters.
func (cl *Client) OnMessage(c *conn.Conn, op frame.OpCode, payload []byte) {
	p, _ := c.Value().(*peer)
	var m proto.Msg
	if op != frame.OpText || proto.Scan(payload, &m) != nil {
		cl.malformed.Add(1)
		return
	}
	if p == nil {
		// A message before the dialer attached its state: only a server that
		// greets clients unasked sends one.
		cl.unexpected.Add(1)
		return
	}
	if m.Reply {
		cl.onReply(p, &m)
		return
	}
	if t := cl.fan.Load(); t != nil && string(m.Event) == cl.cfg.Event && string(m.Channel) == cl.cfg.Channel {
		t.deliver(cl, p, m.Data)
		return
	}
	cl.unexpected.Add(1)
}

func (cl *Client) onReply(p *peer, m *proto.Msg) {
	switch {
	case string(m.ID) == idSubscribe:
		if p.flags.Load()&fSubPending == 0 {
			cl.unexpected.Add(1)
			return
		}
		if m.OK {
			p.set(fSubscribed)
			cl.subscribed.Add(1)
		} else {
			cl.subFailed.Add(1)
			cl.errs.Add("subscribe refused: " + replyError(m))
		}
		if p.flags.And(^fSubPending)&fSubPending != 0 {
			cl.subPending.Add(-1)
		}
		if cy := p.cycle.Load(); cy != nil {
			cy.signal(m.OK)
		}
	case len(m.ID) > 0 && m.ID[0] == idEchoPfx:
		if r := cl.echo.Load(); r != nil {
			r.reply(cl, p, m)
			return
		}
		cl.unexpected.Add(1)
	default:
		cl.unexpected.Add(1)
	}
}

// replyError formats an error reply's code and message.
func replyError(m *proto.Msg) string {
	code, msg := string(m.Code), string(m.Message)
	if m.Escaped {
		if s, err := proto.Unquote(m.Code); err == nil {
			code = s
		}
		if s, err := proto.Unquote(m.Message); err == nil {
			msg = s
		}
	}
	switch {
	case code == "" && msg == "":
		return "ok=false"
	case code == "":
		return msg
	case msg == "":
		return code
	}
	return code + ": " + msg
}

// OnClose implements conn.Handler.
func (cl *Client) OnClose(c *conn.Conn, code frame.CloseCode, reason string) {
	cl.open.Add(-1)
	p, _ := c.Value().(*peer)
	if p == nil {
		cl.dropped.Add(1)
		cl.errs.Add(closeText(code, reason))
		return
	}
	was := p.set(fClosed)
	if was&fSubPending != 0 && p.flags.And(^fSubPending)&fSubPending != 0 {
		cl.subPending.Add(-1)
		cl.subFailed.Add(1)
		cl.errs.Add("closed before the subscribe reply: " + closeText(code, reason))
	}
	if was&fSubscribed != 0 {
		if t := cl.fan.Load(); t != nil {
			t.lose()
		}
	}
	if was&fEchoing != 0 {
		if r := cl.echo.Load(); r != nil {
			r.finish(p)
		}
	}
	if was&fClosing == 0 {
		cl.dropped.Add(1)
		cl.errs.Add(closeText(code, reason))
	}
	if cy := p.cycle.Load(); cy != nil {
		cy.closed()
	}
}

func closeText(code frame.CloseCode, reason string) string {
	s := "closed by the server or network: " + strconv.Itoa(int(code))
	if reason != "" {
		s += " " + reason
	}
	return s
}

const opText = frame.OpText
