// Package wire is the server side of the protocol subset every comparison
// peer speaks: subscribe, unsubscribe, ping, echo (reply {"data": <data>})
// and chat.message (published to the message's channel), with replies to
// messages that carry an id. It decodes with encoding/json, as a server
// written the ordinary way would; each peer brings only its transport.
//
// Handle may be called from many goroutines at once; the Push functions
// must not block (queue the packet, never wait for the network).
package wire
