// Package frame is RFC 6455 (and RFC 7692 permessage-deflate) on bytes: the
// opening handshake parsed incrementally from whatever bytes have arrived, the
// 101 and error responses, frame headers, masking, the protocol's rules with
// their close codes, incremental UTF-8 validation, close payloads and prepared
// (encode-once) frames.
//
// It does no I/O and starts no goroutines; it builds on github.com/gobwas/ws
// for opcodes, masking and extension parameters. The parsers share one
// contract: given every byte received so far, they return n == 0 and a nil
// error to ask for more, so a connection needs no goroutine while it waits.
// Errors carry what to answer: a *HandshakeError the HTTP status, a
// *ProtocolError the close code.
//
// Decoding does not allocate: a Frame's payload is unmasked in place and
// aliases the caller's buffer. Handshake parsing allocates its result, which
// aliases nothing. The Append functions write into the caller's slice.
//
// Functions are safe for concurrent use. A Decoder or UTF8 holds one
// connection's read state and belongs to whoever reads that connection; a
// Prepared is immutable and shared freely.
package frame
