package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Many goroutines write to one connection while others publish to many:
// every frame arrives, each writer's frames in the order written.
func TestConcurrentWritersKeepPerWriterOrder(t *testing.T) {
	const writers, perWriter, conns = 4, 500, 8
	srvConns := make(chan *Conn, conns)
	s := &Server{Handler: HandlerFuncs{Open: func(c *Conn) { srvConns <- c }}, Config: Config{SendQueue: 1 << 16}}
	addr := startServer(t, s)

	type got struct {
		mu   sync.Mutex
		seen map[int]int // writer -> last sequence number
		n    int
		bad  string
	}
	all := make([]*got, conns)
	done := make(chan struct{}, conns)
	for i := range conns {
		g := &got{seen: map[int]int{}}
		all[i] = g
		d := &Dialer{Handler: HandlerFuncs{Message: func(_ *Conn, _ frame.OpCode, p []byte) {
			w, seq, ok := strings.Cut(string(p), ":")
			if !ok {
				return // the "late" writes at the end
			}
			wi, _ := strconv.Atoi(w)
			si, _ := strconv.Atoi(seq)
			g.mu.Lock()
			defer g.mu.Unlock()
			if last, ok := g.seen[wi]; ok && si != last+1 && g.bad == "" {
				g.bad = fmt.Sprintf("writer %d: %d after %d", wi, si, last)
			}
			g.seen[wi] = si
			g.n++
			if g.n == writers*perWriter {
				done <- struct{}{}
			}
		}}}
		if _, _, err := d.DialFrom(context.Background(), "ws://"+addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}); err != nil {
			t.Fatal(err)
		}
	}
	var cs []*Conn
	for range conns {
		cs = append(cs, <-srvConns)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range perWriter {
				msg := []byte(fmt.Sprintf("%d:%d", w, seq))
				p := frame.NewPrepared(frame.OpText, msg)
				for i, c := range cs {
					// Half the connections get Write (a pooled frame buffer
					// per connection), half the shared Prepared frame.
					var err error
					if i%2 == 0 {
						err = c.Write(frame.OpText, msg)
					} else {
						err = c.WritePrepared(p)
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for range conns {
		<-done
	}
	for i, g := range all {
		g.mu.Lock()
		bad := g.bad
		g.mu.Unlock()
		if bad != "" {
			t.Fatalf("connection %d: order lost: %s", i, bad)
		}
	}
	// Close while writers are still writing: no panic, no race, writes fail cleanly.
	var wg2 sync.WaitGroup
	for _, c := range cs {
		wg2.Add(2)
		go func() {
			defer wg2.Done()
			for range 200 {
				_ = c.Write(frame.OpText, []byte("late"))
			}
		}()
		go func() {
			defer wg2.Done()
			_ = c.Close(frame.CloseNormal, "bye")
		}()
	}
	wg2.Wait()
}

func TestEnqueueManyDeliversAndReportsRefusals(t *testing.T) {
	const n = 20
	srvConns := make(chan *Conn, n)
	s := &Server{Handler: HandlerFuncs{Open: func(c *Conn) { srvConns <- c }}}
	addr := startServer(t, s)
	var got sync.WaitGroup
	got.Add(n - 1)
	for i := range n {
		d := &Dialer{Handler: HandlerFuncs{Message: func(_ *Conn, _ frame.OpCode, p []byte) {
			if string(p) == "to all" {
				got.Done()
			}
		}}}
		if _, _, err := d.DialFrom(context.Background(), "ws://"+addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}); err != nil {
			t.Fatal(err)
		}
	}
	var cs []*Conn
	for range n {
		cs = append(cs, <-srvConns)
	}
	_ = cs[0].Close(frame.CloseNormal, "") // refuses further writes
	var refused []*Conn
	sent := EnqueueMany(cs, frame.NewPrepared(frame.OpText, []byte("to all")), func(c *Conn, err error) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("refusal error %v", err)
		}
		refused = append(refused, c)
	})
	if sent != n-1 || len(refused) != 1 || refused[0] != cs[0] {
		t.Fatalf("sent %d, refused %v", sent, refused)
	}
	got.Wait()
}

// TestPooledFramesSurviveSlowFlush writes far more than the socket buffers
// hold to a client that reads nothing at first, so most frames wait in the
// queue and leave through the slow path: a pooled frame buffer handed back
// before its frame was written would show up as a corrupted message.
func TestPooledFramesSurviveSlowFlush(t *testing.T) {
	const n, size = 20000, 400 // 8 MB of small frames, each in a pooled buffer
	opened := make(chan *Conn, 1)
	addr := startServer(t, &Server{
		Handler: HandlerFuncs{Open: func(c *Conn) { opened <- c }},
		Config:  Config{SendQueue: 2 * n, SendQueueBytes: 1 << 30, WriteTimeout: 30 * time.Second},
	})
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-opened
	msg := func(i int) []byte {
		b := []byte(fmt.Sprintf("%08d:", i))
		for len(b) < size {
			b = append(b, byte('a'+(i+len(b))%26))
		}
		return b
	}
	for i := range n {
		if err := c.Write(frame.OpText, msg(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the kernel is full; the rest waits in the queue
	for i := range n {
		f, err := rc.next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := msg(i); string(f.Payload) != string(want) {
			t.Fatalf("message %d corrupted:\n got %q\nwant %q", i, f.Payload, want)
		}
	}
}
