package hub

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Metrics counts what clients did: replies by code, limit hits, closes by
// code, refused upgrades, messages in and out.
func TestMetricsCountWhatHappened(t *testing.T) {
	h := New("metrics", Config{MaxChannelsPerClient: 1, MaxChannelLength: 8, Origin: []string{"ok.example"}})
	h.On("echo", func(ctx *Context) error { return ctx.Reply(ctx.Message().Data) })
	addr := serveHub(t, h, "/ws")
	w, err := dialHub(t, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{
		`{"id":"1","event":"echo","data":1}`,
		`{"id":"2","event":"echo","data":2}`,
		`{"id":"3","event":"nope"}`,
		`{"id":"4","event":"subscribe","channel":"a"}`,
		`{"id":"5","event":"subscribe","channel":"b"}`,
		`{"id":"6","event":"subscribe","channel":"` + strings.Repeat("c", 9) + `"}`,
		`{"event":"nope"}`, // no id: an error push
	}
	for _, s := range steps {
		w.send(s)
		w.nextRaw()
	}
	if _, err := dialHub(t, "ws://"+addr+"/ws", http.Header{"Origin": {"http://evil.example"}}); err == nil {
		t.Fatal("an upgrade from a refused origin succeeded")
	}
	id := h.Clients()[0].ID
	if err := h.Kick(id, "bye"); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.closed(); code != CloseKicked {
		t.Fatalf("kicked with %d", code)
	}
	eventually(t, "the kicked client's close to be counted", func() bool { return h.Metrics().Closes[int(CloseKicked)] == 1 })
	m := h.Metrics()
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"replies 200", m.Replies[200], 3}, // two echoes, one subscribe
		{"replies 404", m.Replies[404], 2}, // with and without id
		{"replies 403", m.Replies[403], 1},
		{"replies 400", m.Replies[400], 1},
		{"limit max_channels_per_client", m.Limits["max_channels_per_client"], 1},
		{"limit max_channel_length", m.Limits["max_channel_length"], 1},
		{"rejected origin", m.Rejected["origin"], 1},
		{"messages in", m.MessagesIn, uint64(len(steps))},
		{"messages out", m.MessagesOut, uint64(len(steps))},
		{"closes 4000", m.Closes[int(CloseKicked)], 1},
		{"closes 1000", m.Closes[int(frame.CloseNormal)], 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitFor, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
