package provider

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/surge-ws/ws/hub"
	"golang.org/x/sys/unix"
)

const dialChildEnv = "SURGE_PROVIDER_DIAL_SOCKET"

// TestDialChild is the child of TestAdminSocketRefusesOtherUser: it dials
// the socket named in its environment and prints the outcome.
func TestDialChild(t *testing.T) {
	path := os.Getenv(dialChildEnv)
	if path == "" {
		t.Skip("child process of TestAdminSocketRefusesOtherUser")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Println("DIAL", err)
		return
	}
	c.Close()
	fmt.Println("DIAL ok")
}

// Another user cannot connect to the admin socket (mode 0600), while the
// server's user can. Needs root to run the child as nobody.
func TestAdminSocketRefusesOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	dir, err := os.MkdirTemp("", "surge-admin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755) // the directory lets anyone reach the socket: only its mode stops them
	sock := filepath.Join(dir, "admin.sock")
	a, err := startAdmin(AdminOptions{Socket: sock}, Hubs(hub.New("default", hub.Config{})), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(t.Context())
	// The test binary must be reachable by nobody too.
	bin := filepath.Join(dir, "provider.test")
	if out, err := exec.Command("cp", os.Args[0], bin).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	_ = os.Chmod(bin, 0o755)
	dial := func(uid uint32) string {
		cmd := exec.Command(bin, "-test.run=^TestDialChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), dialChildEnv+"="+sock)
		cmd.Dir = dir
		if uid != 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		}
		out, _ := cmd.CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			if r, ok := strings.CutPrefix(l, "DIAL "); ok {
				return r
			}
		}
		t.Fatalf("child (uid %d) printed no result:\n%s", uid, out)
		return ""
	}
	if got := dial(65534); !strings.Contains(got, unix.EACCES.Error()) {
		t.Fatalf("nobody dialing the admin socket: %q, want permission denied", got)
	}
	if got := dial(0); got != "ok" {
		t.Fatalf("the server's user dialing the admin socket: %q", got)
	}
}
