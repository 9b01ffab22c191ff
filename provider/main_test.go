package provider

import (
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Main(m, 3*time.Second, leakcheck.Library...)
}
