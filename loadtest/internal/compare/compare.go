package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/scenario"
)

// Options configure a comparison.
type Options struct {
	Peers     []string // names from KnownPeers, in order
	Scenarios []string // scenarios to run on each (idle, fanout, echo)
	Base      scenario.Options
	Root      string // repository root
	Out       string // the Markdown file to update (docs/benchmarks.md)
	Command   string // the command line, for the record
	ReportDir string // optional: Markdown reports per run
	// Log receives one line per finished run and each run's table.
	Log io.Writer
}

// Outcome is one peer's runs.
type Outcome struct {
	Peer    Peer
	Results map[string]*report.Result // by scenario
	Err     error                     // why the peer could not run at all
}

// Run builds the peers, runs every scenario on a fresh process of each, and
// updates the comparison table in o.Out.
func Run(ctx context.Context, o Options) ([]Outcome, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	dir, err := os.MkdirTemp("", "loadtest-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var outs []Outcome
	for _, name := range o.Peers {
		p, ok := KnownPeers[name]
		if !ok {
			return nil, fmt.Errorf("unknown peer %q", name)
		}
		out := Outcome{Peer: p, Results: map[string]*report.Result{}}
		bin, err := build(ctx, o.Root, dir, p)
		if err != nil {
			out.Err = err
			fmt.Fprintf(o.Log, "%s: not run: %v\n", p.Name, err)
			outs = append(outs, out)
			continue
		}
		for _, sc := range o.Scenarios {
			res, err := runOne(ctx, o, p, bin, sc, filepath.Join(dir, p.Name+"-"+sc+".log"))
			if err != nil {
				out.Err = errors.Join(out.Err, fmt.Errorf("%s: %w", sc, err))
				fmt.Fprintf(o.Log, "%s %s: %v\n", p.Name, sc, err)
			}
			if res != nil {
				out.Results[sc] = res
				_ = report.WriteTable(o.Log, res)
			}
			if ctx.Err() != nil {
				break
			}
		}
		outs = append(outs, out)
	}
	section := Section(outs, o, report.Machine(), time.Now())
	if o.Out != "" {
		if err := UpdateFile(o.Out, section); err != nil {
			return outs, err
		}
	}
	return outs, nil
}

// runOne runs one scenario on a fresh server process.
func runOne(ctx context.Context, o Options, p Peer, bin, sc, logPath string) (*report.Result, error) {
	srv, err := start(ctx, bin, p.Args, logPath)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	so := o.Base
	so.URL = "ws://" + srv.Addr + "/ws"
	so.ServerPID = srv.Pid()
	so.Sources = scenario.LoopbackSources(ctx, so.URL)
	res, err := scenario.Run(ctx, sc, so)
	if res != nil {
		res.Server = p.Name
		res.Command = o.Command
		if o.ReportDir != "" {
			if _, rerr := report.WriteMarkdown(o.ReportDir, res); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}
	return res, err
}
