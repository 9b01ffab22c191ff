package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Section 9 (limits and performance), scaled down so that it runs in
// seconds: Autobahn's sizes divided by 16 (9.1, 9.2: 4 KiB to 1 MiB instead
// of 64 KiB to 16 MiB) or by 4 (9.3, 9.4: a 1 MiB message in fragments of 16
// bytes to 1 MiB instead of 4 MiB in 64 bytes to 4 MiB; 9.5, 9.6: 256 KiB
// instead of 1 MiB, in the same chop sizes). 9.7 and 9.8 keep Autobahn's
// 1000 round trips per size.

func limitCases() []acase {
	var cs []acase
	sizes := []int{4 << 10, 16 << 10, 64 << 10, 256 << 10, 512 << 10, 1 << 20}
	for i, n := range sizes {
		p := repeat("BAsd7&jh23", n)
		cs = append(cs, acase{fmt.Sprintf("9.1.%d", i+1), fmt.Sprintf("text message of %d bytes", n),
			[]step{send(textB(p)), expectTextB(p), cleanClose()}})
	}
	for i, n := range sizes {
		p := repeat("\xfe", n)
		cs = append(cs, acase{fmt.Sprintf("9.2.%d", i+1), fmt.Sprintf("binary message of %d bytes", n),
			[]step{send(binary_(p)), expectBin(p), cleanClose()}})
	}
	frags := []int{16, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}
	for i, fs := range frags {
		p := repeat("*", 1<<20)
		cs = append(cs, acase{fmt.Sprintf("9.3.%d", i+1), fmt.Sprintf("1 MiB text message in fragments of %d bytes", fs),
			[]step{send(fragments(frame.OpText, p, fs)...), expectTextB(p), cleanClose()}})
	}
	for i, fs := range frags {
		p := repeat("\xfe", 1<<20)
		cs = append(cs, acase{fmt.Sprintf("9.4.%d", i+1), fmt.Sprintf("1 MiB binary message in fragments of %d bytes", fs),
			[]step{send(fragments(frame.OpBinary, p, fs)...), expectBin(p), cleanClose()}})
	}
	chops := []int{64, 128, 256, 512, 1024, 2048}
	for i, ch := range chops {
		p := repeat("*", 256<<10)
		cs = append(cs, acase{fmt.Sprintf("9.5.%d", i+1), fmt.Sprintf("256 KiB text message sent in chops of %d bytes", ch),
			[]step{sendChops(ch, 0, textB(p)), expectTextB(p), cleanClose()}})
	}
	for i, ch := range chops {
		p := repeat("\xfe", 256<<10)
		cs = append(cs, acase{fmt.Sprintf("9.6.%d", i+1), fmt.Sprintf("256 KiB binary message sent in chops of %d bytes", ch),
			[]step{sendChops(ch, 0, binary_(p)), expectBin(p), cleanClose()}})
	}
	for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
		cs = append(cs, acase{fmt.Sprintf("9.7.%d", i+1), fmt.Sprintf("1000 round trips of a %d-byte text message", n),
			[]step{roundTrips(frame.OpText, repeat("*", n), 1000), cleanClose()}})
	}
	for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
		cs = append(cs, acase{fmt.Sprintf("9.8.%d", i+1), fmt.Sprintf("1000 round trips of a %d-byte binary message", n),
			[]step{roundTrips(frame.OpBinary, repeat("\xfe", n), 1000), cleanClose()}})
	}
	return cs
}

// fragments cuts p into frames of size bytes (the first with opcode o).
func fragments(o frame.OpCode, p []byte, size int) []fr {
	var frs []fr
	for i := 0; i < len(p); i += size {
		end := min(i+size, len(p))
		f := fr{fin: end == len(p), op: frame.OpContinuation, payload: p[i:end]}
		if i == 0 {
			f.op = o
		}
		frs = append(frs, f)
	}
	return frs
}

// roundTrips sends the message n times, each after the previous echo.
func roundTrips(o frame.OpCode, p []byte, n int) step {
	return func(c *client) {
		c.t.Helper()
		wire := clientFrame(true, o, 0, p) // one mask for all: fine for a test
		start := time.Now()
		for range n {
			c.write(wire)
			c.expect(o, p)
		}
		c.t.Logf("%d round trips of %d bytes: %v each", n, len(p), time.Since(start)/time.Duration(n))
	}
}

func TestAutobahnLimits(t *testing.T) {
	runCases(t, echoServer(t), limitCases())
}
