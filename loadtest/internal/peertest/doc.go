// Package peertest checks that a server speaks the protocol subset the load
// generator relies on, with the load generator's own client: the comparison
// peers' tests run it against each peer, so a peer that silently drops a
// reply cannot make a comparison look better.
package peertest
