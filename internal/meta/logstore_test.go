package meta

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testEntry(i uint64) *raft.Log {
	l := &raft.Log{Index: i, Term: 1 + i/10, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry %d", i))}
	if i%2 == 0 {
		l.Extensions = []byte{byte(i)}
		l.AppendedAt = time.Unix(1700000000, int64(i))
	}
	return l
}

func openTestLogStore(t *testing.T, path string) *logStore {
	t.Helper()
	s, err := openLogStore(path, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func storeRange(t *testing.T, s *logStore, from, to uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := from; i <= to; i++ {
		logs = append(logs, testEntry(i))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

// checkRange checks that s holds exactly the entries first..last, each as
// testEntry made it.
func checkRange(t *testing.T, s *logStore, first, last uint64) {
	t.Helper()
	gotFirst, _ := s.FirstIndex()
	gotLast, _ := s.LastIndex()
	if gotFirst != first || gotLast != last {
		t.Fatalf("range %d-%d, want %d-%d", gotFirst, gotLast, first, last)
	}
	for i := first; i <= last && last > 0; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", i, err)
		}
		want := testEntry(i)
		if l.Index != want.Index || l.Term != want.Term || l.Type != want.Type ||
			!bytes.Equal(l.Data, want.Data) || !bytes.Equal(l.Extensions, want.Extensions) || !l.AppendedAt.Equal(want.AppendedAt) {
			t.Fatalf("GetLog(%d) = %+v, want %+v", i, l, want)
		}
	}
	var l raft.Log
	for _, i := range []uint64{first - 1, last + 1} {
		if err := s.GetLog(i, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) = %v, want ErrLogNotFound", i, err)
		}
	}
}

func TestLogStoreKeepsEntriesAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.log")
	s := openTestLogStore(t, path)
	checkRange(t, s, 0, 0)
	storeRange(t, s, 1, 10)
	if err := s.StoreLog(testEntry(11)); err != nil {
		t.Fatal(err)
	}
	checkRange(t, s, 1, 11)
	// Compaction deletes a prefix, a conflict a suffix.
	if err := s.DeleteRange(1, 4); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(9, 11); err != nil {
		t.Fatal(err)
	}
	checkRange(t, s, 5, 8)
	storeRange(t, s, 9, 12)
	s.Close()

	s = openTestLogStore(t, path)
	checkRange(t, s, 5, 12)
}

func TestLogStoreRejectsGapsAndHoles(t *testing.T) {
	s := openTestLogStore(t, filepath.Join(t.TempDir(), "raft.log"))
	storeRange(t, s, 5, 8) // an empty log may start anywhere (after a snapshot)
	for _, i := range []uint64{8, 10, 4} {
		if err := s.StoreLog(testEntry(i)); err == nil {
			t.Errorf("StoreLog(%d) after 5-8 accepted", i)
		}
	}
	if err := s.DeleteRange(6, 7); err == nil {
		t.Error("DeleteRange(6, 7) inside 5-8 accepted")
	}
	checkRange(t, s, 5, 8)
	// Deleting everything leaves an empty log that may start anywhere.
	if err := s.DeleteRange(0, 100); err != nil {
		t.Fatal(err)
	}
	checkRange(t, s, 0, 0)
	storeRange(t, s, 20, 21)
	checkRange(t, s, 20, 21)
}

func TestLogStoreDropsTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail func(full []byte) []byte // what a crash left after the good records
	}{
		{"partial header", func(full []byte) []byte { return full[:3] }},
		{"partial payload", func(full []byte) []byte { return full[:len(full)-5] }},
		{"bad checksum", func(full []byte) []byte {
			b := bytes.Clone(full)
			b[len(b)-1] ^= 0xff
			return b
		}},
		{"garbage length", func([]byte) []byte { return []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "raft.log")
			s := openTestLogStore(t, path)
			storeRange(t, s, 1, 3)
			s.Close()
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			full := appendRecord(nil, encodeEntry(testEntry(4)))
			if err := os.WriteFile(path, append(bytes.Clone(good), tc.tail(full)...), 0o644); err != nil {
				t.Fatal(err)
			}

			s = openTestLogStore(t, path)
			checkRange(t, s, 1, 3)
			if fi, err := os.Stat(path); err != nil || fi.Size() != int64(len(good)) {
				t.Fatalf("file not truncated to %d bytes: %v, %v", len(good), fi.Size(), err)
			}
			storeRange(t, s, 4, 5)
			s.Close()
			s = openTestLogStore(t, path)
			checkRange(t, s, 1, 5)
		})
	}
}

func TestLogStoreReportsCorruptionBeforeTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.log")
	s := openTestLogStore(t, path)
	storeRange(t, s, 1, 3)
	s.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[recordHeaderSize+2] ^= 0xff // inside the first record's payload
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = openLogStore(path, testLogger())
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Offset != 0 || ce.Path != path {
		t.Fatalf("open = %v, want a CorruptionError at offset 0", err)
	}
}

func TestLogStoreCompactsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.log")
	s := openTestLogStore(t, path)
	s.compactMin = 1
	storeRange(t, s, 1, 100)
	before, _ := os.Stat(path)
	if err := s.DeleteRange(1, 90); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size()/5 {
		t.Fatalf("file is %d bytes after deleting 90 of 100 entries (was %d)", after.Size(), before.Size())
	}
	storeRange(t, s, 101, 102)
	checkRange(t, s, 91, 102)
	s.Close()
	s = openTestLogStore(t, path)
	checkRange(t, s, 91, 102)
}

func TestLogStoreFailsAfterClose(t *testing.T) {
	s := openTestLogStore(t, filepath.Join(t.TempDir(), "raft.log"))
	s.Close()
	if err := s.StoreLog(testEntry(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("StoreLog after Close = %v, want ErrClosed", err)
	}
}

func TestStableStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stable.json")
	s, err := openStableStore(path)
	if err != nil {
		t.Fatal(err)
	}
	// Raft tells "missing" from "broken" by this exact text.
	if _, err := s.Get([]byte("k")); err == nil || err.Error() != "not found" {
		t.Fatalf("Get of a missing key = %v", err)
	}
	if _, err := s.GetUint64([]byte("n")); err == nil || err.Error() != "not found" {
		t.Fatalf("GetUint64 of a missing key = %v", err)
	}
	if err := s.Set([]byte("k"), []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]byte("k"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("n"), 1<<40); err != nil {
		t.Fatal(err)
	}

	s, err = openStableStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get([]byte("k")); err != nil || string(v) != "v2" {
		t.Errorf("Get(k) = %q, %v", v, err)
	}
	if n, err := s.GetUint64([]byte("n")); err != nil || n != 1<<40 {
		t.Errorf("GetUint64(n) = %d, %v", n, err)
	}
	if _, err := s.GetUint64([]byte("k")); err == nil {
		t.Error("GetUint64 of a 2-byte value succeeded")
	}

	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptionError
	if _, err := openStableStore(path); !errors.As(err, &ce) {
		t.Errorf("open of a broken file = %v, want CorruptionError", err)
	}
}

func TestEntryEncodingRoundTrip(t *testing.T) {
	for _, l := range []*raft.Log{
		{Index: 1, Term: 1},
		{Index: 1 << 60, Term: 7, Type: raft.LogConfiguration, Data: []byte("x"), Extensions: []byte("yz"), AppendedAt: time.Unix(0, 42)},
	} {
		got, err := decodeEntry(encodeEntry(l))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, l) {
			t.Errorf("round trip of %+v = %+v", l, got)
		}
	}
	full := encodeEntry(testEntry(2))
	for n := range len(full) {
		if _, err := decodeEntry(full[:n]); err == nil {
			t.Fatalf("decodeEntry accepted the first %d of %d bytes", n, len(full))
		}
	}
}

func BenchmarkLogStoreStoreLog(b *testing.B) {
	s, err := openLogStore(filepath.Join(b.TempDir(), "raft.log"), testLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := &raft.Log{Term: 1, Data: make([]byte, 256)}
	b.ReportAllocs()
	b.SetBytes(int64(len(l.Data)))
	for b.Loop() {
		l.Index++
		if err := s.StoreLog(l); err != nil {
			b.Fatal(err)
		}
	}
}
