// Package wsredis joins the nodes of a hub through Redis: a hub.ClusterBroker (packets and commands
// between nodes) and a hub.ClusterPresence (who is connected where), on github.com/redis/go-redis/v9.
// Several instances behind a load balancer then act as one hub:
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	h := hub.New("default", hub.Config{
//		Broker:   wsredis.Broker(client, "ws"),
//		Presence: wsredis.Presence(client, "runa:ws:default:"),
//	})
//
// docs/scaling.md says how to deploy it and what it costs.
//
// # Model
//
// Broker. Every packet a hub publishes (Publish, Broadcast) and every command it sends (Send, Kick,
// KickChannel for clients of other nodes) is one PUBLISH, whatever the number of nodes and
// subscribers. Publishers append envelopes to a batch; one writer goroutine per Broker sends what
// accumulated as one pipeline, so an idle Broker sends a packet at once and a busy one sends thousands
// per round trip. The Redis channels of hub h, with Options.Channel c:
//
//	c:h             broadcasts, commands for every node (a user id, a channel), and with LayoutHub
//	                every packet
//	c:h#room        with LayoutChannel (the default), the packets of channel room: a node holds it
//	                while it has local subscribers of room (hub.InterestBroker)
//	c:h:@<address>  commands for the node whose connection ids start with address
//
// An envelope is binary: version, kind, the sender's stream and sequence number, origin node,
// channel, event, (for a command: the action, ids, reason), and the packet's client wire form as the
// publishing hub encoded it, with where its data lies. The receiving hub turns those bytes into its
// clients' frame without encoding anything. The runa-shaped Publish and Subscribe use the channel c
// itself.
//
// Presence. Set and Remove only change memory; a goroutine writes what changed FlushInterval
// (100 ms) after the first change, or at once when FlushSize clients changed, in one pipeline. Keys, with PresencePrefix p:
//
//	p:nodes                    hash: node -> "<expires> <clients> <buckets> <heartbeat> <address>",
//	                           times in Redis's clock (TIME), renewed with every flush and at least
//	                           every HeartbeatInterval
//	p:c:<node>:<buckets>:<i>   hash: a client's connection id (without the node's address) -> its
//	                           compact binary entry; a node's clients are spread over <buckets>
//	                           hashes, which grow fourfold past 64 clients each so every hash keeps
//	                           Redis's compact listpack encoding
//	p:ch:<node>                hash: channel -> this node's number of subscribers
//
// Reads never scan the keyspace (no KEYS, no SCAN): the registry names the live nodes, and Clients reads
// their client hashes, Channels their channel hashes, Channel one field per node, Stats the registry
// alone. A node whose registration expired (NodeTTL) is left out of every read at once, and the next
// survivor to look deletes its keys, atomically (a Lua script).
//
// # Concurrency
//
// Every method of RedisBroker and RedisPresence is safe for concurrent use. A Broker runs one writer
// goroutine, and per SubscribeHub one goroutine that receives (the hub's handlers run on it; they only
// queue frames and start closes) and, with LayoutChannel, one that sends the node's SUBSCRIBE and
// UNSUBSCRIBE. Interest only records a change and never blocks. A Presence runs one goroutine that
// flushes, renews the registration and reaps dead nodes; Set and Remove never wait for Redis.
//
// # Guarantees
//
// Delivery across nodes is at most once, and ordered per publishing node: one node's packets leave
// through one writer on one connection, and Redis hands every subscriber its messages in the order it
// ran the PUBLISH commands, whatever their channels. Local delivery never waits for Redis: the hub
// delivers to its own clients before it hands the packet to the Broker.
//
// While Redis is unreachable, PublishHub and Command fail with ErrUnavailable (after the first failed
// pipeline, for ReconnectMin doubling to ReconnectMax), nothing is queued for later, and the
// subscriptions try again with the same backoff. Delivery resumes within about a second of Redis being
// back (go-redis retries a failing connection pool's dial once a second). What was lost is counted
// (Stats): PublishErrors on the sending node, Gaps on a receiving node (holes in a sender's sequence
// numbers on a channel, seen when its next envelope arrives), and a packet go-redis sent twice after a
// broken connection is dropped by its number (Duplicates). With LayoutChannel a packet published
// before a node's new SUBSCRIBE is in place (a round trip after its first subscriber came) may miss it.
//
// Presence: a node's changes reach Redis within FlushInterval; a node that dies without closing is
// left out of the others' reads NodeTTL after its last heartbeat, so within NodeTTL plus
// HeartbeatInterval of its death (6 s by default), and its keys are gone within one more
// HeartbeatInterval; if Redis loses a live node's keys (restart, or the node was cut off longer than
// NodeTTL), the node writes them all again within a HeartbeatInterval. A client's entry holds its id,
// user id, name, channels, IP and connection time (some 35 bytes, about 60 bytes of Redis memory per
// client); user agent and meta are not stored, and LastSeen reads as its node's last heartbeat.
//
// Redis Cluster: not supported. The Broker publishes with PUBLISH, which a cluster forwards to every
// node (SPUBLISH would keep it on one shard), and the Presence's scripts touch keys of one node that
// hash to different slots. Use one Redis (with a replica for failover) per cluster of hubs.
package wsredis
