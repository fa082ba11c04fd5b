package storage

import (
	"context"
	"errors"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestManagerLogsDeleteAndSize(t *testing.T) {
	dir := t.TempDir()
	m := openTest(t, ManagerConfig{Dir: dir})
	var logs []*Log
	for _, id := range []LogID{{"b", 1}, {"a", 0}, {"a.b-c_d", 12}} {
		l, err := m.OpenLog(id.Topic, id.Partition, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, simple(t, 2, 100, id.Topic, 0))
		logs = append(logs, l)
	}
	if again, _ := m.OpenLog("a", 0, DefaultConfig()); again != logs[1] {
		t.Fatal("second OpenLog returned a different log")
	}
	var names []string
	for _, l := range m.Logs() {
		names = append(names, l.Topic())
	}
	if !slices.Equal(names, []string{"a", "a.b-c_d", "b"}) {
		t.Fatalf("Logs() = %v", names)
	}
	if want := logs[0].Size() * 3; m.DirSize() != want {
		t.Fatalf("DirSize %d, want %d", m.DirSize(), want)
	}
	onDisk, err := m.LogsOnDisk()
	if err != nil || len(onDisk) != 3 || !slices.Contains(onDisk, LogID{"a.b-c_d", 12}) {
		t.Fatalf("LogsOnDisk = %v, %v", onDisk, err)
	}
	if err := m.DeleteLog("b", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(logs[0].Dir()); !os.IsNotExist(err) {
		t.Fatalf("log dir still there: %v", err)
	}
	if _, err := logs[0].Append(simple(t, 1, 1, "x", 0), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("append to deleted log: %v", err)
	}
	if len(m.Logs()) != 2 {
		t.Fatalf("%d logs after delete", len(m.Logs()))
	}
	// A deleted log comes back empty.
	l, err := m.OpenLog("b", 1, DefaultConfig())
	if err != nil || l.LogEndOffset() != 0 {
		t.Fatalf("reopened deleted log: leo %d, %v", l.LogEndOffset(), err)
	}
	if err := logs[1].Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.Logs()) != 2 {
		t.Fatalf("%d logs after Log.Close", len(m.Logs()))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenLog("a", 0, DefaultConfig()); !errors.Is(err, ErrClosed) {
		t.Fatalf("open after close: %v", err)
	}
}

func TestManagerCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	m := openTest(t, ManagerConfig{})
	for p := range 3 {
		l, err := m.OpenLog("t", int32(p), DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, simple(t, 1, 10, "x", 0))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
}

func TestDeadDiskFailsTheLog(t *testing.T) {
	cfs := newCrashFS()
	m := openTest(t, ManagerConfig{Dir: "/data", FS: cfs})
	l, err := m.OpenLog("t", 0, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, simple(t, 1, 10, "x", 0))
	cfs.Crash(nil, false) // every later call fails, like a dead disk
	if _, err := l.Append(simple(t, 1, 10, "y", 0), 0); err == nil {
		t.Fatal("append succeeded on a dead disk")
	}
	// Waiters are told, not left hanging.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := l.WaitFlushed(ctx, 5); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFlushed on a failed log: %v", err)
	}
	if _, err := l.Append(simple(t, 1, 10, "z", 0), 0); err == nil {
		t.Fatal("append succeeded on a failed log")
	}
	if err := m.Close(); err == nil {
		t.Fatal("Close reported success on a dead disk")
	}
}
