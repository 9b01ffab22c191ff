package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat. It is a kernel ABI
// constant (sysconf(_SC_CLK_TCK)), 100 everywhere Go runs on Linux.
const userHZ = 100

// Sample is one reading of a process.
type Sample struct {
	At     time.Time
	User   time.Duration // CPU time in user mode, all threads
	System time.Duration // CPU time in the kernel on the process's behalf
	RSS    int64         // resident set size, bytes
	// RSSAnon is the private part of RSS (heap, stacks); RSSFile the pages
	// of mapped files (the binary), which processes running one binary
	// share. Zero where the kernel does not say.
	RSSAnon, RSSFile int64
	FDs              int // open file descriptors (-1 when not readable)
}

// CPU is user plus system time.
func (s Sample) CPU() time.Duration { return s.User + s.System }

// Read samples process pid (0: this process).
func Read(pid int) (Sample, error) { return read(pid, true) }

// ReadNoFDs samples process pid without counting its descriptors (FDs is
// -1): listing the descriptors of a process holding 20,000 connections takes
// milliseconds, which adds up when dozens of processes are sampled every
// second.
func ReadNoFDs(pid int) (Sample, error) { return read(pid, false) }

func read(pid int, fds bool) (Sample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	s := Sample{At: time.Now()}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	if s.User, s.System, err = parseStat(stat); err != nil {
		return s, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	if s.RSS, err = statusKB(status, "VmRSS:"); err != nil {
		return s, err
	}
	s.RSSAnon, _ = statusKB(status, "RssAnon:")
	s.RSSFile, _ = statusKB(status, "RssFile:")
	s.FDs = -1
	if fds {
		s.FDs = countFDs(dir + "/fd")
	}
	return s, nil
}

// parseStat extracts utime and stime (fields 14 and 15). The command name
// (field 2) is in parentheses and may itself contain spaces and parentheses,
// so fields are counted from the last ')'.
func parseStat(b []byte) (user, sys time.Duration, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("procstat: malformed stat")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("procstat: short stat")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("procstat: malformed stat times")
	}
	return ticks(ut), ticks(st), nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// statusKB returns a "Key:   123 kB" line of a /proc status-like file, in bytes.
func statusKB(b []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(key)) {
			continue
		}
		f := bytes.Fields(line[len(key):])
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("procstat: no %s", key)
}

func countFDs(dir string) int {
	f, err := os.Open(dir)
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(1024)
		n += len(names)
		if err != nil {
			return n
		}
	}
}

// MemAvailable returns the machine's MemAvailable in bytes: the kernel's
// estimate of memory available without swapping. Its drop across a run
// counts kernel socket buffers and both processes together.
func MemAvailable() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return statusKB(b, "MemAvailable:")
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
