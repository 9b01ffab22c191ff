package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// A slow subscriber stops reading after its handshake and subscribe reply.
// The event-driven client cannot stop reading one connection (netpoll reads
// whatever arrives), so slow subscribers are plain net.Conns, dialed and
// upgraded by hand, that are then left alone: the server's writes fill the
// kernel buffers and then its own queue, which is what the slow scenario
// watches. A parked net.Conn holds no goroutine.

// SlowSpec opens N slow subscribers with global indices [First, First+N).
type SlowSpec struct {
	First       int `json:"first"`
	N           int `json:"n"`
	Concurrency int `json:"concurrency"`
	// RcvBuf sets SO_RCVBUF before connecting (0: the kernel's default). A
	// small buffer makes the server meet back-pressure after kilobytes
	// rather than the megabytes loopback's autotuned buffers would absorb.
	RcvBuf int `json:"rcvbuf"`
}

// SlowReport says what ConnectSlow did.
type SlowReport struct {
	Opened  int64         `json:"opened"`
	Failed  int64         `json:"failed"`
	Elapsed time.Duration `json:"elapsed"`
}

// ConnectSlow opens and subscribes the slow subscribers.
func (cl *Client) ConnectSlow(ctx context.Context, spec SlowSpec) (SlowReport, error) {
	var rep SlowReport
	conc := spec.Concurrency
	if conc <= 0 {
		conc = 64
	}
	start := time.Now()
	var next, opened, failed atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, spec.N) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= spec.N || ctx.Err() != nil {
					return
				}
				nc, err := cl.dialSlow(ctx, spec.First+i, spec.RcvBuf)
				if err != nil {
					failed.Add(1)
					cl.errs.Add("slow subscriber: " + trimErr(err))
					continue
				}
				opened.Add(1)
				cl.slowOpened.Add(1)
				cl.mu.Lock()
				cl.slow = append(cl.slow, nc)
				cl.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Opened, rep.Failed, rep.Elapsed = opened.Load(), failed.Load(), time.Since(start)
	rep.Failed += int64(spec.N) - rep.Opened - rep.Failed
	return rep, ctx.Err()
}

// dialSlow upgrades a plain TCP connection, subscribes it and reads up to the
// subscribe reply; after that nobody reads it.
func (cl *Client) dialSlow(ctx context.Context, idx, rcvbuf int) (net.Conn, error) {
	u, err := url.Parse(cl.cfg.URL)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	d := net.Dialer{Timeout: cl.cfg.Timeout}
	if src := cl.source(idx); src != nil {
		d.LocalAddr = src
	}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if err := handshakeSlow(nc, u, cl.cfg.Channel, cl.cfg.Timeout); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

func handshakeSlow(nc net.Conn, u *url.URL, channel string, timeout time.Duration) error {
	_ = nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	key := frame.NewKey()
	if _, err := nc.Write(frame.AppendRequest(nil, u.Host, u.RequestURI(), key, nil, false, nil)); err != nil {
		return err
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := nc.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if _, used, perr := frame.ParseResponseOffer(buf, key, false, 0); perr != nil {
			return perr
		} else if used > 0 {
			buf = buf[used:]
			break
		}
		if err != nil {
			return err
		}
	}
	mask := frame.NewMask()
	sub := proto.AppendRequest(nil, idSubscribe, "subscribe", channel, nil)
	if _, err := nc.Write(frame.AppendFrame(nil, true, frame.OpText, 0, sub, &mask)); err != nil {
		return err
	}
	dec := frame.Decoder{Client: true}
	for {
		for len(buf) > 0 {
			f, n, err := dec.Next(buf)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			buf = buf[n:]
			var m proto.Msg
			if f.Op == frame.OpText && proto.Scan(f.Payload, &m) == nil && m.Reply && string(m.ID) == idSubscribe {
				if !m.OK {
					return fmt.Errorf("subscribe refused: %s", replyError(&m))
				}
				return nil
			}
		}
		n, err := nc.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			return err
		}
	}
}

// ProbeReport says what became of the slow subscribers.
type ProbeReport struct {
	Conns int64 `json:"conns"`
	// ClosedByServer counts those the server had closed (EOF or reset once
	// the buffered bytes were read).
	ClosedByServer int64 `json:"closed_by_server"`
	// Buffered is the bytes waiting in their receive buffers.
	Buffered int64 `json:"buffered"`
}

// ProbeSlow reads each slow subscriber's pending bytes for up to budget to see
// whether the server closed it, then closes it.
func (cl *Client) ProbeSlow(budget time.Duration) ProbeReport {
	cl.mu.Lock()
	conns := cl.slow
	cl.slow = nil
	cl.mu.Unlock()
	rep := ProbeReport{Conns: int64(len(conns))}
	var closed, bytes atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	deadline := time.Now().Add(budget)
	for _, nc := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_ = nc.SetReadDeadline(deadline)
			n, err := io.Copy(io.Discard, nc)
			bytes.Add(n)
			var ne net.Error
			if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
				closed.Add(1) // EOF (nil from io.Copy) or reset
			}
			nc.Close()
		}()
	}
	wg.Wait()
	rep.ClosedByServer, rep.Buffered = closed.Load(), bytes.Load()
	return rep
}
