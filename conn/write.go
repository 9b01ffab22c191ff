package conn

import (
	"errors"
	"math"
	"sync"
	"syscall"
	"unsafe"

	"github.com/surge-ws/ws/frame"
	"golang.org/x/sys/unix"
)

// Write sends one unfragmented message (frame.OpText or frame.OpBinary) or a
// ping or pong (ErrOpCode for anything else: close with Close). payload is copied; the caller may reuse it at once. On a
// dialed connection the frame is masked with a fresh key; when
// permessage-deflate was negotiated, data messages of 64 bytes or more are
// compressed. A frame of up to 512 bytes is built in a pooled buffer that
// goes back once written, so an uncompressed reply-sized message costs no
// allocation.
func (c *Conn) Write(op frame.OpCode, payload []byte) error {
	var mask *[4]byte
	if c.dec.Client {
		m := frame.NewMask()
		mask = &m
	}
	if err := checkOp(op, len(payload)); err != nil {
		return err
	}
	var rsv byte
	if c.deflate && !frame.IsControl(op) && len(payload) >= frame.CompressMin {
		payload, rsv = frame.Compress(nil, payload), frame.RSV1
	}
	n := frame.HeaderLen(int64(len(payload)), mask != nil) + len(payload)
	f := outFrame{data: !frame.IsControl(op)}
	if n <= frameBufSize {
		// A reply-sized frame borrows its buffer: the writer returns it.
		f.b, f.pooled = framePool.Get().(*frameBuf)[:0], true
	} else {
		f.b = make([]byte, 0, n)
	}
	f.b = frame.AppendFrame(f.b, true, op, rsv, payload, mask)
	return c.enqueue(f, true)
}

// checkOp refuses what a caller may not write: a close frame (it must go
// through Close, which stops the writes after it), a continuation frame, a
// reserved opcode, or a control payload over 125 bytes.
func checkOp(op frame.OpCode, n int) error {
	switch op {
	case frame.OpText, frame.OpBinary:
		return nil
	case frame.OpPing, frame.OpPong:
		if n > 125 {
			return ErrControlTooLong
		}
		return nil
	}
	return ErrOpCode
}

// frameBufSize is the largest frame Write builds in a pooled buffer.
const frameBufSize = 512

type frameBuf = [frameBufSize]byte

// framePool lends Write the buffers of small frames, so writing a reply
// allocates nothing once the pool is warm. A buffer goes back when its frame
// has been written (releaseWritten); frames dropped unwritten (a failed or
// closed connection) leave theirs to the collector.
var framePool = sync.Pool{New: func() any { return new(frameBuf) }}

// releaseWritten returns the pooled buffers of written frames to framePool.
func releaseWritten(batch []outFrame) {
	for i := range batch {
		if batch[i].pooled {
			framePool.Put((*frameBuf)(batch[i].b[:frameBufSize]))
		}
	}
}

// WritePrepared sends a prepared message. The bytes are shared, not copied:
// a publish to many connections encodes once. On a dialed connection the
// frame must be masked, so it is copied.
//
// Like Write, it writes on the calling goroutine when nothing else is
// queued or being written for the connection: a reply leaves in one system
// call, without a hand-off. Called from inside a Handler callback of the same
// connection, it leaves when the callback batch returns, with the others.
func (c *Conn) WritePrepared(p *frame.Prepared) error {
	if err := checkOp(p.Op(), len(p.Payload())); err != nil {
		return err
	}
	if c.dec.Client {
		return c.Write(p.Op(), p.Payload())
	}
	return c.enqueue(outFrame{b: p.Bytes(c.deflate), data: !frame.IsControl(p.Op())}, true)
}

// Enqueue queues a prepared message and returns at once; the process's
// flusher goroutines write it. Use it for fan-out: the publisher does no
// system call, the flushers spread the writes over the CPUs, and when
// messages come faster than they leave, everything queued for a connection
// leaves in one writev. Errors are those of Write.
func (c *Conn) Enqueue(p *frame.Prepared) error {
	if err := checkOp(p.Op(), len(p.Payload())); err != nil {
		return err
	}
	if c.dec.Client {
		return c.Write(p.Op(), p.Payload())
	}
	return c.enqueue(outFrame{b: p.Bytes(c.deflate), data: !frame.IsControl(p.Op())}, false)
}

// enqueue adds f to the queue and makes sure someone will write it: the
// caller itself when inline and the connection is idle, else the writer
// already on it, the input goroutine on its return, or a flusher.
func (c *Conn) enqueue(f outFrame, inline bool) error {
	c.mu.Lock()
	queued, err := c.offerLocked(f)
	if !queued {
		c.mu.Unlock()
		return err
	}
	c.kickLocked(inline && err == nil)
	return err
}

// offerLocked applies the queue's bounds to f and queues it, or on overflow
// with OverflowClose queues the close frame instead. queued reports whether
// the queue changed (someone must write it); err is ErrClosed or
// ErrQueueFull when f was refused. mu is held throughout.
func (c *Conn) offerLocked(f outFrame) (queued bool, err error) {
	if c.closeSent || c.state.Load() == stateClosed {
		return false, ErrClosed
	}
	// The byte bound applies once something is queued: a single message
	// larger than the bound (but within MaxMessageSize) still goes out.
	if f.data && (int(c.qMsgs) >= c.eng.cfg.SendQueue || (c.qMsgs > 0 && int(c.qBytes)+len(f.b) > c.eng.cfg.SendQueueBytes)) {
		if c.eng.cfg.Overflow == OverflowDrop {
			return false, ErrQueueFull
		}
		// Unsent frames are dropped: the client must resynchronise anyway,
		// and the close frame should not wait behind them.
		c.dropQueuedLocked()
		c.queueCloseLocked(frame.ClosePolicyViolation, "send buffer full", true)
		return true, ErrQueueFull
	}
	c.pushLocked(f)
	return true, nil
}

// EnqueueMany is Enqueue of p to every connection in conns, for a fan-out:
// the connections that need a flusher are handed over in one step rather
// than one lock of the flusher queue per connection. failed, if not nil, is
// called on the caller's goroutine for each connection that refused p (with
// ErrClosed or ErrQueueFull). It returns how many accepted p.
func EnqueueMany(conns []*Conn, p *frame.Prepared, failed func(*Conn, error)) int {
	if err := checkOp(p.Op(), len(p.Payload())); err != nil {
		if failed != nil {
			for _, c := range conns {
				failed(c, err)
			}
		}
		return 0
	}
	bp := readyPool.Get().(*[]*Conn)
	ready := (*bp)[:0]
	var fl *flusher
	sent := 0
	for _, c := range conns {
		var err error
		if c.dec.Client {
			err = c.Enqueue(p) // masked: a copy per connection anyway
		} else {
			c.mu.Lock()
			var queued bool
			queued, err = c.offerLocked(outFrame{b: p.Bytes(c.deflate), data: !frame.IsControl(p.Op())})
			if queued && !c.flushing && !c.scheduled && !c.reading {
				c.scheduled = true
				ready = append(ready, c)
				fl = c.eng.flush
			}
			c.mu.Unlock()
		}
		if err != nil {
			if failed != nil {
				failed(c, err)
			}
			continue
		}
		sent++
	}
	if len(ready) > 0 {
		fl.submitMany(ready)
	}
	clear(ready)
	*bp = ready[:0]
	readyPool.Put(bp)
	return sent
}

var readyPool = sync.Pool{New: func() any { s := make([]*Conn, 0, 256); return &s }}

func (c *Conn) pushLocked(f outFrame) {
	c.q = append(c.q, f)
	if f.data {
		c.qMsgs++
		c.qBytes += int32(min(len(f.b), math.MaxInt32-int(c.qBytes)))
	}
}

func (c *Conn) dropQueuedLocked() {
	clear(c.q)
	c.q = c.q[:0]
	c.qMsgs, c.qBytes = 0, 0
}

// inlineFlushAt is how many frames may pile up while the input goroutine
// runs before they are written without waiting for it to return: a client
// that pipelines hundreds of requests in one packet must not overflow its
// own send queue with the replies.
const inlineFlushAt = 32

// kickLocked schedules a flush unless a writer is already on it; with inline
// the caller writes, now. Called with mu held; releases it.
func (c *Conn) kickLocked(inline bool) {
	if c.flushing || c.scheduled {
		c.mu.Unlock()
		return
	}
	if (c.reading && len(c.q) >= inlineFlushAt) || (inline && !c.reading) {
		c.flushing = true
		iov := iovecPool.Get().(*iovecs)
		c.drainLocked(iov)
		iovecPool.Put(iov)
		return
	}
	if c.reading {
		c.mu.Unlock()
		return // endRead writes them, all in one call
	}
	c.scheduled = true
	c.mu.Unlock()
	c.eng.flush.submit(c)
}

// flushScheduled runs on a flusher goroutine.
func (c *Conn) flushScheduled(iov *iovecs) {
	c.mu.Lock()
	c.scheduled = false
	if c.flushing || c.reading {
		c.mu.Unlock()
		return
	}
	c.flushing = true
	c.drainLocked(iov)
}

// drainLocked writes the queue until it is empty or the kernel stops taking
// bytes; in the latter case a goroutine finishes the job through netpoll's
// writer, which waits for the socket to become writable. Called with mu held
// and flushing set; releases mu.
func (c *Conn) drainLocked(iov *iovecs) {
	for {
		batch := c.takeLocked()
		if batch == nil {
			return
		}

		if !c.acquireFD() {
			c.writeFailed(ErrClosed)
			return
		}
		written, err := iov.write(int(c.fd), batch)
		c.releaseFD()
		if err != nil {
			c.writeFailed(err)
			return
		}
		if written < len(batch) || iov.partial > 0 {
			// The kernel's send buffer is full: the rest waits for it to drain.
			rest := batch[written:]
			go c.slowFlush(rest, iov.partial, batch)
			return
		}
		sentClose := false
		for i := range batch {
			sentClose = sentClose || batch[i].close
		}
		releaseWritten(batch)
		clear(batch)
		c.mu.Lock()
		if sentClose {
			c.closeDone = true
		}
		if c.q == nil {
			c.q = batch[:0] // reuse the slice: a busy connection allocates no queue
		}
	}
}

// takeLocked takes the whole queue for the writer, releasing mu. When there is
// nothing to write it ends the flush instead (and closes the socket if that
// was the last thing to do) and returns nil.
func (c *Conn) takeLocked() []outFrame {
	if len(c.q) == 0 || c.state.Load() == stateClosed {
		c.flushing = false
		hangup := c.hangupDueLocked()
		c.mu.Unlock()
		if hangup {
			c.hangupSocket()
		}
		return nil
	}
	batch := c.q
	c.q = nil
	c.qMsgs, c.qBytes = 0, 0
	c.mu.Unlock()
	return batch
}

// slowFlush writes frames the kernel did not take at once. It runs on its own
// goroutine, which exists only while such a write is pending.
func (c *Conn) slowFlush(rest []outFrame, skip int, batch []outFrame) {
	w := c.np.Writer()
	for {
		sentClose := false
		for i, f := range rest {
			b := f.b
			if i == 0 {
				b = b[skip:]
			}
			if _, err := w.WriteBinary(b); err != nil {
				c.writeFailed(err)
				return
			}
			sentClose = sentClose || f.close
		}
		if err := w.Flush(); err != nil {
			c.writeFailed(err)
			return
		}
		releaseWritten(batch)
		clear(batch)
		c.mu.Lock()
		if sentClose {
			c.closeDone = true
		}
		if batch = c.takeLocked(); batch == nil {
			return
		}
		rest, skip = batch, 0
	}
}

func (c *Conn) writeFailed(err error) {
	c.mu.Lock()
	c.flushing = false
	c.dropQueuedLocked()
	c.mu.Unlock()
	if !errors.Is(err, unix.EPIPE) && !errors.Is(err, unix.ECONNRESET) && err != ErrClosed {
		c.eng.cfg.Logger.Debug("conn: write failed", "remote", c.RemoteAddr(), "err", err)
	}
	c.closeSocket()
}

// iovecs is a writer's scratch space for writev; each flushing goroutine has
// its own, so a flush allocates nothing.
type iovecs struct {
	v       [maxIovecs]unix.Iovec
	partial int // bytes of batch[written] already written
}

const maxIovecs = 64

// iovecPool lends scratch space to goroutines that write inline: a 1 KiB
// array on their stacks would make every short-lived goroutine grow (copy)
// its stack.
var iovecPool = sync.Pool{New: func() any { return new(iovecs) }}

// write writes batch with as few system calls as the kernel allows. It returns
// how many whole frames were written; iov.partial tells how much of the next
// one was. EAGAIN is not an error: it just stops the loop.
func (iov *iovecs) write(fd int, batch []outFrame) (written int, err error) {
	iov.partial = 0
	for written < len(batch) {
		n := min(len(batch)-written, maxIovecs)
		total := 0
		for i := range n {
			b := batch[written+i].b
			iov.v[i].Base = unsafe.SliceData(b)
			iov.v[i].SetLen(len(b))
			total += len(b)
		}
		var r uintptr
		var e syscall.Errno
		if n == 1 {
			r, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(iov.v[0].Base)), uintptr(total))
		} else {
			r, _, e = syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov.v[0])), uintptr(n))
		}
		clear(iov.v[:n])
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.EAGAIN {
			return written, nil
		}
		if e != 0 {
			return written, e
		}
		done := int(r)
		for done > 0 {
			l := len(batch[written].b)
			if done < l {
				iov.partial = done
				return written, nil
			}
			done -= l
			written++
		}
		if int(r) < total {
			return written, nil
		}
	}
	return written, nil
}
