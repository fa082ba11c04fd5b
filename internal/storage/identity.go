package storage

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// topicIDFile records which topic incarnation a log directory belongs to,
// in Kafka's partition.metadata text format.
const topicIDFile = "partition.metadata"

func encodeTopicID(id [16]byte) []byte {
	return fmt.Appendf(nil, "version: 0\ntopic_id: %s\n", base64.RawURLEncoding.EncodeToString(id[:]))
}

// readTopicID returns the id stored in dir; ok is false when there is none.
func readTopicID(fsys FS, dir string) (id [16]byte, ok bool, err error) {
	b, err := readFile(fsys, filepath.Join(dir, topicIDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read %s: %w", topicIDFile, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "topic_id: "); found {
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(v))
			if err != nil || len(raw) != 16 {
				return id, false, &CorruptionError{File: filepath.Join(dir, topicIDFile), Reason: "bad topic_id"}
			}
			copy(id[:], raw)
			return id, true, nil
		}
	}
	return id, false, &CorruptionError{File: filepath.Join(dir, topicIDFile), Reason: "no topic_id"}
}

// writeTopicID records id in dir (nothing for the zero id).
func writeTopicID(fsys FS, dir string, id [16]byte) error {
	if id == ([16]byte{}) {
		return nil
	}
	return writeFileAtomic(fsys, dir, topicIDFile, encodeTopicID(id))
}

// dropStaleLogDir removes l's directory when it belongs to another topic
// incarnation than id, and records id in a directory that has none yet.
func (m *Manager) dropStaleLogDir(l *Log, id [16]byte) error {
	if id == ([16]byte{}) {
		return nil
	}
	if _, err := m.fs.ReadDir(l.dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	have, ok, err := readTopicID(m.fs, l.dir)
	switch {
	case err != nil:
		return err // a damaged identity file is not a reason to delete data
	case !ok:
		return writeTopicID(m.fs, l.dir, id)
	case have == id:
		return nil
	}
	l.logger.Warn("removing log directory of an earlier topic with the same name", "dir", l.dir)
	if err := m.fs.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("remove stale log dir: %w", err)
	}
	return m.fs.SyncDir(filepath.Dir(l.dir))
}
