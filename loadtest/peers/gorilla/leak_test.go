package main

import (
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive its tests (the
// transport's process-lifetime goroutines aside).
func TestMain(m *testing.M) {
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}
