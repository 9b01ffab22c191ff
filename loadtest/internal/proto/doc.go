// Package proto speaks the hub's JSON protocol from the client side, fast
// enough that a load generator measures the server and not itself.
//
// Scan reads the top level of one server message without decoding it: it
// tells a reply (it has an "ok" field) from a pushed packet (it has none) and
// hands back id, event, channel, code and data as sub-slices of the input,
// allocating nothing. The Append functions build client messages into a
// caller's buffer. Every slice Scan returns aliases the message and is valid
// only as long as the message bytes are.
package proto
