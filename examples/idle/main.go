// Command idle holds many idle WebSocket connections to a server and reports
// what they cost the server: RSS per connection (from /proc/<pid>/status) and,
// when the server exposes it (examples/echo -stats-addr), its goroutines and
// heap. Connections are spread over source addresses 127.0.0.2 and up so the
// ephemeral ports of one address never run out.
//
//	go run ./examples/echo -addr 127.0.0.1:9001 -stats-addr 127.0.0.1:9002 &
//	go run ./examples/idle -url ws://127.0.0.1:9001/ -n 18000 -server-pid $! -stats-url http://127.0.0.1:9002/
//
// Against the hub (examples/chat), -subscribe room makes every connection a
// subscriber of channel room.
//
// -mode half-frame and -mode half-handshake make every connection stop in the
// middle of a frame or of the handshake instead, to show that such clients do
// not pin a goroutine each on the server.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:9001/", "server URL (loopback)")
	n := flag.Int("n", 10000, "connections to hold")
	mode := flag.String("mode", "open", "open | half-frame | half-handshake")
	pid := flag.Int("server-pid", 0, "server process id, to read its RSS")
	statsURL := flag.String("stats-url", "", "server stats endpoint (examples/echo -stats-addr)")
	hold := flag.Duration("hold", 3*time.Second, "how long to hold the connections before measuring")
	conc := flag.Int("concurrency", 64, "dials in flight")
	subscribe := flag.String("subscribe", "", "after connecting, subscribe to this channel with the hub protocol")
	flag.Parse()

	limit, err := poller.RaiseFileLimit()
	if err != nil {
		log.Fatal(err)
	}
	if uint64(*n)+64 > limit {
		log.Fatalf("-n %d needs more file descriptors than this process may hold (%d): run several processes", *n, limit)
	}
	host := strings.TrimPrefix(strings.TrimPrefix(*url, "ws://"), "http://")
	host = host[:strings.IndexByte(host+"/", '/')]

	before := readProc(*pid)
	beforeStats := readStats(*statsURL)
	var (
		opened  atomic.Int64
		failed  atomic.Int64
		keep    sync.Map // raw net.Conns of the half modes
		dialer  = &conn.Dialer{Handler: conn.HandlerFuncs{}}
		sem     = make(chan struct{}, *conc)
		wg      sync.WaitGroup
		started = time.Now()
	)
	for i := range *n {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))}
			var err error
			switch *mode {
			case "open":
				var c *conn.Conn
				c, _, err = dialer.DialFrom(context.Background(), *url, local)
				if err == nil && *subscribe != "" {
					err = c.Write(frame.OpText, []byte(`{"event":"subscribe","channel":"`+*subscribe+`"}`))
				}
			default:
				var nc net.Conn
				nc, err = (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).Dial("tcp", host)
				if err == nil {
					err = halfSend(nc, *mode, host)
					keep.Store(i, nc)
				}
			}
			if err != nil {
				if failed.Add(1) <= 5 {
					log.Printf("connection %d: %v", i, err)
				}
				return
			}
			opened.Add(1)
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(started)
	time.Sleep(*hold)
	after := readProc(*pid)
	afterStats := readStats(*statsURL)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	o := opened.Load()
	fmt.Printf("mode=%s connections=%d failed=%d connect_rate=%.0f/s\n", *mode, o, failed.Load(), float64(o)/elapsed.Seconds())
	if *pid > 0 && o > 0 {
		fmt.Printf("server_rss_before_kb=%d server_rss_after_kb=%d server_rss_per_conn_bytes=%.0f\n",
			before, after, float64(after-before)*1024/float64(o))
	}
	if afterStats != nil {
		fmt.Printf("server_goroutines_before=%v server_goroutines_after=%v server_heap_inuse_per_conn_bytes=%.0f\n",
			beforeStats["goroutines"], afterStats["goroutines"],
			(afterStats["heap_inuse"]-beforeStats["heap_inuse"])/float64(o))
	}
	fmt.Printf("client_rss_kb=%d client_goroutines=%d\n", readProc(os.Getpid()), runtime.NumGoroutine())
}

// halfSend writes part of a handshake, or a whole handshake and half a frame.
func halfSend(nc net.Conn, mode, host string) error {
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + frame.NewKey() + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if mode == "half-handshake" {
		_, err := nc.Write([]byte(req[:len(req)/2]))
		return err
	}
	if _, err := nc.Write([]byte(req)); err != nil {
		return err
	}
	buf := make([]byte, 512)
	if _, err := nc.Read(buf); err != nil { // the 101
		return err
	}
	mask := frame.NewMask()
	f := frame.AppendFrame(nil, true, frame.OpText, 0, make([]byte, 100), &mask)
	_, err := nc.Write(f[:len(f)/2])
	return err
}

func readProc(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}

func readStats(url string) map[string]float64 {
	if url == "" {
		return nil
	}
	resp, err := http.Get(url)
	if err != nil {
		log.Printf("stats: %v", err)
		return nil
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}
