module github.com/surge-ws/ws

go 1.26.0

require (
	github.com/bytedance/gopkg v0.1.1
	github.com/cloudwego/netpoll v0.7.2
	github.com/gobwas/httphead v0.1.0
	github.com/gobwas/ws v1.5.0
	golang.org/x/sys v0.50.0
)

require github.com/cloudwego/gopkg v0.1.4 // indirect
