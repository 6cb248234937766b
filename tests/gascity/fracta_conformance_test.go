// Package fractaconf points Gas City's own conformance suites at fracta's
// binaries through Gas City's exec adapters. It is fracta's file: run.sh
// drops it into a scratch copy of Gas City's tree (the suites are internal
// packages there) and runs it; nothing of Gas City is kept in fracta.
//
//	FRACTA_GC_SESSION  the session provider (fracta-spawn-local or a wrapper)
//	FRACTA_GC_COMMAND  the command each session runs ("" — gc's default shell)
//	FRACTA_GC_EVENTS   the events provider (fracta-events); each test gets a
//	                   fresh store in its own FRACTA_EVENTS_STORE
package fractaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gastownhall/gascity/internal/events"
	"github.com/gastownhall/gascity/internal/events/eventstest"
	eventsexec "github.com/gastownhall/gascity/internal/events/exec"
	"github.com/gastownhall/gascity/internal/runtime"
	runtimeexec "github.com/gastownhall/gascity/internal/runtime/exec"
	"github.com/gastownhall/gascity/internal/runtime/runtimetest"
)

var serial atomic.Int64

func TestFractaSessionConformance(t *testing.T) {
	bin := os.Getenv("FRACTA_GC_SESSION")
	if bin == "" {
		t.Fatal("FRACTA_GC_SESSION is not set")
	}
	provider := runtimeexec.NewProvider(bin)
	command := os.Getenv("FRACTA_GC_COMMAND")
	prefix := fmt.Sprintf("gc%d-", os.Getpid())
	runtimetest.RunProviderTests(t, func(t *testing.T) (runtime.Provider, runtime.Config, string) {
		name := fmt.Sprintf("%s%d", prefix, serial.Add(1))
		t.Cleanup(func() { _ = provider.Stop(name) })
		return provider, runtime.Config{Command: command, WorkDir: t.TempDir()}, name
	})
}

func TestFractaEventsConformance(t *testing.T) {
	bin := os.Getenv("FRACTA_GC_EVENTS")
	if bin == "" {
		t.Fatal("FRACTA_GC_EVENTS is not set")
	}
	factory := func(t *testing.T) (events.Provider, func()) {
		t.Setenv("FRACTA_EVENTS_STORE", "sqlite:"+filepath.Join(t.TempDir(), "events.db"))
		p := eventsexec.NewProvider(bin, os.Stderr)
		return p, func() { _ = p.Close() }
	}
	eventstest.RunProviderTests(t, factory)
	eventstest.RunConcurrencyTests(t, factory)
}
