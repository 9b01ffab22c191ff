package conn

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines outlive the tests. The wheel,
// the flusher pool and netpoll's pollers live as long as the process and are
// expected; anything else still running is a leak.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(3 * time.Second); leaked != "" {
			fmt.Fprintln(os.Stderr, "goroutines leaked:\n"+leaked)
			code = 1
		}
	}
	os.Exit(code)
}

var expectedGoroutines = []string{
	"testing.(*M).Run", "testing.Main", "runtime.goexit0", "main.main",
	"poller.(*Wheel).run", "conn.(*flusher).run",
	"netpoll.(*defaultPoll).Wait", "netpoll.(*manager).Run",
	"gopool.(*worker).run", "os/signal.signal_recv", "leakedGoroutines",
}

func leakedGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
	next:
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, ok := range expectedGoroutines {
				if strings.Contains(g, ok) {
					continue next
				}
			}
			leaked = append(leaked, g)
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
