package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestLeakedFindsAGoroutineThatStays(t *testing.T) {
	stop := make(chan struct{})
	go parkedForTest(stop)
	got := Leaked(50 * time.Millisecond)
	close(stop)
	if !strings.Contains(got, "parkedForTest") {
		t.Fatalf("the parked goroutine was not reported; got:\n%s", got)
	}
	if got := Leaked(2*time.Second, "testing.tRunner"); got != "" {
		t.Fatalf("reported after it ended:\n%s", got)
	}
}

func TestExpectedIsNotALeak(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go parkedForTest(stop)
	if got := Leaked(10*time.Millisecond, "parkedForTest", "testing.tRunner"); got != "" {
		t.Fatalf("an expected goroutine was reported:\n%s", got)
	}
}

func parkedForTest(stop chan struct{}) { <-stop }
