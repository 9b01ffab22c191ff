package wsredis

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
// instead, until B has taken every packet in.
func TestBenchPublishRate(t *testing.T) {
	benchOnly(t)
	srv := startRedis(t)
	sub := exec.Command("redis-cli", "-p", strconv.Itoa(srv.port), "subscribe", "ws:chat")
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Process.Kill(); _ = sub.Wait() }()
	time.Sleep(200 * time.Millisecond)

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

	out, err := exec.Command("redis-benchmark", "-p", strconv.Itoa(srv.port), "-c", "1", "-P", strconv.Itoa(batch),
		"-n", strconv.Itoa(n), "-q", "PUBLISH", "ws:chat", strings.Repeat("x", len(env))).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`([0-9.]+) requests per second`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("redis-benchmark said %s", out)
	}
	rb, _ := strconv.ParseFloat(string(m[1]), 64)
	fmt.Printf("| hub.Publish on A, %d packets, %d goroutines, envelope %d B | %.0f/s (mean batch %d) | redis-benchmark -c 1 -P %d -n %d PUBLISH ws:chat <%d bytes> | %.0f/s | %.2f |\n",
		n, writers, len(env), rate, batch, batch, n, len(env), rb, rate/rb)

	// The receiving side: B's broker takes the stream in (and hands it to its hub, which has no
	// local subscriber).
	b := startNode(t, srv.addr(), "B")
	a2 := startNode(t, srv.addr(), "A2")
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

// TestBenchLayout: 50 simulated nodes (50 Pub/Sub connections). One Redis channel per hub, which every
// node receives, against one Redis channel per hub channel, which only the nodes with subscribers
// hold (centrifuge's layout), for a channel held by one node (a user's notifications) and by all 50
// (a room everyone is in). Redis CPU per publish from INFO cpu.
func TestBenchLayout(t *testing.T) {
	benchOnly(t)
	srv := startRedis(t)
	ctx := context.Background()
	pub := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer pub.Close()
	const nodes, n = 50, 50_000
	payload := strings.Repeat("x", 120)
	cpu := func() float64 {
		var total float64
		for _, line := range strings.Split(pub.Info(ctx, "cpu").Val(), "\r\n") {
			for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
				if v, ok := strings.CutPrefix(line, k); ok {
					f, _ := strconv.ParseFloat(v, 64)
					total += f
				}
			}
		}
		return total
	}
	run := func(name string, subscribe func(i int) []string, channel func(k int) string) {
		var received atomic.Int64
		var subs []*redis.PubSub
		for i := range nodes {
			ps := pub.Subscribe(ctx, subscribe(i)...)
			for range subscribe(i) {
				if _, err := ps.Receive(ctx); err != nil {
					t.Fatal(err)
				}
			}
			subs = append(subs, ps)
			go func() {
				for {
					if _, err := ps.Receive(ctx); err != nil {
						return
					}
					received.Add(1)
				}
			}()
		}
		c0 := cpu()
		start := time.Now()
		pipe := pub.Pipeline()
		var want int64
		for k := range n {
			ch := channel(k)
			pipe.Publish(ctx, ch, payload)
			if k%512 == 511 || k == n-1 {
				cmds, err := pipe.Exec(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cmds {
					want += c.(*redis.IntCmd).Val()
				}
			}
		}
		within(t, 60*time.Second, name+": every delivery", func() bool { return received.Load() >= want })
		el := time.Since(start)
		used := cpu() - c0
		fmt.Printf("| %s | %.0f publishes/s | %.1f deliveries per publish | Redis CPU %.2f us per publish |\n",
			name, float64(n)/el.Seconds(), float64(want)/n, used*1e6/n)
		for _, ps := range subs {
			_ = ps.Close()
		}
	}
	all := func(int) []string { return []string{"ws:chat"} }
	perNode := func(i int) []string { // 20 channels held by each node
		var out []string
		for j := range 20 {
			out = append(out, "ws:chat:"+strconv.Itoa(i)+":"+strconv.Itoa(j))
		}
		return out
	}
	everyone := func(i int) []string { return append(perNode(i), "ws:chat:room") }
	run("hub channel: every node receives every packet", all, func(int) string { return "ws:chat" })
	run("channel per hub channel, channel held by 1 node", perNode, func(k int) string {
		return "ws:chat:" + strconv.Itoa(k%nodes) + ":" + strconv.Itoa(k%20)
	})
	run("channel per hub channel, channel held by all 50", everyone, func(int) string { return "ws:chat:room" })
}
