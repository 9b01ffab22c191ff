package main

import (
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
	"github.com/surge-ws/ws/loadtest/internal/stub"
)

func TestSpeaksTheProtocol(t *testing.T) {
	s := stub.StartTest(t)
	peertest.Check(t, s.URL())
}
