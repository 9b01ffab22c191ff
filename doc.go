// Package ws is the short import path of Surge's hub, shaped like the ws package of the runa
// framework so that a runa program ports by changing its imports:
//
//	hub := ws.New("default", ws.Config{Origin: []string{"http://localhost:3000"}})
//	hub.On("chat.message", func(ctx *ws.Context) error {
//		return ctx.Publish("room", "chat.message", ctx.Message().Data)
//	})
//
// Every name here is an alias of, or forwards to, package github.com/surge-ws/ws/hub, which documents
// the behaviour and the concurrency contracts; this package holds no logic of its own. Serve a hub
// with hub.Mux (several hubs on one port, by path; its Server is also an http.Handler for any net/http
// router) or hub.Endpoint on a conn.Server. The runa
// framework glue (Provider, Mount, the ws:* commands) and the Redis Broker and Presence are not
// written yet.
package ws
