// Package interop runs clients nobody here wrote against conn.Server:
// gorilla/websocket and coder/websocket in process, the npm ws package under
// Node, and headless Chromium. It is its own module so that those clients
// never enter the library's go.mod.
//
//	cd interop && go test -race -count=1 ./...
//
// The Node and Chromium tests skip when their binary is missing, unless CI is
// set: CI installs both, so there a missing binary fails the test.
package interop
