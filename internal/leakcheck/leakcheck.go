// Package leakcheck fails a package's tests when goroutines outlive them.
//
// Each test package calls Main from its TestMain. A goroutine whose stack
// names none of the expected functions is a leak: the library's own
// process-lifetime goroutines (Library) and the test binary's are expected,
// everything else must have ended within the wait. Main is called once per
// test binary, from TestMain's goroutine.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Library lists the goroutines that live as long as the process by design:
// the timing wheel, conn's flusher pool, netpoll's pollers and the pooled
// goroutines netpoll runs callbacks on.
var Library = []string{
	"poller.(*Wheel).run", "conn.(*flusher).run",
	"netpoll.(*defaultPoll).Wait", "netpoll.(*manager).Run",
	"gopool.(*worker).run",
}

// base is what every test binary runs besides its tests.
var base = []string{
	"testing.(*M).Run", "testing.Main", "runtime.goexit0", "main.main",
	"os/signal.signal_recv", "leakcheck.stacks",
}

// Main runs the tests, then waits up to wait for the goroutines not named in
// expected (substrings of a function in their stack) nor in the base set to
// end, and exits non-zero, printing their stacks, if some still run.
func Main(m *testing.M, wait time.Duration, expected ...string) {
	code := m.Run()
	if code == 0 {
		if leaked := Leaked(wait, expected...); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// Leaked waits up to wait for the unexpected goroutines to end and returns
// the stacks of those that did not ("" if none).
func Leaked(wait time.Duration, expected ...string) string {
	deadline := time.Now().Add(wait)
	for {
		leaked := unexpected(stacks(), expected)
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func unexpected(gs, expected []string) []string {
	var leaked []string
next:
	for _, g := range gs {
		for _, lists := range [][]string{base, expected} {
			for _, name := range lists {
				if strings.Contains(g, name) {
					continue next
				}
			}
		}
		leaked = append(leaked, g)
	}
	return leaked
}
