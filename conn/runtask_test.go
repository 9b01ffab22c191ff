package conn

import (
	"testing"

	"github.com/cloudwego/netpoll"
)

// fakeInput is a netpoll.Connection whose reader reports n bytes waiting.
type fakeInput struct {
	netpoll.Connection
	n int
}

func (f fakeInput) Reader() netpoll.Reader { return fakeReader{n: f.n} }

type fakeReader struct {
	netpoll.Reader
	n int
}

func (r fakeReader) Len() int { return r.n }

// RunInline runs an open NonBlocking connection's input on the poller
// goroutine only while the work is bounded: a connection with more than
// inlineMaxInput bytes waiting (a flood) goes to the pool, as do closing
// connections and connections whose callbacks may block.
func TestRunInlineOnlyBoundedWork(t *testing.T) {
	for _, tc := range []struct {
		name        string
		nonBlocking bool
		state       uint32
		gate        uint32
		waiting     int
		inline      bool
	}{
		{"small input", true, stateOpen, 0, 100, true},
		{"at the bound", true, stateOpen, 0, inlineMaxInput, true},
		{"flood", true, stateOpen, 0, inlineMaxInput + 1, false},
		{"blocking callbacks", false, stateOpen, 0, 100, false},
		{"handshake", true, stateHandshake, 0, 100, false},
		{"being closed", true, stateOpen, gateClosing, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Conn{eng: &engine{cfg: Config{NonBlocking: tc.nonBlocking}}, np: fakeInput{n: tc.waiting}}
			c.state.Store(tc.state)
			c.gate.Store(tc.gate)
			c.lctx.c = c
			ran := false
			took := c.lctx.RunInline(func() {
				ran = true
				if c.gate.Load()&gateInline == 0 {
					t.Error("gateInline not set while the task runs inline")
				}
			})
			if took != tc.inline || ran != tc.inline {
				t.Fatalf("RunInline = %v (task ran: %v), want %v", took, ran, tc.inline)
			}
			if c.gate.Load() != tc.gate {
				t.Fatalf("gate = %b after RunInline, want %b", c.gate.Load(), tc.gate)
			}
		})
	}
}
