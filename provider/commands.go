package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/surge-ws/ws/hub"
)

// Commands implements Commander: ws:list, ws:channels, ws:stats and
// ws:kick, each against the running server's admin endpoint.
func (p *HubsProvider) Commands() []Command {
	return []Command{
		{Name: "ws:list", Usage: "[hub] [--json]  the connected clients (the cluster's, with Redis)", Run: cmdList},
		{Name: "ws:channels", Usage: "[hub] [--json]  channels and their client counts", Run: cmdChannels},
		{Name: "ws:stats", Usage: "[hub] [--json]  counters of this node and sizes of the cluster", Run: cmdStats},
		{Name: "ws:kick", Usage: "[hub] <client-id> [reason]  close a client (on whichever node holds it)", Run: cmdKick},
	}
}

// adminClient calls the admin endpoint of the running server.
type adminClient struct {
	c     *http.Client
	base  string
	token string
	where string // for errors
}

func newAdminClient(app *App) *adminClient {
	o := app.admin.merge(app.file)
	ac := &adminClient{base: "http://admin", where: "admin socket " + o.Socket}
	tr := &http.Transport{}
	switch {
	case o.Socket != "-":
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", o.Socket)
		}
	case o.TCP != "":
		ac.base, ac.token, ac.where = "http://"+o.TCP, o.Token, "admin address "+o.TCP
	}
	ac.c = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return ac
}

func (ac *adminClient) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, ac.base+path, nil)
	if err != nil {
		return err
	}
	if ac.token != "" {
		req.Header.Set("Authorization", "Bearer "+ac.token)
	}
	resp, err := ac.c.Do(req)
	if err != nil {
		return fmt.Errorf("no running server answers on the %s (start it with `go run .`; the command must run in the same directory, or set [admin] socket): %w", ac.where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s", strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// flags splits --json from the positional arguments.
func flags(args []string) (pos []string, asJSON bool, err error) {
	for _, a := range args {
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case strings.HasPrefix(a, "-"):
			return nil, false, fmt.Errorf("unknown flag %s", a)
		default:
			pos = append(pos, a)
		}
	}
	return pos, asJSON, nil
}

// hubArg resolves the optional hub argument: the one named, else the only
// hub, else "default".
func hubArg(ctx context.Context, ac *adminClient, pos []string) (string, []string, error) {
	var hubs []string
	if err := ac.do(ctx, http.MethodGet, "/hubs", &hubs); err != nil {
		return "", nil, err
	}
	if len(pos) > 0 && slices.Contains(hubs, pos[0]) {
		return pos[0], pos[1:], nil
	}
	switch {
	case len(hubs) == 1:
		return hubs[0], pos, nil
	case slices.Contains(hubs, "default"):
		return "default", pos, nil
	}
	return "", nil, fmt.Errorf("name a hub: %s", strings.Join(hubs, ", "))
}

func cmdList(ctx context.Context, app *App, args []string, out io.Writer) error {
	return listCommand(ctx, app, args, out, "clients", func(w io.Writer, b []byte) error {
		var cs []hub.ClientInfo
		if err := json.Unmarshal(b, &cs); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tNODE\tCHANNELS\tIP\tCONNECTED")
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, dash(c.Name), dash(c.Node), dash(strings.Join(c.Channels, ",")), dash(c.IP), c.Connected.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func cmdChannels(ctx context.Context, app *App, args []string, out io.Writer) error {
	return listCommand(ctx, app, args, out, "channels", func(w io.Writer, b []byte) error {
		var cs []hub.ChannelInfo
		if err := json.Unmarshal(b, &cs); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANNEL\tCLIENTS")
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%d\n", c.Name, c.Clients)
		}
		return tw.Flush()
	})
}

func cmdStats(ctx context.Context, app *App, args []string, out io.Writer) error {
	return listCommand(ctx, app, args, out, "stats", func(w io.Writer, b []byte) error {
		var s adminStats
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, row := range [][2]any{
			{"hub", s.Hub}, {"node", s.Node},
			{"clients (this node)", s.Stats.Clients}, {"channels (this node)", s.Stats.Channels},
			{"messages in", s.Stats.MessagesIn}, {"messages out", s.Stats.MessagesOut},
			{"bytes in", s.Stats.BytesIn}, {"bytes out", s.Stats.BytesOut},
			{"slow clients closed", s.Stats.SlowClients}, {"frames dropped", s.Stats.Dropped},
			{"cluster nodes", s.Cluster.Nodes}, {"cluster clients", s.Cluster.Clients}, {"cluster channels", s.Cluster.Channels},
		} {
			fmt.Fprintf(tw, "%s\t%v\n", row[0], row[1])
		}
		return tw.Flush()
	})
}

// listCommand fetches /hubs/{hub}/{what} and prints it as a table or JSON.
func listCommand(ctx context.Context, app *App, args []string, out io.Writer, what string, table func(io.Writer, []byte) error) error {
	pos, asJSON, err := flags(args)
	if err != nil {
		return err
	}
	ac := newAdminClient(app)
	name, rest, err := hubArg(ctx, ac, pos)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %v", rest)
	}
	var raw json.RawMessage
	if err := ac.do(ctx, http.MethodGet, "/hubs/"+url.PathEscape(name)+"/"+what, &raw); err != nil {
		return err
	}
	if asJSON {
		_, err := fmt.Fprintf(out, "%s\n", raw)
		return err
	}
	return table(out, raw)
}

func cmdKick(ctx context.Context, app *App, args []string, out io.Writer) error {
	pos, _, err := flags(args)
	if err != nil {
		return err
	}
	ac := newAdminClient(app)
	name, rest, err := hubArg(ctx, ac, pos)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return errors.New("usage: ws:kick [hub] <client-id> [reason]")
	}
	q := url.Values{"id": {rest[0]}}
	if len(rest) > 1 {
		q.Set("reason", strings.Join(rest[1:], " "))
	}
	if err := ac.do(ctx, http.MethodPost, "/hubs/"+url.PathEscape(name)+"/kick?"+q.Encode(), nil); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "kicked %s from hub %s\n", rest[0], name)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
