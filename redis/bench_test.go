package wsredis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
)

// The figures of docs/benchmarks.md ("Redis"). They run only with WSREDIS_BENCH=1, on a redis-server of
// their own, and print Markdown rows:
//
//	WSREDIS_BENCH=1 go test -run 'TestBench' -v ./redis/
func benchOnly(t *testing.T) {
	if os.Getenv("WSREDIS_BENCH") == "" {
		t.Skip("set WSREDIS_BENCH=1 to measure")
	}
}

// payload is a chat packet's data of about 64 bytes, as the hub would encode it.
const benchData = `{"name":"ann","text":"hello, this is a message of some length"}`

// TestBenchPublishRate: what one node can publish across nodes. Packets published on node A
// (hub.Publish from 8 goroutines, no local subscriber) until Redis has accepted them all, against
// redis-benchmark sending PUBLISH of the envelope's size on one connection with the pipeline depth the
// broker's batches had; in both runs the same subscriber (redis-cli, output to /dev/null) gives Redis
// the same fan-out. Then what one node can receive: the same stream with node B's broker subscribed
// instead, until B has taken every packet in (with WSREDIS_BENCH_RECEIVE=1).
func TestBenchPublishRate(t *testing.T) {
	benchOnly(t)
	srv := startRedis(t)
	// The subscriber reads and discards: it must keep up, or Redis drops it at its pubsub output
	// buffer limit (redis-cli, which prints every message, did not) and the runs compare different work.
	sub, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Write([]byte("SUBSCRIBE ws:chat#room\r\n")); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, sub) }()
	probe := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer probe.Close()
	subscribed := func() bool {
		return probe.PubSubNumSub(context.Background(), "ws:chat#room").Val()["ws:chat#room"] == 1
	}
	within(t, 5*time.Second, "the subscriber is in place", subscribed)

	const n, writers = 400_000, 8
	publish := func(a *node) (float64, int) {
		start := time.Now()
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range n / writers {
					if err := a.h.Publish("room", "chat.message", json.RawMessage(benchData)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		within(t, 60*time.Second, "Redis accepts every packet", func() bool { return a.b.Stats().Published >= n })
		el := time.Since(start)
		st := a.b.Stats()
		return float64(n) / el.Seconds(), int(st.Published / max(st.Batches, 1))
	}
	a := startNode(t, srv.addr(), "A")
	rate, batch := publish(a)
	env := appendEnvelope(nil, &envelope{kind: kindPacket, stream: 1 << 60, seq: 100000, origin: "A", channel: "room",
		event: "chat.message", dataOff: 40, dataLen: len(benchData),
		wire: []byte(`{"channel":"room","event":"chat.message","data":` + benchData + `}`)})

	out, err := exec.Command("redis-benchmark", "-p", srv.portString(), "-c", "1", "-P", strconv.Itoa(batch),
		"-n", strconv.Itoa(n), "-q", "PUBLISH", "ws:chat#room", strings.Repeat("x", len(env))).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`([0-9.]+) requests per second`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("redis-benchmark said %s", out)
	}
	rb, _ := strconv.ParseFloat(string(m[1]), 64)
	if !subscribed() {
		t.Fatal("the subscriber was dropped: the runs did not do the same work")
	}
	fmt.Printf("| hub.Publish on A, %d packets, %d goroutines, envelope %d B | %.0f/s (mean batch %d) | redis-benchmark -c 1 -P %d -n %d PUBLISH ws:chat#room <%d bytes> | %.0f/s | %.2f |\n",
		n, writers, len(env), rate, batch, batch, n, len(env), rb, rate/rb)

	// The receiving side: B's broker takes the stream in (and hands it to its hub, which has no
	// local subscriber).
	if os.Getenv("WSREDIS_BENCH_RECEIVE") == "" {
		return
	}
	b := startNodeLayout(t, srv.addr(), "B", LayoutHub) // receives every packet of the hub
	a2 := startNodeLayout(t, srv.addr(), "A2", LayoutHub)
	start := time.Now()
	rate2, _ := publish(a2)
	within(t, 60*time.Second, "B receives every packet", func() bool { return b.b.Stats().Received >= n })
	fmt.Printf("| the same from A2 with node B (same process) receiving | A2 %.0f/s; B received all at %.0f/s |\n",
		rate2, float64(n)/time.Since(start).Seconds())
}

// TestBenchLatency: one packet every millisecond published on node A, received by a WebSocket client
// of node B; publish-to-delivery latency over 5,000 packets.
func TestBenchLatency(t *testing.T) {
	benchOnly(t)
	srv := startRedis(t)
	a, b := startNode(t, srv.addr(), "A"), startNode(t, srv.addr(), "B")
	remote := dialTicks(t, b.url, "lat")
	const n = 5000
	sent := make([]time.Time, n)
	for i := range n {
		sent[i] = time.Now()
		if err := a.h.Publish("lat", "tick", i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	within(t, 10*time.Second, "the client on B receives every packet", func() bool {
		got, _ := remote.snapshot()
		return len(got) == n
	})
	got, at := remote.snapshot()
	lat := make([]time.Duration, n)
	for i, v := range got {
		lat[i] = at[i].Sub(sent[v])
	}
	slices.Sort(lat)
	fmt.Printf("| publish on A -> WebSocket client on B, 1 packet/ms, %d packets | p50 %v | p99 %v | max %v |\n",
		n, lat[n/2].Round(time.Microsecond), lat[n*99/100].Round(time.Microsecond), lat[n-1].Round(time.Microsecond))
}

// TestBenchLayout: the two layouts with 50 nodes (50 brokers in this process, each with its Pub/Sub
// connection, counting what they receive) and one publishing broker: a channel held by one node (each
// node holds 20: a user's notifications) and a channel every node holds (a room everyone is in).
// Redis CPU from INFO cpu, this process's CPU (the 50 receivers and the publisher) from getrusage.
func TestBenchLayout(t *testing.T) {
	benchOnly(t)
	srv := startRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), PoolSize: 64})
	defer c.Close()
	const nodes, n, perNode = 50, 50_000, 20
	redisCPU := func() float64 {
		var total float64
		for _, line := range strings.Split(c.Info(ctx, "cpu").Val(), "\r\n") {
			for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
				if v, ok := strings.CutPrefix(line, k); ok {
					f, _ := strconv.ParseFloat(v, 64)
					total += f
				}
			}
		}
		return total
	}
	wire := []byte(`{"channel":"u1","event":"chat.message","data":` + benchData + `}`)
	for _, layout := range []Layout{LayoutHub, LayoutChannel} {
		for _, dense := range []bool{false, true} {
			var received, relevant atomic.Int64
			var brokers []*RedisBroker
			for i := range nodes {
				b := NewBroker(Options{Client: c, Layout: layout, Logger: quietLogger()})
				mine := map[string]bool{}
				var chans []string
				for j := range perNode {
					ch := "u" + strconv.Itoa(i*perNode+j)
					mine[ch] = true
					chans = append(chans, ch)
				}
				if dense {
					chans, mine = []string{"room"}, map[string]bool{"room": true}
				}
				m := hub.Member{Hub: "chat", Node: "n" + strconv.Itoa(i), Address: fmt.Sprintf("%016x-", i),
					Channels: func() []string { return chans },
					Packet: func(p hub.Packet) error {
						received.Add(1)
						if mine[p.Channel] {
							relevant.Add(1)
						}
						return nil
					}}
				if err := b.SubscribeHub(ctx, m); err != nil {
					t.Fatal(err)
				}
				brokers = append(brokers, b)
			}
			pub := NewBroker(Options{Client: c, Layout: layout, Logger: quietLogger()})
			want := int64(n)
			if dense {
				want = n * nodes
			}
			r0, u0 := redisCPU(), processCPU()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for k := w; k < n; k += 4 {
						ch := "room"
						if !dense {
							ch = "u" + strconv.Itoa(k%(nodes*perNode))
						}
						p := hub.Packet{Channel: ch, Event: "chat.message", Data: []byte(benchData), Origin: "pub", Encoded: wire}
						for pub.PublishHub(ctx, "chat", ch, p) != nil {
							time.Sleep(time.Millisecond)
						}
					}
				})
			}
			wg.Wait()
			within(t, 120*time.Second, "every interested node receives every packet", func() bool { return relevant.Load() >= want })
			el := time.Since(start)
			rc, uc := redisCPU()-r0, processCPU()-u0
			name := map[Layout]string{LayoutHub: "LayoutHub", LayoutChannel: "LayoutChannel"}[layout]
			what := "channel held by 1 node of 50"
			if dense {
				what = "channel held by all 50 nodes"
			}
			fmt.Printf("| %s | %s | %.0f/s | %.1f | %.1f us | %.1f us |\n", name, what, float64(n)/el.Seconds(),
				float64(received.Load())/n, rc*1e6/n, uc.Seconds()*1e6/n)
			_ = pub.Close(ctx)
			for _, b := range brokers {
				_ = b.Close(ctx)
			}
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
