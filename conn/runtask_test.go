package conn

import (
	"testing"
	"time"

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

// runTask runs an open NonBlocking connection's input on the poller goroutine
// only while the work is bounded: a connection with more than inlineMaxInput
// bytes waiting (a flood) goes to the pool, as do closing connections and
// connections whose callbacks may block.
func TestRunTaskInlinesOnlyBoundedWork(t *testing.T) {
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
			release := make(chan struct{})
			ran := make(chan struct{})
			returned := make(chan struct{})
			go func() {
				runTask(&c.lctx, func() {
					if !tc.inline {
						<-release // on the pool: runTask must not wait for it
					}
					close(ran)
				})
				close(returned)
			}()
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Fatal("runTask did not return within 5 s: it ran a task inline that should have gone to the pool")
			}
			select {
			case <-ran:
				if !tc.inline {
					t.Fatal("the task finished before it was released")
				}
			default:
				if tc.inline {
					t.Fatal("runTask returned before the task ran: it went to the pool, want inline")
				}
			}
			close(release)
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("the pooled task did not run within 5 s")
			}
			if c.gate.Load()&gateInline != 0 {
				t.Fatal("gateInline still set after the task")
			}
		})
	}
}
