package frame_test

import (
	"fmt"
	"strings"

	"github.com/surge-ws/ws/frame"
)

// A server reads the upgrade request from whatever bytes have arrived, answers
// it, and keeps the bytes that followed the head: they are the first frames.
func ExampleParseRequest() {
	in := []byte("GET /chat?room=1 HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n" +
		"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58") // a frame right behind the head

	// With part of the head, the parser asks for more.
	_, n, err := frame.ParseRequest(in[:40], 4096)
	fmt.Println("partial:", n, err)

	req, n, err := frame.ParseRequest(in, 4096)
	if err != nil {
		// err is a *HandshakeError: answer with its status and header.
		he := err.(*frame.HandshakeError)
		fmt.Print(crlf(frame.AppendReject(nil, he.Status, he.Header, he.Reason)))
		return
	}
	fmt.Println(req.Path, req.RawQuery, req.Protocols, len(in[n:]), "bytes of frames")

	protocol := frame.SelectProtocol(req.Protocols, []string{"v1.chat"})
	fmt.Print(crlf(frame.AppendAccept(nil, req, protocol, req.Deflate, nil)))
	// Output:
	// partial: 0 <nil>
	// /chat room=1 [v2.chat v1.chat] 11 bytes of frames
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: v1.chat
}

// A server decodes a client's frames from its read buffer, one at a time,
// keeping whatever is left for the next read.
func ExampleDecoder_Next() {
	buf := []byte{
		0x01, 0x83, 0x01, 0x02, 0x03, 0x04, 0x49, 0x67, 0x6f, // "Hel", not final
		0x89, 0x80, 0x05, 0x06, 0x07, 0x08, // a ping in the middle
		0x80, 0x82, 0x09, 0x0a, 0x0b, 0x0c, 0x65, 0x65, // "lo", final
		0x88, 0x82, // the start of a close frame
	}
	d := frame.Decoder{MaxMessageSize: 1 << 20}
	for {
		f, n, err := d.Next(buf)
		if err != nil {
			fmt.Println("close the connection with", frame.CloseCodeOf(err))
			return
		}
		if n == 0 {
			fmt.Println(len(buf), "bytes kept for the next read; in a message:", d.InMessage())
			return
		}
		fmt.Printf("opcode %d fin=%v %q\n", f.Op, f.Fin, f.Payload)
		buf = buf[n:]
	}
	// Output:
	// opcode 1 fin=false "Hel"
	// opcode 9 fin=true ""
	// opcode 0 fin=true "lo"
	// 2 bytes kept for the next read; in a message: false
}

// crlf shows a head's CRLF line endings as plain newlines.
func crlf(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }
