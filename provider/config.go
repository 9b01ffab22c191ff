package provider

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/surge-ws/ws/hub"
)

// File is the config file (config/ws.toml) after environment overrides:
//
//	[http]
//	addr = ":8080"
//
//	[hubs.default]              # one table per hub, by name
//	origin = ["https://example.com"]
//	max_message_size = 65536
//	ping_interval = "30s"       # durations are strings (time.ParseDuration)
//	max_channels_per_client = 128
//	message_rate = 100
//
//	[redis]
//	addr = "127.0.0.1:6379"
//	hubs = ["default"]          # which hubs use it; empty: all
//
//	[admin]
//	socket = "/run/myapp/ws-admin.sock"
//
// Environment variables override it: WS_ then the key path in capitals with
// "__" between levels, so keys keep their own underscores:
// WS_HUBS__DEFAULT__MAX_MESSAGE_SIZE=1048576, WS_REDIS__ADDR=redis:6379,
// WS_HTTP__ADDR=:9000. A value is read as a TOML value when it parses as one
// (numbers, booleans, arrays), else as a string. Precedence: code, then the
// file, then the environment (a value of zero in the file or environment
// does not override code: hub.Configure merges non-zero fields).
type File struct {
	Path  string             `toml:"-"` // "" when no file was read
	HTTP  HTTPFile           `toml:"http"`
	Hubs  map[string]HubFile `toml:"hubs"`
	Redis RedisFile          `toml:"redis"`
	Admin AdminFile          `toml:"admin"`
}

// HTTPFile is the [http] table.
type HTTPFile struct {
	Addr string `toml:"addr"`
}

// HubFile is a [hubs.<name>] table: the hub.Config fields a file may set,
// under their toml names (TestHubFileCoversConfig keeps the two in step).
type HubFile struct {
	Origin               []string `toml:"origin"`
	MaxMessageSize       int64    `toml:"max_message_size"`
	ReadTimeout          Duration `toml:"read_timeout"`
	WriteTimeout         Duration `toml:"write_timeout"`
	PingInterval         Duration `toml:"ping_interval"`
	PongTimeout          Duration `toml:"pong_timeout"`
	SendBuffer           int      `toml:"send_buffer"`
	ReceiveBuffer        int      `toml:"receive_buffer"`
	MaxChannelsPerClient int      `toml:"max_channels_per_client"`
	MaxChannelLength     int      `toml:"max_channel_length"`
	MessageRate          float64  `toml:"message_rate"`
	MessageBurst         int      `toml:"message_burst"`
	Compression          bool     `toml:"compression"`
	InlineHandlers       bool     `toml:"inline_handlers"`
	Node                 string   `toml:"node"`
}

// RedisFile is the [redis] table.
type RedisFile struct {
	Addr           string   `toml:"addr"`
	Password       string   `toml:"password"`
	DB             int      `toml:"db"`
	DialTimeout    Duration `toml:"dial_timeout"`
	ReadTimeout    Duration `toml:"read_timeout"`
	WriteTimeout   Duration `toml:"write_timeout"`
	PoolSize       int      `toml:"pool_size"`
	NodeTTL        Duration `toml:"node_ttl"`
	Channel        string   `toml:"channel"`
	PresencePrefix string   `toml:"presence_prefix"`
	Hubs           []string `toml:"hubs"`
}

// AdminFile is the [admin] table (see AdminOptions).
type AdminFile struct {
	Socket string `toml:"socket"`
	TCP    string `toml:"tcp"`
	Token  string `toml:"token"`
}

// Duration is a time.Duration written as a string ("30s", "1m30s"). A bare
// number is refused: runa read integers as nanoseconds, a trap. (A struct,
// so the decoder cannot take an integer for it.)
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &durationError{value: string(b), err: err}
	}
	d.Duration = v
	return nil
}

// durationError is a value a Duration refused. The decoder reports it
// without a position, so decodeStrict finds its line.
type durationError struct {
	value string
	err   error
}

func (e *durationError) Error() string {
	return fmt.Sprintf("duration %q: %v (write it as \"30s\", \"1m\", ...)", e.value, e.err)
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// HubConfig returns the hub.Config the table sets (zero fields: not set).
func (h HubFile) HubConfig() hub.Config {
	return hub.Config{
		Origin:               h.Origin,
		MaxMessageSize:       h.MaxMessageSize,
		ReadTimeout:          h.ReadTimeout.Duration,
		WriteTimeout:         h.WriteTimeout.Duration,
		PingInterval:         h.PingInterval.Duration,
		PongTimeout:          h.PongTimeout.Duration,
		SendBuffer:           h.SendBuffer,
		ReceiveBuffer:        h.ReceiveBuffer,
		MaxChannelsPerClient: h.MaxChannelsPerClient,
		MaxChannelLength:     h.MaxChannelLength,
		MessageRate:          h.MessageRate,
		MessageBurst:         h.MessageBurst,
		Compression:          h.Compression,
		InlineHandlers:       h.InlineHandlers,
		Node:                 h.Node,
	}
}

// EnvPrefix starts the environment variables that override the file.
const EnvPrefix = "WS_"

// LoadFile reads the config file at path (DefaultConfigFile if empty) and
// applies the environment's overrides. A missing file is an error only if
// required; a malformed one always is, naming the line and the key.
func LoadFile(path string, required bool) (*File, error) {
	if path == "" {
		path = DefaultConfigFile
	}
	f := &File{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		f.Path = path
		if err := decodeStrict(b, f); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !required:
	default:
		return nil, fmt.Errorf("config: %w", err)
	}
	env, names := envTOML(os.Environ())
	if len(env) > 0 {
		if err := decodeStrict(env, f); err != nil {
			return nil, fmt.Errorf("environment (%s): %w", strings.Join(names, ", "), err)
		}
	}
	return f, nil
}

// decodeStrict decodes TOML into f, refusing unknown keys and wrong types
// with the line and key of the first problem.
func decodeStrict(b []byte, f *File) error {
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(f)
	if err == nil {
		return nil
	}
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		e := sm.Errors[0]
		row, _ := e.Position()
		return fmt.Errorf("line %d: unknown key %s", row, strings.Join(e.Key(), "."))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key != "" {
			return fmt.Errorf("line %d: key %s: %s", row, key, de.Error())
		}
		return fmt.Errorf("line %d: %s", row, de.Error())
	}
	var dur *durationError
	if errors.As(err, &dur) {
		if line, key := findValue(b, dur.value); line > 0 {
			return fmt.Errorf("line %d: key %s: %s", line, key, dur.Error())
		}
	}
	return err
}

// findValue returns the first line (1-based) of b that sets a key to value
// (as a bare or quoted literal), and the key.
func findValue(b []byte, value string) (int, string) {
	for i, line := range strings.Split(string(b), "\n") {
		key, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v == value || v == fmt.Sprintf("%q", value) || v == "'"+value+"'" {
			return i + 1, strings.TrimSpace(key)
		}
	}
	return 0, ""
}

// envTOML turns WS_A__B__C=v variables into a TOML document, one line each
// (sorted, so errors are stable), and lists their names.
func envTOML(environ []string) ([]byte, []string) {
	type kv struct{ table, key, val, name string }
	var vars []kv
	for _, e := range environ {
		name, val, ok := strings.Cut(e, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__")
		if len(parts) < 2 {
			continue // WS_FOO is not ours
		}
		for i, p := range parts[:len(parts)-1] {
			parts[i] = tomlKey(p)
		}
		vars = append(vars, kv{strings.Join(parts[:len(parts)-1], "."), parts[len(parts)-1], tomlValue(val), name})
	}
	// One header per table (TOML refuses a table defined twice).
	sort.Slice(vars, func(i, j int) bool {
		if vars[i].table != vars[j].table {
			return vars[i].table < vars[j].table
		}
		return vars[i].name < vars[j].name
	})
	var b bytes.Buffer
	names := make([]string, 0, len(vars))
	for i, v := range vars {
		if i == 0 || v.table != vars[i-1].table {
			fmt.Fprintf(&b, "[%s]\n", v.table)
		}
		fmt.Fprintf(&b, "%s = %s\n", v.key, v.val)
		names = append(names, v.name)
	}
	return b.Bytes(), names
}

// tomlKey quotes a table name that is not a bare TOML key (a hub name with
// a dot, say).
func tomlKey(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// tomlValue is v as a TOML value: itself when it parses as one, else a
// quoted string.
func tomlValue(v string) string {
	var probe map[string]any
	if toml.Unmarshal([]byte("v = "+v), &probe) == nil {
		return v
	}
	return fmt.Sprintf("%q", v)
}

// tomlNames lists the toml names of a struct type's fields (for the test
// that keeps HubFile and hub.Config in step).
func tomlNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]; tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}
