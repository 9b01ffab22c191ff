package hub

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkChannels verifies c's channel list, its index and the hub's channel index against want.
func checkChannels(t *testing.T, h *Hub, c *Client, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := c.Channels(); !slices.Equal(got, want) {
		t.Fatalf("Channels() = %v, want %v", got, want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.channels) > channelIndexAbove && c.chanIndex == nil {
		t.Fatalf("%d channels and no index", len(c.channels))
	}
	if c.chanIndex != nil {
		if len(c.chanIndex) != len(c.channels) {
			t.Fatalf("index has %d entries for %d channels", len(c.chanIndex), len(c.channels))
		}
		for i, ch := range c.channels {
			if c.chanIndex[ch] != i {
				t.Fatalf("index says %q is at %d, it is at %d", ch, c.chanIndex[ch], i)
			}
		}
	}
	for _, ch := range want {
		if sc := h.channel(ch); sc == nil || sc.subs.len() != 1 {
			t.Fatalf("hub index: channel %q has no subscriber", ch)
		}
	}
	if n := h.Stats().Channels; n != len(want) {
		t.Fatalf("hub has %d channels, want %d", n, len(want))
	}
}

func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// A client's channel set keeps its semantics whatever its size: across the scan/index threshold both
// ways, with removals from the middle, the ends and of channels it is not in.
func TestClientChannelSet(t *testing.T) {
	tests := []struct {
		name        string
		subscribe   []string
		unsubscribe []string
		want        []string
	}{
		{"none", nil, nil, nil},
		{"one", []string{"a"}, nil, []string{"a"}},
		{"twice is once", []string{"a", "a", "b", "a"}, nil, []string{"a", "b"}},
		{"remove absent", []string{"a"}, []string{"b", "a", "a"}, nil},
		{"at the threshold", names("c", 0, channelIndexAbove), nil, names("c", 0, channelIndexAbove)},
		{"over the threshold", names("c", 0, 50), nil, names("c", 0, 50)},
		{"over and twice", append(names("c", 0, 50), names("c", 0, 50)...), nil, names("c", 0, 50)},
		{"remove from the middle", names("c", 0, 50), names("c", 10, 20), append(names("c", 0, 10), names("c", 20, 50)...)},
		{"remove the last", names("c", 0, 50), []string{"c49"}, names("c", 0, 49)},
		{"back under the threshold", names("c", 0, 50), names("c", 3, 50), names("c", 0, 3)},
		{"remove all", names("c", 0, 300), names("c", 0, 300), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, Config{MaxChannelsPerClient: -1})
			c, _ := connect(t, h)
			for _, ch := range tc.subscribe {
				if err := c.Subscribe(ch); err != nil {
					t.Fatal(err)
				}
			}
			for _, ch := range tc.unsubscribe {
				if err := c.Unsubscribe(ch); err != nil {
					t.Fatal(err)
				}
			}
			checkChannels(t, h, c, tc.want)
			// The set still works after the changes: add one more and take it away.
			if err := c.Subscribe("extra"); err != nil {
				t.Fatal(err)
			}
			checkChannels(t, h, c, append(slices.Clone(tc.want), "extra"))
			if err := c.Unsubscribe("extra"); err != nil {
				t.Fatal(err)
			}
			checkChannels(t, h, c, tc.want)
		})
	}
}

// 100,000 subscribes of one client to distinct channels with long names, sent as protocol messages,
// finish: with a membership check that scans the client's list they take minutes (136,000 took over
// 60 s of CPU); with the per-client index well under a second. No timing is asserted; the test's own
// timeout is the bound.
func TestManySubscribesOfOneClient(t *testing.T) {
	const n = 100_000
	h := newHub(t, Config{MaxChannelsPerClient: n, MessageRate: -1})
	c, p := connect(t, h)
	prefix := strings.Repeat("x", 190) // the channels differ only in their last bytes, as in the report
	for i := range n {
		send(h, c, `{"event":"subscribe","channel":"`+prefix+strconv.Itoa(i)+`"}`)
	}
	if err := c.Subscribe(prefix + "0"); err != nil { // a second subscribe finds the first
		t.Fatal(err)
	}
	idle(t, c)
	if p.pending() != 0 {
		t.Fatalf("a subscribe failed: %s", p.nextRaw(t))
	}
	if got := len(c.Channels()); got != n {
		t.Fatalf("%d channels, want %d", got, n)
	}
	if st := h.Stats(); st.Channels != n {
		t.Fatalf("hub has %d channels, want %d", st.Channels, n)
	}
	for i := range n { // server-side this time: the same O(1) removal, half the test's time under -race
		if err := c.Unsubscribe(prefix + strconv.Itoa(i)); err != nil {
			t.Fatalf("unsubscribe %d: %v", i, err)
		}
	}
	if got := c.Channels(); len(got) != 0 {
		t.Fatalf("%d channels left", len(got))
	}
	if st := h.Stats(); st.Channels != 0 {
		t.Fatalf("hub has %d channels left", st.Channels)
	}
}
