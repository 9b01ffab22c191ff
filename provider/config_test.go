package provider

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/hub"
)

// Every hub.Config field a file may set has its place in HubFile, and no
// HubFile key is unknown to hub.Config.
func TestHubFileCoversConfig(t *testing.T) {
	want := tomlNames(reflect.TypeFor[hub.Config]())
	got := tomlNames(reflect.TypeFor[HubFile]())
	if !slices.Equal(got, want) {
		t.Fatalf("HubFile keys %v\nhub.Config keys %v", got, want)
	}
}

// Precedence: code < file < environment; values reach the hub.
func TestConfigPrecedence(t *testing.T) {
	path := writeFile(t, "ws.toml", `
[http]
addr = "127.0.0.1:0"

[hubs.default]
max_message_size = 2048
ping_interval = "45s"
send_buffer = 64
origin = ["https://a.example"]

[redis]
addr = "10.0.0.1:6379"
`)
	t.Setenv("WS_HUBS__DEFAULT__SEND_BUFFER", "128")
	t.Setenv("WS_HUBS__DEFAULT__PONG_TIMEOUT", "7s")
	t.Setenv("WS_REDIS__ADDR", "redis.internal:6379")
	t.Setenv("WS_UNRELATED", "x") // no "__": not ours
	h := hub.New("default", hub.Config{MaxMessageSize: 1024, ReadTimeout: time.Minute, SendBuffer: 16})
	app := New(Args("ws:none"), ConfigFile(path))
	hp := Hubs(h)
	app.Install(hp)
	_ = app.Run(context.Background()) // an unknown command: only the config was loaded
	cfg := h.TransportConfig()
	if cfg.MaxMessageSize != 2048 || cfg.PingInterval != 45*time.Second || cfg.SendBuffer != 128 ||
		cfg.PongTimeout != 7*time.Second || cfg.ReadTimeout != time.Minute {
		t.Fatalf("transport config %+v: want file's 2048/45s, env's 128/7s, code's ReadTimeout 1m", cfg)
	}
	if f := app.Config(); f.Redis.Addr != "redis.internal:6379" || f.HTTP.Addr != "127.0.0.1:0" {
		t.Fatalf("file after env: %+v", f)
	}
}

// A bad file or variable is reported with its line and key, never ignored.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        [2]string
		want       string
	}{
		{"unknown key", "[hubs.default]\nmax_mesage_size = 1\n", [2]string{}, "line 2: unknown key hubs.default.max_mesage_size"},
		{"number as duration", "[hubs.default]\n\nping_interval = 30\n", [2]string{}, "line 3"},
		{"bad duration", "[hubs.default]\nping_interval = \"30 seconds\"\n", [2]string{}, "line 2"},
		{"wrong type", "[hubs.default]\nsend_buffer = \"many\"\n", [2]string{}, "line 2"},
		{"syntax", "[hubs.default\n", [2]string{}, "line 1"},
		{"unknown table", "[hub.default]\nx = 1\n", [2]string{}, "unknown key hub"},
		{"bad env", "", [2]string{"WS_HUBS__DEFAULT__SEND_BUFER", "1"}, "WS_HUBS__DEFAULT__SEND_BUFER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			_, err := LoadFile(writeFile(t, "ws.toml", tc.file), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := LoadFile(writeFile(t, "x", "")+".missing", true); err == nil {
		t.Fatal("a missing file named explicitly was not an error")
	}
	if f, err := LoadFile(t.TempDir()+"/absent.toml", false); err != nil || f.Path != "" {
		t.Fatalf("a missing default file: %v %+v", err, f)
	}
}

// A table for a hub that is not installed is an error (a typo in a hub name
// would otherwise be silently ignored).
func TestConfigUnknownHub(t *testing.T) {
	app := New(Args("ws:none"), ConfigFile(writeFile(t, "ws.toml", "[hubs.defualt]\nsend_buffer = 1\n")))
	app.Install(Hubs(hub.New("default", hub.Config{})))
	if err := app.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `hub "defualt"`) {
		t.Fatalf("Run: %v", err)
	}
}

// The file's [http] addr overrides the code's; an Override (a program's
// flag) overrides both.
func TestHTTPAddrPrecedence(t *testing.T) {
	path := writeFile(t, "ws.toml", "[http]\naddr = \"127.0.0.1:7001\"\n")
	web := HTTP(Addr(":8080"))
	app := New(Args("ws:none"), ConfigFile(path))
	app.Install(web)
	_ = app.Run(context.Background())
	if web.addr != "127.0.0.1:7001" {
		t.Fatalf("addr %q, want the file's", web.addr)
	}
	web = HTTP(Addr(":8080"))
	app = New(Args("ws:none"), ConfigFile(path), Override(func(f *File) { f.HTTP.Addr = "127.0.0.1:7002" }))
	app.Install(web)
	_ = app.Run(context.Background())
	if web.addr != "127.0.0.1:7002" {
		t.Fatalf("addr %q, want the override's", web.addr)
	}
}
