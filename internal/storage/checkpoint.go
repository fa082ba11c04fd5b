package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File names inside a log directory and the data directory.
const (
	logStartFile      = "log-start-offset.checkpoint"
	recoveryPointFile = "recovery-point.checkpoint"
	snapshotSuffix    = ".snapshot"
	tmpSuffix         = ".tmp"
	cleanShutdownFile = ".clean-shutdown"

	checkpointVersion = 1
)

// sealed frames a payload as crc32c(version|payload) | version | payload.
func sealed(payload []byte) []byte {
	b := make([]byte, 6, 6+len(payload))
	binary.BigEndian.PutUint16(b[4:], checkpointVersion)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], castagnoli))
	return b
}

// unseal checks the frame written by sealed and returns the payload.
func unseal(b []byte) ([]byte, error) {
	if len(b) < 6 {
		return nil, fmt.Errorf("%d bytes, too short", len(b))
	}
	if got, want := crc32.Checksum(b[4:], castagnoli), binary.BigEndian.Uint32(b); got != want {
		return nil, fmt.Errorf("crc %08x, computed %08x", want, got)
	}
	if v := binary.BigEndian.Uint16(b[4:]); v != checkpointVersion {
		return nil, fmt.Errorf("version %d unknown", v)
	}
	return b[6:], nil
}

// writeFileAtomic replaces dir/name with data: write a temporary file, sync
// it, rename it over the old one and sync the directory.
func writeFileAtomic(fsys FS, dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + tmpSuffix
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err == nil {
		err = fsys.SyncDir(dir)
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readFile reads a whole file; a missing file returns fs.ErrNotExist.
func readFile(fsys FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// writeLogStart persists the log start offset of a log directory.
func writeLogStart(fsys FS, dir string, logStart int64) error {
	return writeFileAtomic(fsys, dir, logStartFile, sealed(binary.BigEndian.AppendUint64(nil, uint64(logStart))))
}

// readLogStart reads the persisted log start offset; ok is false if there
// is none or it is unreadable.
func readLogStart(fsys FS, dir string) (logStart int64, ok bool, err error) {
	b, err := readFile(fsys, filepath.Join(dir, logStartFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read log start checkpoint %s: %w", dir, err)
	}
	p, err := unseal(b)
	if err != nil || len(p) != 8 {
		return 0, false, nil
	}
	return int64(binary.BigEndian.Uint64(p)), true, nil
}

// recoveryPoint says how far a log is known durable and consistent:
// everything before (segBase, pos) is synced, and so are the first
// idxEntries / tidxEntries index entries of that segment.
type recoveryPoint struct {
	segBase     int64
	pos         int64
	next        int64 // offset of the batch at pos (the log end offset if pos is the end)
	idxEntries  int64
	tidxEntries int64
	maxTs       int64 // the segment's max timestamp below pos, -1 if none
	maxTsOff    int64
}

func writeRecoveryPoint(fsys FS, dir string, rp recoveryPoint) error {
	var p []byte
	for _, v := range []int64{rp.segBase, rp.pos, rp.next, rp.idxEntries, rp.tidxEntries, rp.maxTs, rp.maxTsOff} {
		p = binary.BigEndian.AppendUint64(p, uint64(v))
	}
	return writeFileAtomic(fsys, dir, recoveryPointFile, sealed(p))
}

// readRecoveryPoint reads the recovery checkpoint; ok is false if there is
// none or it is unreadable (then recovery starts at the first segment).
func readRecoveryPoint(fsys FS, dir string) (rp recoveryPoint, ok bool, err error) {
	b, err := readFile(fsys, filepath.Join(dir, recoveryPointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return rp, false, nil
	}
	if err != nil {
		return rp, false, fmt.Errorf("read recovery checkpoint %s: %w", dir, err)
	}
	p, err := unseal(b)
	if err != nil || len(p) != 7*8 {
		return rp, false, nil
	}
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(p[i*8:])) }
	rp = recoveryPoint{segBase: v(0), pos: v(1), next: v(2), idxEntries: v(3), tidxEntries: v(4), maxTs: v(5), maxTsOff: v(6)}
	if rp.segBase < 0 || rp.pos < 0 || rp.next < rp.segBase || rp.idxEntries < 0 || rp.tidxEntries < 0 {
		return rp, false, nil
	}
	return rp, true, nil
}
