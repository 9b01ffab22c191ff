package poller

import (
	"errors"
	"testing"
)

// Setup's options are process-wide: a later call with other options fails
// instead of being silently ignored, and no call can switch the runner off
// (it is not an option).
func TestSetupRefusesOtherOptionsLater(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Setup(Options{}); err != nil {
		t.Fatalf("second zero Setup = %v, want the first call's result (nil)", err)
	}
	if err := Setup(Options{BufferSize: 128}); err != nil {
		t.Fatalf("Setup with the options in force = %v, want nil", err)
	}
	if err := Setup(Options{BufferSize: 4096}); !errors.Is(err, ErrConfigured) {
		t.Fatalf("Setup with another BufferSize = %v, want ErrConfigured", err)
	}
}
