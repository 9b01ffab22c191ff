// Command floor is the least a Go server can do per echo round trip on this
// machine, as a yardstick for the others: one goroutine, one epoll instance
// (golang.org/x/sys/unix, no netpoll, no runtime poller), level-triggered
// reads into one shared buffer, the reply written with one write(2) on the
// spot. It speaks just enough of the protocol for the echo scenario: the
// handshake, masked text frames carrying {"id","event","data"} requests
// (answered {"id","event","ok":true,"data"}), ping and close. No fan-out,
// no timeouts, no queues: it is not a server to use, only the floor under
// the ones measured with it.
//
//	go run ./loadtest/peers/floor -addr 127.0.0.1:8083
//	loadtest compare -scenarios echo -peers floor,surge ...
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()
	lfd, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("floor echo: ws://%s/ws (pid %d)", *addr, os.Getpid())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}()
	if err := serve(lfd); err != nil {
		log.Fatal(err)
	}
}

// listen opens a non-blocking listening socket on addr (host:port).
func listen(addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return -1, err
	}
	var sa unix.SockaddrInet4
	sa.Port = p
	if host != "" {
		ip := net.ParseIP(host).To4()
		if ip == nil {
			return -1, &net.AddrError{Err: "not an IPv4 address", Addr: host}
		}
		sa.Addr = [4]byte(ip)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, &sa); err != nil {
		return -1, err
	}
	return fd, unix.Listen(fd, 4096)
}

// client is one connection's state: the bytes of an incomplete handshake or
// frame, and the frame decoder.
type client struct {
	open    bool // handshake done
	pending []byte
	dec     frame.Decoder
	reply   []byte // scratch for the reply's payload
}

func serve(lfd int) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, lfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(lfd)}); err != nil {
		return err
	}
	clients := map[int32]*client{}
	events := make([]unix.EpollEvent, 256)
	in := make([]byte, 64<<10)
	out := make([]byte, 0, 64<<10)
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == lfd {
				accept(ep, lfd, clients)
				continue
			}
			c := clients[ev.Fd]
			if c == nil {
				continue
			}
			r, err := unix.Read(int(ev.Fd), in)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil || r == 0 {
				drop(ep, ev.Fd, clients)
				continue
			}
			data := in[:r]
			if len(c.pending) > 0 {
				c.pending = append(c.pending, data...)
				data = c.pending
			}
			var used int
			var keep bool
			out, used, keep = handle(c, data, out[:0])
			if len(out) > 0 {
				if w, err := unix.Write(int(ev.Fd), out); err != nil || w < len(out) {
					keep = false // a floor server does not queue
				}
			}
			if !keep {
				drop(ep, ev.Fd, clients)
				continue
			}
			c.pending = append(c.pending[:0], data[used:]...)
		}
	}
}

func accept(ep, lfd int, clients map[int32]*client) {
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return // EAGAIN: all taken
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}) != nil {
			_ = unix.Close(fd)
			continue
		}
		clients[int32(fd)] = &client{}
	}
}

func drop(ep int, fd int32, clients map[int32]*client) {
	_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, int(fd), nil)
	_ = unix.Close(int(fd))
	delete(clients, fd)
}

// handle consumes what it can of data, appending the answers to out. keep is
// false when the connection is to be closed.
func handle(c *client, data, out []byte) (_ []byte, used int, keep bool) {
	if !c.open {
		req, n, err := frame.ParseRequest(data, 0)
		if err != nil {
			return out, len(data), false
		}
		if n == 0 {
			return out, 0, true
		}
		out = frame.AppendAccept(out, req, "", false, nil)
		c.open, used = true, n
	}
	var m proto.Msg
	for used < len(data) {
		f, n, err := c.dec.Next(data[used:])
		if err != nil {
			return out, len(data), false
		}
		if n == 0 {
			break
		}
		used += n
		switch f.Op {
		case frame.OpText:
			if proto.Scan(f.Payload, &m) != nil || len(m.ID) == 0 {
				continue
			}
			c.reply = append(c.reply[:0], `{"id":"`...)
			c.reply = append(c.reply, m.ID...)
			c.reply = append(c.reply, `","event":"`...)
			c.reply = append(c.reply, m.Event...)
			c.reply = append(c.reply, `","ok":true`...)
			if m.Data != nil {
				c.reply = append(append(c.reply, `,"data":`...), m.Data...)
			}
			c.reply = append(c.reply, '}')
			out = frame.AppendFrame(out, true, frame.OpText, 0, c.reply, nil)
		case frame.OpPing:
			out = frame.AppendFrame(out, true, frame.OpPong, 0, f.Payload, nil)
		case frame.OpClose:
			out = frame.AppendFrame(out, true, frame.OpClose, 0, f.Payload, nil)
			return out, len(data), false
		}
	}
	return out, used, true
}
