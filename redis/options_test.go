package wsredis

import (
	"testing"
	"time"
)

// The heartbeat (and the reap that rides on it) follows NodeTTL unless set:
// a deployment that allows a node 30 s of silence does not pay for a beat a
// second on every node.
func TestHeartbeatFollowsNodeTTL(t *testing.T) {
	for _, c := range []struct {
		in            Options
		beat, nodeTTL time.Duration
	}{
		{Options{}, time.Second, 5 * time.Second},
		{Options{NodeTTL: 30 * time.Second}, 6 * time.Second, 30 * time.Second},
		{Options{NodeTTL: 30 * time.Second, HeartbeatInterval: time.Second}, time.Second, 30 * time.Second},
		{Options{HeartbeatInterval: 10 * time.Second}, 10 * time.Second, 20 * time.Second}, // NodeTTL at least two beats
		{Options{NodeTTL: time.Microsecond}, time.Millisecond, 2 * time.Millisecond},       // never a beat of zero
	} {
		o := c.in.withDefaults()
		if o.HeartbeatInterval != c.beat || o.NodeTTL != c.nodeTTL {
			t.Errorf("%+v: heartbeat %v, NodeTTL %v; want %v, %v", c.in, o.HeartbeatInterval, o.NodeTTL, c.beat, c.nodeTTL)
		}
	}
}
