package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// pageSize is the unit of /proc/net/sockstat's "mem" and of net.ipv4.tcp_mem.
var pageSize = int64(os.Getpagesize())

// Kernel is a machine-wide reading of what the kernel holds for sockets and
// what the network stack did, for deltas across a run's phases.
type Kernel struct {
	MemAvailable int64 // bytes (/proc/meminfo)
	Slab         int64 // bytes of kernel objects: socket structures, files, epoll items (/proc/meminfo Slab)
	// TCPMem is the memory charged to TCP socket buffers, bytes
	// (/proc/net/sockstat "TCP: mem", pages): what net.ipv4.tcp_mem bounds.
	TCPMem      int64
	Sockets     int64 // sockets of every kind in use (sockstat "sockets: used")
	TCPInUse    int64 // TCP sockets in use (sockstat "TCP: inuse")
	TCPOrphan   int64 // TCP sockets no process holds, still closing
	TCPTimeWait int64
	// From /proc/net/snmp, counters since boot.
	InSegs, OutSegs, RetransSegs, OutRsts int64
	// BacklogDrops sums /proc/net/softnet_stat's second column: packets
	// dropped because a CPU's input backlog (net.core.netdev_max_backlog)
	// was full; every loopback packet goes through it.
	BacklogDrops int64
	// ListenOverflows and ListenDrops are from /proc/net/netstat (TcpExt):
	// connections refused because an accept queue was full.
	ListenOverflows, ListenDrops int64
	// TCPMemPressure counts times TCP entered memory pressure (TcpExt
	// TCPMemoryPressures).
	TCPMemPressures int64
}

// ReadKernel reads the machine's socket memory and network counters.
func ReadKernel() (Kernel, error) {
	var k Kernel
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return k, err
	}
	if k.MemAvailable, err = statusKB(b, "MemAvailable:"); err != nil {
		return k, err
	}
	if k.Slab, err = statusKB(b, "Slab:"); err != nil {
		return k, err
	}
	b, err = os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return k, err
	}
	kv := fieldsAfter(b)
	k.Sockets = kv["sockets:used"]
	k.TCPInUse, k.TCPOrphan, k.TCPTimeWait = kv["TCP:inuse"], kv["TCP:orphan"], kv["TCP:tw"]
	k.TCPMem = kv["TCP:mem"] * pageSize
	if b, err = os.ReadFile("/proc/net/snmp"); err == nil {
		t := table(b, "Tcp:")
		k.InSegs, k.OutSegs, k.RetransSegs, k.OutRsts = t["InSegs"], t["OutSegs"], t["RetransSegs"], t["OutRsts"]
	}
	if b, err = os.ReadFile("/proc/net/netstat"); err == nil {
		t := table(b, "TcpExt:")
		k.ListenOverflows, k.ListenDrops, k.TCPMemPressures = t["ListenOverflows"], t["ListenDrops"], t["TCPMemoryPressures"]
	}
	if b, err = os.ReadFile("/proc/net/softnet_stat"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 1 {
				if v, err := strconv.ParseInt(f[1], 16, 64); err == nil {
					k.BacklogDrops += v
				}
			}
		}
	}
	return k, nil
}

// fieldsAfter reads sockstat's lines ("TCP: inuse 26 orphan 0 ...") into
// "TCP:inuse" -> 26.
func fieldsAfter(b []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseInt(f[i+1], 10, 64); err == nil {
				out[f[0]+f[i]] = v
			}
		}
	}
	return out
}

// table reads one of /proc/net/snmp's or netstat's header/value line pairs.
func table(b []byte, prefix string) map[string]int64 {
	out := map[string]int64{}
	var head []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i := 1; i < len(f) && i < len(head); i++ {
			if v, err := strconv.ParseInt(f[i], 10, 64); err == nil {
				out[head[i]] = v
			}
		}
		return out
	}
	return out
}

// Sysctl reads a kernel setting by its dotted name ("net.core.somaxconn"),
// whitespace-separated fields joined by one space.
func Sysctl(name string) (string, error) {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return "", fmt.Errorf("procstat: sysctl %s: %w", name, err)
	}
	return strings.Join(strings.Fields(string(b)), " "), nil
}

// PageSize is the kernel's page size in bytes.
func PageSize() int64 { return pageSize }
