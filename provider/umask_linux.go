package provider

import "golang.org/x/sys/unix"

// umask sets the process's file mode creation mask and returns the old one:
// the admin socket is created 0600 from the start, not chmod-ed after a
// window in which another user could connect.
func umask(mask int) int { return unix.Umask(mask) }
