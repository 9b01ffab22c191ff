package abuse

import (
	"fmt"
	"slices"
	"strings"
)

// Cases lists every hostile case, in the order a run takes them.
var Cases = func() []Case {
	var cs []Case
	for _, f := range floodEvents {
		cs = append(cs, floodCase(f.event, f.channel, f.data))
	}
	cs = append(cs, overRateCase, hangupCase(false), hangupCase(true))
	cs = append(cs, stormCases...)
	cs = append(cs, protocolCases...)
	cs = append(cs, connCases...)
	cs = append(cs, noReadCase)
	cs = append(cs, handlerCases...)
	return cs
}()

// Names returns the case names, in order.
func Names() []string {
	out := make([]string, len(Cases))
	for i, c := range Cases {
		out[i] = c.Name
	}
	return out
}

// selectCases picks the cases by name (empty: all). A name ending in "*"
// picks every case it is a prefix of ("flood-*").
func selectCases(names []string) ([]Case, error) {
	if len(names) == 0 {
		return Cases, nil
	}
	var out []Case
	for _, n := range names {
		found := false
		for _, c := range Cases {
			if c.Name == n || (strings.HasSuffix(n, "*") && strings.HasPrefix(c.Name, strings.TrimSuffix(n, "*"))) {
				found = true
				if !slices.ContainsFunc(out, func(o Case) bool { return o.Name == c.Name }) {
					out = append(out, c)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown case %q (cases: %s)", n, strings.Join(Names(), ", "))
		}
	}
	return out, nil
}
