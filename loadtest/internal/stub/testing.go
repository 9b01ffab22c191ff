package stub

import (
	"context"
	"testing"
	"time"
)

// StartTest starts a stub hub on a free loopback port for the test tb and
// closes it when the test ends.
func StartTest(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}
