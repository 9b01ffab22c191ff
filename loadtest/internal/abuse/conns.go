package abuse

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// capConns is slowloris-capped's limit of connections per address.
const capConns = 64

// dialConc bounds the dials in flight of the cases that open many
// connections.
const dialConc = 64

// many runs f for n connections, dialConc at a time.
func many(ctx context.Context, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, dialConc) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// holdConns opens n TCP connections and hands each to hold, which runs
// until the connection ends; all are open at once. It reports how long the
// server took to close them.
func (e *env) holdConns(ctx context.Context, n int, hold func(nc *net.TCPConn, until time.Time) string) {
	closed := hist.Recorder{}
	var wg sync.WaitGroup
	many(ctx, n, func(i int) {
		e.offenders.Add(1)
		nc, err := dialTCP(ctx, e.t, e.src(), e.o.Timeout)
		if err != nil {
			e.got.Add("dial: " + trimErr(err))
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer nc.Close()
			start := time.Now()
			end := hold(nc, start.Add(e.sz.Hold))
			e.got.Add(end)
			if end != "still open at the deadline" {
				closed.Record(i, time.Since(start))
			}
		}()
	})
	wg.Wait()
	if h := closed.Hist(); h.Count() > 0 {
		e.note("the server ended %d connections after p50 %.1f s, max %.1f s", h.Count(), h.Quantile(0.5).Seconds(), h.Max().Seconds())
	}
}

// trickle sends the upgrade request one byte per sizes.Trickle (all but
// its last byte: the request never completes) until the server answers or
// ends the connection, or until.
func (e *env) trickle(nc *net.TCPConn, until time.Time) string {
	req := frame.AppendRequest(nil, e.t.host, e.t.uri, frame.NewKey(), nil, false, nil)
	buf := make([]byte, 512)
	for i := 0; time.Now().Before(until); i++ {
		if i < len(req)-1 {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := nc.Write(req[i : i+1]); err != nil {
				return "ended by the server (our write: " + endReason(err) + ")"
			}
			e.sent.Add(1)
		}
		_ = nc.SetReadDeadline(minTime(time.Now().Add(e.sz.Trickle), until))
		n, err := nc.Read(buf)
		if n > 0 {
			return statusOf(buf[:n])
		}
		if err != nil && !isTimeout(err) {
			return endReason(err)
		}
	}
	return "still open at the deadline"
}

// silent sends nothing and waits for the server to end the connection.
func (e *env) silent(nc *net.TCPConn, until time.Time) string {
	_ = nc.SetReadDeadline(until)
	buf := make([]byte, 512)
	n, err := nc.Read(buf)
	if n > 0 {
		return statusOf(buf[:n])
	}
	return endReason(err)
}

func statusOf(b []byte) string {
	if f := bytes.Fields(b); len(f) >= 2 && bytes.HasPrefix(f[0], []byte("HTTP/")) {
		return "http " + string(f[1])
	}
	return "an answer that is not HTTP"
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// stillOpen fails a case whose connections the server did not end.
func stillOpen(_ *env, got map[string]int64) error {
	if n := got["still open at the deadline"]; n > 0 {
		return fmt.Errorf("%d connections still open at the deadline", n)
	}
	if n := count(got, "dial: "); n > 0 {
		return fmt.Errorf("%d dials failed", n)
	}
	return nil
}

var connCases = []Case{
	{
		Name:   "ping-flood",
		Server: ServerChat,
		What:   "one client sends -flood ping frames as fast as TCP takes them, reading the pongs, then leaves",
		Expect: "pongs (the connection stays open)",
		run: func(ctx context.Context, e *env) error {
			c, err := e.dial(ctx, e.src())
			if err != nil {
				return nil
			}
			r := e.startReader(c, func(kind string) bool { return kind == "pong" })
			sent := e.pump(c, e.sz.Flood, func(dst []byte, i int) []byte {
				var p [8]byte
				binary.BigEndian.PutUint64(p[:], uint64(i))
				return appendMasked(dst, frame.OpPing, p[:])
			})
			r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout))
			e.goodbye(c, r)
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if got["pong"] == 0 && count(got, "close 1008") == 0 {
				return fmt.Errorf("neither a pong nor close 1008")
			}
			return nil
		},
	},
	{
		Name:   "ping-flood-noread",
		Server: ServerChat,
		What:   "one client (4 KiB receive buffer) sends -ping-flood 125-byte pings without reading, then reads for 2 s",
		Expect: "pongs up to what the buffers and a bounded queue hold, or close 1008; the server's RSS grows by at most 24 MiB",
		run: func(ctx context.Context, e *env) error {
			o := e.src()
			o.rcvbuf = 4096
			c, err := e.dial(ctx, o)
			if err != nil {
				return nil
			}
			defer c.nc.Close()
			payload := bytes.Repeat([]byte("p"), 125)
			e.pump(c, e.sz.PingFlood, func(dst []byte, i int) []byte { return appendMasked(dst, frame.OpPing, payload) })
			drain(c, time.Now().Add(2*time.Second), &e.got, nil)
			return nil
		},
		maxGrowth: 24 << 20,
	},
	{
		Name:   "slowloris",
		Server: ServerChat,
		What:   "-slowloris connections send their upgrade request one byte per -trickle, never finishing it",
		Expect: "ended by the server (handshake timeout, 10 s), or refused at once past a per-address handshake cap",
		run: func(ctx context.Context, e *env) error {
			e.holdConns(ctx, e.sz.Slowloris, e.trickle)
			return nil
		},
		check: stillOpen,
	},
	{
		Name:   "slowloris-spread",
		Server: ServerChat,
		What:   "-slowloris connections from 253 hosts (127.0.0.2-254) trickle their upgrade request, as slowloris",
		Expect: "ended by the server (handshake timeout, 10 s: a per-address cap does not apply)",
		run: func(ctx context.Context, e *env) error {
			e.holdConns(ctx, e.sz.Slowloris, e.trickle)
			return nil
		},
		check:  stillOpen,
		spread: true,
	},
	{
		Name:   "slowloris-capped",
		Server: ServerHostile,
		args:   []string{"-ip-max-conns", strconv.Itoa(capConns), "-ip-handshake-rate", "50", "-ip-handshake-burst", strconv.Itoa(capConns)},
		What:   "slowloris against a server with per-address limits (conn.Server.IPLimits: 64 connections, 50 new a second, bursts of 64)",
		Expect: "http 429 at once past the per-address limits; the 64 admitted ended by the handshake timeout (10 s)",
		run: func(ctx context.Context, e *env) error {
			e.holdConns(ctx, e.sz.Slowloris, e.trickle)
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if err := stillOpen(e, got); err != nil {
				return err
			}
			if n := got["http 429"]; n < int64(e.sz.Slowloris-2*capConns) {
				return fmt.Errorf("%d of %d answered 429 (at most %d may be admitted)", n, e.sz.Slowloris, 2*capConns)
			}
			return nil
		},
	},
	{
		Name:   "half-open",
		Server: ServerChat,
		What:   "-half-open TCP connections that send nothing at all",
		Expect: "ended by the server (handshake timeout, 10 s; sooner with a per-address cap)",
		run: func(ctx context.Context, e *env) error {
			e.holdConns(ctx, e.sz.HalfOpen, e.silent)
			return nil
		},
		check: stillOpen,
	},
	{
		Name:   "churn",
		Server: ServerChat,
		What:   "-churn connections, -churn-conc at a time: upgrade (every second one subscribes), then RST; every fourth resets mid-handshake",
		Expect: "every upgrade answered (101, or a refusal status from a per-address cap)",
		run: func(ctx context.Context, e *env) error {
			var next atomic.Int64
			var wg sync.WaitGroup
			for range e.sz.ChurnConc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= e.sz.Churn || ctx.Err() != nil {
							return
						}
						e.churnOnce(ctx, i)
					}
				}()
			}
			wg.Wait()
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if n := count(got, "dial: ") + count(got, "handshake: "); n > 0 {
				return fmt.Errorf("%d dials or handshakes failed", n)
			}
			return nil
		},
	},
}

// churnOnce is one churn cycle.
func (e *env) churnOnce(ctx context.Context, i int) {
	if i%4 == 3 {
		e.offenders.Add(1)
		nc, err := dialTCP(ctx, e.t, e.src(), e.o.Timeout)
		if err != nil {
			e.got.Add("dial: " + trimErr(err))
			return
		}
		req := frame.AppendRequest(nil, e.t.host, e.t.uri, frame.NewKey(), nil, false, nil)
		_ = nc.SetWriteDeadline(time.Now().Add(e.o.Timeout))
		_, _ = nc.Write(req[:len(req)/2])
		_ = nc.SetLinger(0)
		nc.Close()
		e.got.Add("reset mid-handshake (ours)")
		return
	}
	c, err := e.dial(ctx, e.src())
	if err != nil {
		return
	}
	if i%2 == 0 {
		e.roundTrip(c, "s", "subscribe", "room", nil)
	} else {
		e.got.Add("upgraded")
	}
	c.reset()
}
