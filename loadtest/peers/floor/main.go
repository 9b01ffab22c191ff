// Command floor is the least a Go server can do on this machine, as a
// yardstick for the others: one goroutine, one epoll instance
// (golang.org/x/sys/unix, no netpoll, no runtime poller), level-triggered
// reads into one shared buffer, every answer written with one write(2) on the
// spot. It speaks just enough of the protocol for the load generator: the
// handshake; masked text frames carrying {"id","event","channel","data"}
// requests; "subscribe" and "unsubscribe" (answered {"id","event","ok":true});
// the publish event (-event, default "chat.message"), whose packet
// {"channel","event","data"} is framed once and written to every subscriber
// of its channel in this process, one write(2) each, before the publisher is
// answered; every other request is echoed ({"id","event","ok":true,"data"});
// ping and close. No timeouts, no queues (a subscriber whose socket does not
// take a whole frame is dropped), no keepalive pings: it is not a server to
// use, only the floor under the ones measured with it.
//
// With -park it waits in the Go runtime's poller between batches instead of
// blocking in epoll_wait (parkedWait), as Surge's pollers do: a variant to
// measure what that is worth to a raw loop, not the default floor.
//
// Several floor processes do not know each other: a publish reaches the
// subscribers of the process that received it. loadtest's cluster scenario
// therefore publishes to every floor process at once, the floor of a
// cluster's fan-out with no broker at all.
//
//	go run ./loadtest/peers/floor -addr 127.0.0.1:8083
//	loadtest compare -scenarios echo -peers floor,surge ...
//	loadtest cluster -targets surge,floor ...
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
	event := flag.String("event", "chat.message", "the publish event: its packet goes to every subscriber of its channel (default room) in this process")
	rst := flag.Bool("reset-on-exit", false, "on SIGINT/SIGTERM, reset every connection (SO_LINGER 0): no FIN handshakes, no TIME_WAIT left behind")
	park := flag.Bool("park", false, "wait in the Go runtime's poller between batches instead of blocking in epoll_wait (what poller/park.go does for netpoll), to measure what that is worth to a raw loop")
	flag.Parse()
	lfd, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("floor: ws://%s/ws (pid %d)", *addr, os.Getpid())
	stop, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_, _ = unix.Write(stop, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}()
	s := newServer(lfd, *event)
	s.stopFD = stop
	s.park = *park
	if err := s.serve(); err != nil {
		log.Fatal(err)
	}
	if *rst {
		s.resetAll()
	}
}

// backlog is asked of listen(2); the kernel caps it at net.core.somaxconn.
const backlog = 65535

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
	return fd, unix.Listen(fd, backlog)
}

// client is one connection's state: the bytes of an incomplete handshake or
// frame, the frame decoder and the channels it joined.
type client struct {
	fd      int32
	open    bool // handshake done
	pending []byte
	dec     frame.Decoder
	chans   []string
}

// server is the state of the one goroutine that runs everything.
type server struct {
	lfd, ep, stopFD int
	event           string
	clients         map[int32]*client
	rooms           map[string]map[int32]struct{}
	park            bool   // wait through the runtime's poller (parkedWait)
	reply           []byte // scratch for a reply's payload
	pkt             []byte // scratch for a published packet and its frame
}

func newServer(lfd int, event string) *server {
	return &server{lfd: lfd, stopFD: -1, event: event, clients: map[int32]*client{}, rooms: map[string]map[int32]struct{}{}}
}

// serve runs the loop until the stop eventfd is written (nil) or epoll fails.
func (s *server) serve() error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	s.ep = ep
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, s.lfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.lfd)}); err != nil {
		return err
	}
	if s.stopFD >= 0 {
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, s.stopFD, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.stopFD)}); err != nil {
			return err
		}
	}
	events := make([]unix.EpollEvent, 256)
	wait := func() (int, error) { return unix.EpollWait(ep, events, -1) }
	if s.park {
		pw, err := newParkedWait(ep, events)
		if err != nil {
			return err
		}
		defer pw.close()
		wait = pw.wait
	}
	in := make([]byte, 64<<10)
	out := make([]byte, 0, 64<<10)
	for {
		n, err := wait()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			switch int(ev.Fd) {
			case s.lfd:
				s.accept()
				continue
			case s.stopFD:
				return nil
			}
			c := s.clients[ev.Fd]
			if c == nil {
				continue
			}
			r, err := unix.Read(int(ev.Fd), in)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil || r == 0 {
				s.drop(ev.Fd)
				continue
			}
			data := in[:r]
			if len(c.pending) > 0 {
				c.pending = append(c.pending, data...)
				data = c.pending
			}
			var used int
			var keep bool
			out, used, keep = s.handle(c, data, out[:0])
			if len(out) > 0 {
				if w, err := unix.Write(int(ev.Fd), out); err != nil || w < len(out) {
					keep = false // a floor server does not queue
				}
			}
			if !keep {
				s.drop(ev.Fd)
				continue
			}
			c.pending = append(c.pending[:0], data[used:]...)
		}
	}
}

func (s *server) accept() {
	for {
		fd, _, err := unix.Accept4(s.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return // EAGAIN: all taken
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if unix.EpollCtl(s.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}) != nil {
			_ = unix.Close(fd)
			continue
		}
		s.clients[int32(fd)] = &client{fd: int32(fd)}
	}
}

func (s *server) drop(fd int32) {
	if c := s.clients[fd]; c != nil {
		for _, ch := range c.chans {
			s.leave(ch, fd)
		}
	}
	_ = unix.EpollCtl(s.ep, unix.EPOLL_CTL_DEL, int(fd), nil)
	_ = unix.Close(int(fd))
	delete(s.clients, fd)
}

// resetAll closes every connection with a reset.
func (s *server) resetAll() {
	for fd := range s.clients {
		_ = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		_ = unix.Close(int(fd))
	}
}

func (s *server) join(ch string, fd int32, c *client) {
	room := s.rooms[ch]
	if room == nil {
		room = map[int32]struct{}{}
		s.rooms[ch] = room
	}
	if _, ok := room[fd]; !ok {
		room[fd] = struct{}{}
		c.chans = append(c.chans, ch)
	}
}

func (s *server) leave(ch string, fd int32) {
	if room := s.rooms[ch]; room != nil {
		delete(room, fd)
		if len(room) == 0 {
			delete(s.rooms, ch)
		}
	}
}

// handle consumes what it can of data, appending the answers to out. keep is
// false when the connection is to be closed.
func (s *server) handle(c *client, data, out []byte) (_ []byte, used int, keep bool) {
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
			if proto.Scan(f.Payload, &m) != nil {
				continue
			}
			out = s.request(c, &m, out)
		case frame.OpPing:
			out = frame.AppendFrame(out, true, frame.OpPong, 0, f.Payload, nil)
		case frame.OpClose:
			out = frame.AppendFrame(out, true, frame.OpClose, 0, f.Payload, nil)
			return out, len(data), false
		}
	}
	return out, used, true
}

// request runs one text message and appends its answer (if it has an id).
func (s *server) request(c *client, m *proto.Msg, out []byte) []byte {
	event, data := string(m.Event), m.Data
	switch {
	case (event == "subscribe" || event == "unsubscribe") && len(m.Channel) > 0:
		fd := c.fd
		if event == "subscribe" {
			s.join(string(m.Channel), fd, c)
		} else {
			s.leave(string(m.Channel), fd)
			for i, ch := range c.chans {
				if ch == string(m.Channel) {
					c.chans = append(c.chans[:i], c.chans[i+1:]...)
					break
				}
			}
		}
		data = nil
	case event == s.event:
		ch := "room"
		if len(m.Channel) > 0 {
			ch = string(m.Channel)
		}
		s.publish(ch, m)
		data = nil
	}
	if len(m.ID) == 0 {
		return out
	}
	s.reply = append(s.reply[:0], `{"id":"`...)
	s.reply = append(s.reply, m.ID...)
	s.reply = append(s.reply, `","event":"`...)
	s.reply = append(s.reply, m.Event...)
	s.reply = append(s.reply, `","ok":true`...)
	if data != nil {
		s.reply = append(append(s.reply, `,"data":`...), data...)
	}
	s.reply = append(s.reply, '}')
	return frame.AppendFrame(out, true, frame.OpText, 0, s.reply, nil)
}

// publish frames {"channel","event","data"} once and writes it to every
// subscriber of ch, one write(2) each; a subscriber that does not take the
// whole frame at once is dropped.
func (s *server) publish(ch string, m *proto.Msg) {
	room := s.rooms[ch]
	if len(room) == 0 {
		return
	}
	p := append(s.pkt[:0], `{"channel":`...)
	p = proto.AppendString(p, ch)
	p = append(p, `,"event":"`...)
	p = append(p, m.Event...)
	p = append(p, '"')
	if m.Data != nil {
		p = append(append(p, `,"data":`...), m.Data...)
	}
	p = append(p, '}')
	n := len(p)
	p = frame.AppendFrame(p, true, frame.OpText, 0, p[:n], nil)
	s.pkt = p
	f := p[n:]
	for fd := range room {
		if w, err := unix.Write(int(fd), f); err != nil || w < len(f) {
			s.drop(fd)
		}
	}
}
