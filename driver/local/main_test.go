package local

import (
	"os"
	"testing"
)

// TestMain lets the test binary be the trial supervisor, as the tune
// binary is, so the tests run tasks as tune runs them.
func TestMain(m *testing.M) {
	MaybeSupervise()
	os.Exit(m.Run())
}
