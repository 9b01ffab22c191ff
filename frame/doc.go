// Package frame is RFC 6455 (and RFC 7692 permessage-deflate) on bytes: the
// opening handshake parsed incrementally from whatever bytes have arrived, frame
// headers, masking, the protocol's rules with their close codes, incremental
// UTF-8 validation, close payloads and prepared (encode-once) frames.
//
// It does no I/O and keeps no goroutines; it builds on github.com/gobwas/ws for
// opcodes, masking and extension negotiation. Functions are safe for concurrent
// use; a Decoder holds one connection's read state and belongs to whoever reads
// that connection.
package frame
