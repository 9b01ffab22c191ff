package abuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surge-ws/ws/frame"
)

// The hostile clients (and the probe) are plain net.Conns with hand-built
// frames: a hostile client must be able to do what no WebSocket library
// lets it (stop reading one connection, send a frame that breaks the rules,
// trickle a handshake, reset instead of closing), and the probe must not
// share an event loop with the server's library, whose freeze it is there
// to notice.

// target is where the connections go.
type target struct {
	addr string // host:port to dial
	host string // Host header
	uri  string // request URI
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, err
	}
	if u.Scheme != "ws" {
		return target{}, fmt.Errorf("%q: only ws:// URLs (terminate TLS in front of the server)", raw)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return target{addr: addr, host: u.Host, uri: u.RequestURI()}, nil
}

// dialOpts say how one TCP connection is made.
type dialOpts struct {
	src    netip.Addr // local address (zero: the kernel's choice)
	rcvbuf int        // SO_RCVBUF before connecting (0: default)
}

// dialTCP opens a TCP connection to t.
func dialTCP(ctx context.Context, t target, o dialOpts, timeout time.Duration) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: timeout}
	if o.src.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(o.src, 0))
	}
	if o.rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, o.rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	nc, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	return nc.(*net.TCPConn), nil
}

// errRefused is a handshake the server answered with a status other than 101.
type errRefused struct{ status int }

func (e errRefused) Error() string { return fmt.Sprintf("http %d", e.status) }

// wsConn is one client connection after the upgrade. Writes are
// serialised by wmu; reads belong to one goroutine at a time.
type wsConn struct {
	nc  *net.TCPConn
	wmu sync.Mutex
	in  []byte // bytes read; in[off:] not yet decoded
	off int
	tmp []byte
	dec frame.Decoder
}

// dialWS dials t and upgrades. A refusal is an errRefused with the status.
func dialWS(ctx context.Context, t target, o dialOpts, timeout time.Duration) (*wsConn, error) {
	nc, err := dialTCP(ctx, t, o, timeout)
	if err != nil {
		return nil, err
	}
	c := &wsConn{nc: nc, tmp: make([]byte, 32<<10), dec: frame.Decoder{Client: true}}
	if err := c.upgrade(t, timeout); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *wsConn) upgrade(t target, timeout time.Duration) error {
	_ = c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	key := frame.NewKey()
	if _, err := c.nc.Write(frame.AppendRequest(nil, t.host, t.uri, key, nil, false, nil)); err != nil {
		return err
	}
	for {
		n, err := c.nc.Read(c.tmp)
		c.in = append(c.in, c.tmp[:n]...)
		resp, used, perr := frame.ParseResponseOffer(c.in, key, false, 0)
		if perr != nil {
			if resp != nil && resp.Status != 101 {
				return errRefused{resp.Status}
			}
			return perr
		}
		if used > 0 {
			c.in = c.in[used:]
			return nil
		}
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
	}
}

// appendMasked appends one masked client frame.
func appendMasked(dst []byte, op frame.OpCode, payload []byte) []byte {
	mask := frame.NewMask()
	return frame.AppendFrame(dst, true, op, 0, payload, &mask)
}

// write sends b whole (frames built by the caller), within timeout.
func (c *wsConn) write(b []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.nc.Write(b)
	return err
}

// send writes one masked frame.
func (c *wsConn) send(op frame.OpCode, payload []byte, timeout time.Duration) error {
	return c.write(appendMasked(nil, op, payload), timeout)
}

// next returns the next frame from the server, waiting until deadline. The
// payload is valid until the next call.
func (c *wsConn) next(deadline time.Time) (frame.Frame, error) {
	_ = c.nc.SetReadDeadline(deadline)
	for {
		f, n, err := c.dec.Next(c.in[c.off:])
		if err != nil {
			return f, err
		}
		if n > 0 {
			c.off += n
			return f, nil
		}
		if c.off > 0 { // compact before reading more
			c.in = append(c.in[:0], c.in[c.off:]...)
			c.off = 0
		}
		m, rerr := c.nc.Read(c.tmp)
		c.in = append(c.in, c.tmp[:m]...)
		if rerr != nil && m == 0 {
			return f, rerr
		}
	}
}

// reset drops the connection with a TCP RST (SO_LINGER 0), no close frame.
func (c *wsConn) reset() {
	_ = c.nc.SetLinger(0)
	_ = c.nc.Close()
}

// close sends a close frame and waits (up to timeout) for the server's,
// then closes the socket: a well-behaved goodbye.
func (c *wsConn) close(timeout time.Duration) {
	_ = c.send(frame.OpClose, frame.AppendClose(nil, frame.CloseNormal, ""), timeout)
	deadline := time.Now().Add(timeout)
	for {
		f, err := c.next(deadline)
		if err != nil || f.Op == frame.OpClose {
			break
		}
	}
	_ = c.nc.Close()
}

// endReason names how a read ended when the server ended it.
func endReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		return "closed without a close frame (EOF)"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset by the server"
	case errors.As(err, &ne) && ne.Timeout():
		return "still open at the deadline"
	case errors.Is(err, net.ErrClosed):
		return "closed by us"
	}
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return "server broke the protocol: " + pe.Error()
	}
	return "read error: " + trimErr(err)
}

// trimErr keeps error messages groupable: drop the addresses.
func trimErr(err error) string {
	s := err.Error()
	for _, cut := range []string{"connect: ", "bind: ", "read: ", "write: ", "dial tcp "} {
		if i := strings.LastIndex(s, cut); i >= 0 {
			return s[i:]
		}
	}
	return s
}
