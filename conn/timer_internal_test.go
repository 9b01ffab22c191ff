package conn

import (
	"testing"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// emptyBuffer is a netpoll connection whose own buffer holds nothing: what
// the timer sees when the poller has not come round to a socket yet.
type emptyBuffer struct{ netpoll.Connection }

func (emptyBuffer) Reader() netpoll.Reader { return emptyReader{} }

type emptyReader struct{ netpoll.Reader }

func (emptyReader) Len() int { return 0 }

// A pong that waits in the kernel's receive queue, unread because this
// process is behind, must keep the connection: inputQueued is what the
// timer asks before it closes for a read or pong timeout.
func TestInputQueuedSeesTheReceiveQueue(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	c := &Conn{np: emptyBuffer{}, fd: int32(fds[0])}
	if c.inputQueued() {
		t.Fatal("nothing was sent, yet inputQueued reports input")
	}
	pong := []byte{0x8a, 0x80, 1, 2, 3, 4} // a masked, empty pong
	if _, err := unix.Write(fds[1], pong); err != nil {
		t.Fatal(err)
	}
	if !c.inputQueued() {
		t.Fatal("a pong waits in the receive queue, yet inputQueued reports none")
	}
}
