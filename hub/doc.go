// Package hub is the runa-compatible WebSocket hub: the JSON protocol, handlers and middleware,
// channels, Publish/Broadcast/Send/Kick, Stats, and the Broker and Presence interfaces that join
// nodes into a cluster (with in-memory implementations).
//
// # Protocol
//
// A client sends {"id"?,"event","channel"?,"data"?,"meta"?}. The built-in events are subscribe and
// unsubscribe (channel required) and ping (answered with data {"event":"pong"}). A message with an id
// gets exactly one Response {"id","event","ok",...}: the handler's Reply or Error, else an automatic
// {"id","event","ok":true}, or {"ok":false,"code","message"} if the handler failed. An error of a
// message without an id is pushed as {"event":"error","data":{"event","code","message"}}. Malformed
// JSON answers 400 (as a Response if its id could be read before the error, else as an "error" push)
// and the connection stays open. An unknown event answers 404
// "handler <event> is not registered". Pushed packets are {"channel"?,"event","data"?,"meta"?}; a client
// tells them from responses by "ok".
//
// # Limits
//
// What one client can make the hub do is bounded. Config.MessageRate and MessageBurst bound each
// connection's messages (a token bucket charged before a message is decoded: over it, 429
// "rate limit exceeded", and a flood closes with 1008); Config.MaxChannelsPerClient bounds its
// channels (403 "too many channels (limit N)"), Config.MaxChannelLength the length of a channel name
// (400 "channel too long (limit N bytes)"); ReceiveBuffer, SendBuffer and MaxMessageSize its queues and
// messages. A client's subscribe and unsubscribe cost O(1) however many channels it is in.
//
// # Concurrency
//
// Every method of Hub and Client is safe for concurrent use from any goroutine.
//
// Handlers and middleware run on the client's worker goroutine: one message at a time per client, in
// arrival order, off the transport's read path, so a handler may block (on a database, on Publish to a
// Broker) without delaying pings or other clients. The worker exists only while the client has work
// queued; an idle client holds no goroutine, timer or context. A *Context belongs to its handler and
// is valid until the handler returns.
//
// Publish, Broadcast and Send encode a packet once into a frame.Prepared and hand the same bytes to
// every recipient. They hold no lock while writing and never block on a client: the transport queues
// the frame or refuses it (a full queue closes that client with 1008 "send buffer full"), and the
// publish goes on to the others. The channel index is sharded 64 ways; a channel's subscribers are
// read without a lock.
//
// Hooks: SubscribeHook runs on the subscribing client's worker; PublishHook on the publisher's
// goroutine; an Authenticator on the transport's goroutine for the upgrading connection, before the
// upgrade. Broker handlers run on the Broker's goroutine and only queue frames. Presence is written
// from the client's worker on connect, subscribe, unsubscribe and disconnect only.
//
// # Transport
//
// The hub does not do I/O. A transport connection is a Peer; the adapter in serve.go calls the
// unexported entry points admitting, open, message and closed (see transport.go for their contracts) and
// enforces TransportConfig.
//
// # Identity and ids
//
// Each connection has its own id (Client.ID), unique across nodes. Identity.ID is the user's id and may
// be shared by several connections, which all stay connected. Send, SendMany, Kick and KickMany take
// either: an id matches the connection with that id and every connection of the user with that id.
//
// # Cluster
//
// Nodes of one hub join through a Broker (packets) and a Presence (who is connected where). A
// Broker that implements ClusterBroker keeps hubs apart by name and carries commands: Send,
// SendMany, Kick, KickMany and KickChannel then reach clients on other nodes. A connection id starts
// with its node's address (Hub.Address), so a command for a connection id goes to that node alone;
// a user id or a channel goes to every node, and each acts on its own clients. A packet reaches a
// Broker with its wire form (Packet.Encoded), and a packet that comes back with it is sent to local
// clients as those bytes. A Presence that implements ClusterPresence answers for the other nodes
// only; the hub adds its own clients, exact and current. github.com/surge-ws/ws/redis implements
// both on Redis.
//
// # Close codes
//
// Client.Close: 1000 with the reason. Kick, KickMany, KickChannel: 4000 (CloseKicked) with the reason.
// Stop: 1001 "server shutdown". A full send queue (transport): 1008 "send buffer full"; a full receive
// queue: 1008 "receive buffer full"; a flood over the rate limit: 1008 "rate limit exceeded"; a message
// over MaxMessageSize: 1009.
package hub
