package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Line is a status line. Its methods are safe for concurrent use; a nil or
// disabled Line does nothing.
type Line struct {
	w       io.Writer
	every   time.Duration
	mu      sync.Mutex
	status  func() string
	stop    chan struct{}
	done    chan struct{}
	drawn   bool
	started time.Time
}

// New returns a Line on w that redraws every interval, or nil when w is not
// a terminal.
func New(w io.Writer, every time.Duration) *Line {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return NewForced(w, every)
}

// NewForced returns a Line that draws whatever w is (for tests).
func NewForced(w io.Writer, every time.Duration) *Line {
	return &Line{w: w, every: every}
}

// Set changes what the line shows: status is called at each redraw, on the
// Line's goroutine.
func (l *Line) Set(status func() string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status = status
	if l.stop == nil {
		l.stop, l.done, l.started = make(chan struct{}), make(chan struct{}), time.Now()
		go l.run(l.stop, l.done)
	}
}

func (l *Line) run(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.draw()
		}
	}
}

func (l *Line) draw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status == nil {
		return
	}
	el := time.Since(l.started).Truncate(100 * time.Millisecond)
	// \r and "erase line" so a shorter line leaves no tail of the last one.
	fmt.Fprintf(l.w, "\r\x1b[2K%s  [%s]", l.status(), el)
	l.drawn = true
}

// Stop erases the line and stops redrawing. The Line can be Set again.
func (l *Line) Stop() {
	if l == nil {
		return
	}
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop, l.done = nil, nil
	l.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprint(l.w, "\r\x1b[2K")
		l.drawn = false
	}
}

// Clear erases the line if it is drawn, so that other output can be
// written; the next redraw brings it back.
func (l *Line) Clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprint(l.w, "\r\x1b[2K")
		l.drawn = false
	}
}
