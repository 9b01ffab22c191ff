package conformance

import (
	"fmt"
	"testing"

	"github.com/surge-ws/ws/frame"
)

// Regression tests for transport bugs this suite found.

// TestEchoMessageOverSendQueueBytes is Autobahn's 9.2.4 unscaled: a 4 MiB
// binary message, within the echo server's -max-message, must come back.
// It used to fail: a single message larger than Config.SendQueueBytes
// (default 4 MiB) was refused by conn's send queue even when the queue was
// empty, so the echo server closed with 1008 "send buffer full".
func TestEchoMessageOverSendQueueBytes(t *testing.T) {
	c, _ := dial(t, echoServer(t))
	p := repeat("\xfe", 4<<20)
	c.write(clientFrame(true, frame.OpBinary, 0, p))
	c.expect(frame.OpBinary, p)
	c.closeNormally()
}

// TestPipelinedMessages: a client that sends many small messages back to
// back (in one write) and reads the echoes as fast as they come must get
// every echo. It used to fail: replies queued while the input goroutine ran
// were written only when it returned, so more than Config.SendQueue (256)
// messages in one read batch overflowed the queue and the server closed with
// 1008 "send buffer full" without having written anything.
func TestPipelinedMessages(t *testing.T) {
	c, _ := dial(t, echoServer(t))
	const n = 1000
	var b []byte
	for i := range n {
		b = append(b, clientFrame(true, frame.OpText, 0, fmt.Appendf(nil, "m%d", i))...)
	}
	c.write(b)
	for i := range n {
		c.expect(frame.OpText, fmt.Appendf(nil, "m%d", i))
	}
	c.closeNormally()
}
