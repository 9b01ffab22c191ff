// Hub client on the npm ws package, run by interop/hub_node_test.go:
//
//   node hub-client.js ws://127.0.0.1:PORT/ws [--deflate]
//
// It connects two clients, alice and bob (?user=alice, ?user=bob), and runs
// the seed's flows: both subscribe to "room", alice sends a chat.message
// (both get the push), then echo, ping, an unknown event and malformed JSON
// (followed by a ping, to show the connection still works). It then prints
// {"ready":true} on a line of its own and waits: the Go test kicks bob and
// stops the hub, which closes alice. Once both are closed it prints one JSON
// summary line (every frame received, as parsed JSON, and both close codes
// and reasons) and exits 0 (1 on a timeout or error).
'use strict';

const WebSocket = require('ws');

const base = process.argv[2];
const deflate = process.argv.includes('--deflate');
if (!base) {
  console.error('usage: node hub-client.js ws://host:port/ws [--deflate]');
  process.exit(2);
}

const summary = {
  extensions: {},
  subscribe: {},
  chat: { alice: [], bob: [] },
  echo: null,
  ping: null,
  unknown: null,
  malformed: null,
  pingAfter: null,
  extra: { alice: [], bob: [] }, // frames received after the flows (there should be none)
  close: {},
  errors: [],
};

function finish(code) {
  console.log(JSON.stringify(summary));
  process.exit(code);
}

const timer = setTimeout(() => {
  summary.errors.push('timeout');
  finish(1);
}, 20000);

// client wraps a WebSocket with a queue of parsed messages and next().
function client(name) {
  const ws = new WebSocket(`${base}?user=${name}`, { perMessageDeflate: deflate });
  const queue = [];
  const waiters = [];
  let flowsDone = false;
  const c = {
    ws,
    next() {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      return new Promise((resolve) => waiters.push(resolve));
    },
    send(s) { ws.send(s); },
    doneWithFlows() { flowsDone = true; },
    opened: new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }),
    closed: new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        summary.close[name] = { code, reason: reason.toString('utf8') };
        resolve();
      });
    }),
  };
  ws.on('message', (data, isBinary) => {
    let m;
    try {
      m = JSON.parse(data.toString('utf8'));
    } catch (e) {
      summary.errors.push(`${name}: bad JSON from the hub: ${e.message}`);
      return;
    }
    if (isBinary) summary.errors.push(`${name}: binary message from the hub`);
    if (flowsDone) {
      summary.extra[name].push(m);
      return;
    }
    if (waiters.length > 0) waiters.shift()(m);
    else queue.push(m);
  });
  ws.on('error', (err) => summary.errors.push(`${name}: ${err && err.message || err}`));
  return c;
}

async function main() {
  const alice = client('alice');
  const bob = client('bob');
  await Promise.all([alice.opened, bob.opened]);
  summary.extensions = { alice: alice.ws.extensions, bob: bob.ws.extensions };

  for (const [name, c] of [['alice', alice], ['bob', bob]]) {
    c.send(JSON.stringify({ id: 's1', event: 'subscribe', channel: 'room' }));
    summary.subscribe[name] = await c.next();
  }

  alice.send(JSON.stringify({ id: 'c1', event: 'chat.message', data: { text: 'hi all' } }));
  summary.chat.alice.push(await alice.next(), await alice.next()); // ack and push, either order
  summary.chat.bob.push(await bob.next());

  alice.send(JSON.stringify({ id: 'e1', event: 'echo', data: { text: 'hello' } }));
  summary.echo = await alice.next();

  bob.send(JSON.stringify({ id: 'p1', event: 'ping' }));
  summary.ping = await bob.next();

  alice.send(JSON.stringify({ id: 'u1', event: 'nope' }));
  summary.unknown = await alice.next();

  alice.send('{not json');
  summary.malformed = await alice.next();
  alice.send(JSON.stringify({ id: 'p2', event: 'ping' }));
  summary.pingAfter = await alice.next();

  alice.doneWithFlows();
  bob.doneWithFlows();
  console.log(JSON.stringify({ ready: true }));

  await Promise.all([alice.closed, bob.closed]);
  clearTimeout(timer);
  finish(summary.errors.length === 0 ? 0 : 1);
}

main().catch((err) => {
  summary.errors.push(String(err && err.stack || err));
  finish(1);
});
