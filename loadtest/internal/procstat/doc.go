// Package procstat reads what Linux says about a process and the machine:
// CPU time split into user and system (/proc/<pid>/stat), resident memory
// (/proc/<pid>/status VmRSS), open file descriptors (/proc/<pid>/fd), and the
// machine's available memory (/proc/meminfo MemAvailable).
//
// The split matters on loopback: the kernel runs the receiver's TCP
// processing inline in the sender's system call, so a server's system time
// also pays for its clients' receive path. User time is what a server's
// design controls.
//
// CPU times come in clock ticks (USER_HZ, 100 per second on every Linux
// architecture Go supports), so figures over short runs carry ±10 ms.
package procstat
