package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/poller"
)

// progressEvery is how often a worker reports its counters.
const progressEvery = 250 * time.Millisecond

// Serve is a worker's main loop: it reads steps from in, runs them one at a
// time and writes replies and events to out, until in ends (the coordinator
// closed it or died); it then closes its connections and returns.
func Serve(in io.Reader, out io.Writer) error {
	limit, err := poller.RaiseFileLimit()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	write := func(l line) {
		mu.Lock()
		defer mu.Unlock()
		// A coordinator that went away is noticed on stdin; nothing to do here.
		_ = enc.Encode(l)
	}
	l := newUnconfigured(func(_ int, e Event) { write(line{Event: &e}) })
	write(line{Hello: &Hello{PID: os.Getpid(), FDLimit: limit}})

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		var last client.Counters
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if c := l.Counters(); c != last {
					last = c
					write(line{Event: &Event{Counters: &c}})
				}
			}
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dec := json.NewDecoder(in)
	for {
		var cmd Cmd
		if err := dec.Decode(&cmd); err != nil {
			l.Close()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		rep, err := l.Do(ctx, cmd)
		rp := reply{ID: cmd.ID, Report: &rep}
		if err != nil {
			rp.Err = err.Error()
		}
		write(line{Reply: &rp})
	}
}
