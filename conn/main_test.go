package conn

import (
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests. The wheel,
// the flusher pool and netpoll's pollers live as long as the process and are
// expected; anything else still running is a leak.
func TestMain(m *testing.M) {
	leakcheck.Main(m, 3*time.Second, leakcheck.Library...)
}
