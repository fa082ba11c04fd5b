package storage

import (
	"testing"
)

func TestOpenLogReplacesDirectoryOfAnEarlierTopicIncarnation(t *testing.T) {
	dir := t.TempDir()
	first, second := [16]byte{1}, [16]byte{2}
	open := func(id [16]byte) (*Manager, *Log) {
		m := openTest(t, ManagerConfig{Dir: dir})
		cfg := smallConfig()
		cfg.TopicID = id
		l, err := m.OpenLog("t", 0, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m, l
	}
	m, l := open(first)
	mustAppend(t, l, simple(t, 5, 10, "a", 1))
	m.Close()

	// Same id: the data is there.
	m, l = open(first)
	if l.LogEndOffset() != 5 {
		t.Fatalf("reopened with the same id: leo %d, want 5", l.LogEndOffset())
	}
	m.Close()

	// Another incarnation of the topic: the old directory is replaced.
	m, l = open(second)
	if l.LogEndOffset() != 0 || l.LogStartOffset() != 0 {
		t.Fatalf("new incarnation sees old data: leo %d", l.LogEndOffset())
	}
	mustAppend(t, l, simple(t, 2, 10, "b", 1))
	m.Close()

	m, l = open(second)
	defer m.Close()
	if l.LogEndOffset() != 2 {
		t.Fatalf("new incarnation lost its own data: leo %d", l.LogEndOffset())
	}
	if id, ok, err := readTopicID(m.fs, l.Dir()); err != nil || !ok || id != second {
		t.Fatalf("stored id %v %v %v", id, ok, err)
	}
}
