package client

import (
	"context"
	"sync"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// ChurnSpec runs connect/subscribe/close cycles at Rate per second for
// Duration. Cycle i uses global index First+i for its source address.
type ChurnSpec struct {
	First    int           `json:"first"`
	Rate     float64       `json:"rate"`
	Duration time.Duration `json:"duration"`
	// Concurrency bounds cycles in flight (each is a goroutine while it
	// runs). A cycle that finds no free slot starts late and is counted.
	Concurrency int `json:"concurrency"`
}

// ChurnReport says what a Churn step did.
type ChurnReport struct {
	Cycles  int64         `json:"cycles"`
	Failed  int64         `json:"failed"`
	Late    int64         `json:"late"`
	Elapsed time.Duration `json:"elapsed"`
	Cycle   hist.Snapshot `json:"cycle"` // dial + subscribe reply + close handshake
}

// cycle lets a churn goroutine wait for its connection's callbacks.
type cycle struct {
	sub    chan bool
	closeC chan struct{}
	once   sync.Once
}

func (c *cycle) signal(ok bool) {
	select {
	case c.sub <- ok:
	default:
	}
}

func (c *cycle) closed() { c.once.Do(func() { close(c.closeC) }) }

// Churn runs the cycles and returns when the last one finished.
func (cl *Client) Churn(ctx context.Context, spec ChurnSpec) (ChurnReport, error) {
	var rep ChurnReport
	if spec.Rate <= 0 || spec.Duration <= 0 {
		return rep, nil
	}
	conc := spec.Concurrency
	if conc <= 0 {
		conc = 64
	}
	var lat hist.Recorder
	var mu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	start := time.Now()
	total := int(spec.Rate * spec.Duration.Seconds())
	for i := 0; i < total; i++ {
		at := start.Add(time.Duration(float64(i) / spec.Rate * float64(time.Second)))
		if !sleepUntil(ctx, at) {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			mu.Lock()
			rep.Late++
			mu.Unlock()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(idx int) {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			ok := cl.oneCycle(ctx, idx)
			mu.Lock()
			rep.Cycles++
			if !ok {
				rep.Failed++
			}
			mu.Unlock()
			if ok {
				lat.Record(idx, time.Since(t0))
			}
			cl.cycles.Add(1)
		}(spec.First + i)
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	var err error
	if rep.Cycle, err = lat.Hist().Snapshot(); err == nil {
		err = ctx.Err()
	}
	return rep, err
}

// oneCycle dials, subscribes, waits for the reply and closes cleanly.
func (cl *Client) oneCycle(ctx context.Context, idx int) bool {
	cy := &cycle{sub: make(chan bool, 1), closeC: make(chan struct{})}
	p := &peer{idx: int32(idx)}
	p.cycle.Store(cy)
	if !cl.dialOne(ctx, p, true) {
		return false
	}
	t := time.NewTimer(cl.cfg.Timeout)
	defer t.Stop()
	ok := false
	select {
	case ok = <-cy.sub:
	case <-cy.closeC:
	case <-t.C:
		cl.errs.Add("churn: subscribe reply not received in time")
	case <-ctx.Done():
	}
	p.set(fClosing)
	_ = p.c.Close(frame.CloseNormal, "churn")
	t.Reset(cl.cfg.Timeout)
	select {
	case <-cy.closeC:
	case <-t.C:
		cl.errs.Add("churn: close handshake not finished in time")
		ok = false
	case <-ctx.Done():
		ok = false
	}
	return ok
}
