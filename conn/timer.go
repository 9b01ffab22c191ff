package conn

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
)

// Expire implements poller.Expirer; the process's timing wheel calls it on its
// own goroutine. A connection has one timer, re-armed for whichever deadline
// comes next: handshake, read timeout, ping due, pong due, close handshake.
// Reads never touch the wheel (they only stamp lastRead); a timer that finds
// the connection active since it was armed simply re-arms.
func (c *Conn) Expire(now poller.Tick) {
	switch c.state.Load() {
	case stateHandshake, stateClosing, stateLinger:
		// The handshake, the close handshake, the final write or the peer's
		// goodbye took too long. (c.eng is not read here: during the
		// handshake its goroutine may be switching it to an endpoint's.)
		c.closeSocket()
	case stateOpen:
		e := c.eng // published before the state became open
		last := poller.Tick(c.lastRead.Load())
		if c.np.Reader().Len() > 0 {
			// Input is waiting for a callback that is still busy: the peer
			// is alive even though we have not read it yet.
			last = now
		}
		readLate := e.readTicks > 0 && now-last >= e.readTicks
		pongLate := c.pingAt != 0 && last < c.pingAt && now-c.pingAt >= e.pongTicks
		if (readLate || pongLate) && c.kernelInputQueued() {
			// The peer answered; this process is what is behind (a
			// saturated machine, a burst of deadlines): closing would
			// punish a live client for our delay.
			last, readLate, pongLate = now, false, false
		}
		if readLate {
			c.fail(frame.CloseGoingAway, "read timeout")
			return
		}
		if c.pingAt != 0 {
			if last >= c.pingAt {
				c.pingAt = 0 // something came back
			} else if pongLate {
				c.fail(frame.CloseGoingAway, "pong timeout")
				return
			} else {
				e.wheel.Schedule(&c.timer, c.pingAt+e.pongTicks)
				return
			}
		}
		c.armOpen(now, last)
	}
}

// armOpen arms the timer of an open connection for its next deadline.
func (c *Conn) armOpen(now, last poller.Tick) {
	e := c.eng
	next := poller.Tick(-1)
	if e.pingTicks > 0 {
		if now-last >= e.pingTicks {
			c.writeControl(frame.OpPing, nil)
			c.pingAt = now
			next = now + e.pongTicks
		} else {
			next = pingDue(last+e.pingTicks, e.pingTicks, e.pingPhase)
		}
	}
	if e.readTicks > 0 && (next < 0 || last+e.readTicks < next) {
		next = last + e.readTicks
	}
	if next >= 0 && c.state.Load() == stateOpen {
		e.wheel.Schedule(&c.timer, next)
	}
}

// kernelInputQueued reports whether the peer sent bytes that still wait in
// the kernel's receive queue because the poller has not come round to them
// (netpoll's own buffer is looked at above, for every expiry). It costs a
// system call, so it is asked only when a deadline is about to close the
// connection, never per ping.
func (c *Conn) kernelInputQueued() bool {
	n, err := unix.IoctlGetInt(int(c.fd), unix.SIOCINQ)
	return err == nil && n > 0
}

// pingDue is when a ping falls due at tick at, for pings every interval
// ticks: at rounded up to the interval's grid, which starts at phase. On a
// grid a process's pings leave together, one wake-up for all of them, and
// their pongs come back together: at 52 processes on two cores each wake-up
// of a Go process costs more than the ping itself (docs/scaling.md). Each
// engine draws its phase at random, so that processes started together
// (their wheels count from their start) spread their wake-ups over the grid
// instead of sending every process's pings in the same second.
func pingDue(at, interval, phase poller.Tick) poller.Tick {
	grid := pingGrid(interval)
	switch {
	case grid == 1:
		return at // exact; the phase is 0
	case at <= phase:
		return phase
	}
	return (at-phase+grid-1)/grid*grid + phase
}

// pingGrid is the step of pingDue's grid: a whole number of seconds, a
// thirtieth of the interval (one second for intervals of 10 to 59 s, ten
// seconds for five minutes), so a ping comes at most 3.4% later than
// PingInterval of silence asks; intervals under ten seconds are exact (1).
func pingGrid(interval poller.Tick) poller.Tick {
	if interval < 10*ticksPerSecond {
		return 1
	}
	return max(interval/30/ticksPerSecond*ticksPerSecond, ticksPerSecond)
}

// ticksPerSecond is one second on the engine's wheel.
const ticksPerSecond = poller.Tick(time.Second / wheelTick)
