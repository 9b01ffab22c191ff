package client

import (
	"context"

	"github.com/surge-ws/ws/frame"
)

// CloseReport says how a CloseAll went.
type CloseReport struct {
	Closed    int64 `json:"closed"`
	Remaining int64 `json:"remaining"` // still open when the wait ended
}

// CloseAll closes every connection with 1000 and waits (up to the
// configured timeout) for the close handshakes, so that the server's
// memory and descriptors can be seen to return.
func (cl *Client) CloseAll(ctx context.Context) CloseReport {
	var rep CloseReport
	cl.eachPeer(func(p *peer) {
		if p.c == nil || p.set(fClosing)&(fClosed|fClosing) != 0 {
			return
		}
		if p.c.Close(frame.CloseNormal, "load test done") == nil {
			rep.Closed++
		}
	})
	cl.mu.Lock()
	slow := cl.slow
	cl.slow = nil
	cl.mu.Unlock()
	for _, nc := range slow {
		nc.Close()
		rep.Closed++
	}
	waitFor(ctx, cl.cfg.Timeout, func() bool { return cl.open.Load() <= 0 })
	rep.Remaining = max(cl.open.Load(), 0)
	return rep
}
