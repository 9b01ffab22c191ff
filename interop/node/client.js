// Interop client on the npm ws package, run by interop/node_test.go:
//
//   node client.js ws://127.0.0.1:PORT/path [--deflate]
//
// It sends a text message, a binary message, a text message in three
// fragments (fin: false), a larger compressible text message and a ping,
// waits for the echoes and the pong, then closes with 4001 "node-bye". It
// prints one JSON summary of what it received on stdout and exits 0 once the
// connection is closed (1 on a timeout or error).
'use strict';

const WebSocket = require('ws');

const url = process.argv[2];
const deflate = process.argv.includes('--deflate');
if (!url) {
  console.error('usage: node client.js ws://host:port/path [--deflate]');
  process.exit(2);
}

// A compressible text above ws's default compression threshold (1024 bytes).
let big = '';
for (let i = 0; big.length < 5000; i++) big += `message ${i % 10} of a compressible stream; `;
big = big.slice(0, 5000);

const summary = { extensions: null, messages: [], pongs: [], close: null, errors: [] };
const expectMessages = 4;
let closing = false;

const ws = new WebSocket(url, { perMessageDeflate: deflate });

const timer = setTimeout(() => {
  summary.errors.push('timeout');
  console.log(JSON.stringify(summary));
  process.exit(1);
}, 15000);

function maybeClose() {
  if (!closing && summary.messages.length >= expectMessages && summary.pongs.length >= 1) {
    closing = true;
    ws.close(4001, 'node-bye');
  }
}

ws.on('open', () => {
  summary.extensions = ws.extensions;
  ws.send('hello-node');
  ws.send(Buffer.from([0, 1, 2, 0xfe, 0xff]));
  ws.send('frag-1|', { fin: false });
  ws.send('frag-2|', { fin: false });
  ws.send('frag-3', { fin: true });
  ws.send(big);
  ws.ping(Buffer.from('node-ping'));
});

ws.on('message', (data, isBinary) => {
  summary.messages.push(isBinary
    ? { binary: true, hex: Buffer.from(data).toString('hex') }
    : { binary: false, text: data.toString('utf8') });
  maybeClose();
});

ws.on('pong', (data) => {
  summary.pongs.push(data.toString('utf8'));
  maybeClose();
});

ws.on('error', (err) => {
  summary.errors.push(String(err && err.message || err));
});

ws.on('close', (code, reason) => {
  clearTimeout(timer);
  summary.close = { code, reason: reason.toString('utf8') };
  console.log(JSON.stringify(summary));
  process.exit(summary.errors.length === 0 ? 0 : 1);
});
