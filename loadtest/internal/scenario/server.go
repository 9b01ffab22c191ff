package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/procstat"
)

// serverProbe reads the server process, when the run knows its pid, or
// the processes of a server made of several (pids).
type serverProbe struct {
	pid      int
	pids     []int
	statsURL string
}

// sample reads the server; ok is false without a pid or when it is gone.
// For several processes it is their sum (CPU times, RSS; FDs -1: not counted).
func (s serverProbe) sample() (procstat.Sample, bool) {
	if len(s.pids) > 0 {
		return sumSamples(s.pids)
	}
	if s.pid <= 0 {
		return procstat.Sample{}, false
	}
	v, err := procstat.Read(s.pid)
	return v, err == nil
}

// sumSamples reads every process of pids and adds their readings up; ok is
// false when one of them could not be read (it exited).
func sumSamples(pids []int) (procstat.Sample, bool) {
	sum := procstat.Sample{At: time.Now(), FDs: -1}
	for _, pid := range pids {
		v, err := procstat.ReadNoFDs(pid)
		if err != nil {
			return sum, false
		}
		sum.User += v.User
		sum.System += v.System
		sum.RSS += v.RSS
		sum.RSSAnon += v.RSSAnon
		sum.RSSFile += v.RSSFile
	}
	return sum, true
}

// goroutines reads the server's goroutine count from its stats URL: a JSON
// document with a numeric "goroutines" field (at the top level or one level
// down), or Prometheus text with go_goroutines. ok is false without a URL.
func (s serverProbe) goroutines(ctx context.Context) (float64, bool, error) {
	if s.statsURL == "" {
		return 0, false, nil
	}
	n, err := Goroutines(ctx, s.statsURL)
	return n, err == nil, err
}

// Goroutines reads a server's goroutine count from statsURL: a JSON
// document with a numeric "goroutines" field (at the top level or one level
// down), or Prometheus text with go_goroutines. It gives up after 5 s.
func Goroutines(ctx context.Context, statsURL string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, statsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("stats url: %s", resp.Status)
	}
	return parseGoroutines(body)
}

// statsClient does not keep connections alive: an idle keep-alive
// connection would be one more descriptor in the server, read by the churn
// scenario as a leak.
var statsClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func parseGoroutines(body []byte) (float64, error) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		if v, ok := doc["goroutines"].(float64); ok {
			return v, nil
		}
		for _, sub := range doc {
			if m, ok := sub.(map[string]any); ok {
				if v, ok := m["goroutines"].(float64); ok {
					return v, nil
				}
			}
		}
		return 0, fmt.Errorf("stats url: no numeric \"goroutines\" field")
	}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "go_goroutines" {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("stats url: neither JSON with \"goroutines\" nor go_goroutines")
}

func readSelf() (procstat.Sample, error) { return procstat.Read(0) }
