package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
)

// producerBatchesKept is how many recent batches per producer are kept for
// duplicate detection (Kafka: 5, the max in-flight requests of an
// idempotent producer).
const producerBatchesKept = 5

// noEpoch is Kafka's RecordBatch.NO_PRODUCER_EPOCH.
const noEpoch = -1

// producerBatch is the sequence range and offsets of one appended batch.
type producerBatch struct {
	firstSeq, lastSeq      int32
	baseOffset, lastOffset int64
}

// producerState is what a log knows about one idempotent producer (pid).
// It is a value; the log's map holds copies, guarded by Log.mu.
type producerState struct {
	epoch   int16
	n       uint8                              // valid entries in batches
	batches [producerBatchesKept]producerBatch // oldest first
	lastTs  int64                              // clock (ms) of the last append, for expiry
}

// lastOffset is the last offset written by the producer, -1 if none.
func (p *producerState) lastOffset() int64 {
	if p.n == 0 {
		return -1
	}
	return p.batches[p.n-1].lastOffset
}

// duplicateOf returns the kept batch h repeats, if any.
func (p *producerState) duplicateOf(h *BatchHeader) (producerBatch, bool) {
	if h.ProducerEpoch != p.epoch {
		return producerBatch{}, false
	}
	last := h.LastSequence()
	for _, b := range p.batches[:p.n] {
		if b.firstSeq == h.BaseSequence && b.lastSeq == last {
			return b, true
		}
	}
	return producerBatch{}, false
}

// check applies Kafka's epoch and sequence rules to a non-duplicate batch
// of a known producer.
func (p *producerState) check(h *BatchHeader) error {
	switch {
	case h.ProducerEpoch < p.epoch:
		return fmt.Errorf("producer %d epoch %d older than %d: %w", h.ProducerID, h.ProducerEpoch, p.epoch, ErrInvalidProducerEpoch)
	case h.ProducerEpoch > p.epoch:
		if h.BaseSequence != 0 && p.epoch != noEpoch {
			return fmt.Errorf("producer %d new epoch %d starts at sequence %d, want 0: %w", h.ProducerID, h.ProducerEpoch, h.BaseSequence, ErrOutOfOrderSequence)
		}
	case p.n > 0:
		if want := addSequence(p.batches[p.n-1].lastSeq, 1); h.BaseSequence != want {
			return fmt.Errorf("producer %d epoch %d sequence %d, want %d: %w", h.ProducerID, h.ProducerEpoch, h.BaseSequence, want, ErrOutOfOrderSequence)
		}
	}
	return nil
}

// update records an appended batch (offsets assigned) in the state.
func (p *producerState) update(h *BatchHeader, nowMs int64) {
	if h.ProducerEpoch != p.epoch {
		p.epoch = h.ProducerEpoch
		p.n = 0
	}
	p.lastTs = nowMs
	if h.IsControl() {
		return
	}
	b := producerBatch{firstSeq: h.BaseSequence, lastSeq: h.LastSequence(), baseOffset: h.BaseOffset, lastOffset: h.LastOffset()}
	if p.n == producerBatchesKept {
		copy(p.batches[:], p.batches[1:])
		p.n--
	}
	p.batches[p.n] = b
	p.n++
}

// applyRebuilt replays a batch read back from the log into the state map
// without checks (recovery).
func applyRebuilt(m map[int64]producerState, h *BatchHeader, nowMs int64) {
	if h.ProducerID < 0 {
		return
	}
	p, ok := m[h.ProducerID]
	if !ok {
		p = producerState{epoch: noEpoch}
	}
	if ok && h.ProducerEpoch < p.epoch {
		return
	}
	p.update(h, nowMs)
	m[h.ProducerID] = p
}

// snapshotName is the file name of a producer snapshot at offset.
func snapshotName(offset int64) string { return segmentName(offset) + snapshotSuffix }

// encodeSnapshot serializes producer state as of offset.
func encodeSnapshot(offset int64, m map[int64]producerState) []byte {
	pids := make([]int64, 0, len(m))
	for pid := range m {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	p := binary.BigEndian.AppendUint64(nil, uint64(offset))
	p = binary.BigEndian.AppendUint32(p, uint32(len(pids)))
	for _, pid := range pids {
		st := m[pid]
		p = binary.BigEndian.AppendUint64(p, uint64(pid))
		p = binary.BigEndian.AppendUint16(p, uint16(st.epoch))
		p = binary.BigEndian.AppendUint64(p, uint64(st.lastTs))
		p = append(p, st.n)
		for _, b := range st.batches[:st.n] {
			p = binary.BigEndian.AppendUint32(p, uint32(b.firstSeq))
			p = binary.BigEndian.AppendUint32(p, uint32(b.lastSeq))
			p = binary.BigEndian.AppendUint64(p, uint64(b.baseOffset))
			p = binary.BigEndian.AppendUint64(p, uint64(b.lastOffset))
		}
	}
	return sealed(p)
}

// decodeSnapshot parses a snapshot file.
func decodeSnapshot(b []byte) (offset int64, m map[int64]producerState, err error) {
	p, err := unseal(b)
	if err != nil {
		return 0, nil, err
	}
	errShort := errors.New("truncated")
	if len(p) < 12 {
		return 0, nil, errShort
	}
	offset = int64(binary.BigEndian.Uint64(p))
	count := binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	m = make(map[int64]producerState, min(int(count), len(p)/19))
	for range count {
		if len(p) < 19 {
			return 0, nil, errShort
		}
		pid := int64(binary.BigEndian.Uint64(p))
		st := producerState{epoch: int16(binary.BigEndian.Uint16(p[8:])), lastTs: int64(binary.BigEndian.Uint64(p[10:])), n: p[18]}
		p = p[19:]
		if st.n > producerBatchesKept || len(p) < int(st.n)*24 {
			return 0, nil, errShort
		}
		for i := range int(st.n) {
			st.batches[i] = producerBatch{
				firstSeq:   int32(binary.BigEndian.Uint32(p)),
				lastSeq:    int32(binary.BigEndian.Uint32(p[4:])),
				baseOffset: int64(binary.BigEndian.Uint64(p[8:])),
				lastOffset: int64(binary.BigEndian.Uint64(p[16:])),
			}
			p = p[24:]
		}
		m[pid] = st
	}
	if len(p) != 0 {
		return 0, nil, fmt.Errorf("%d trailing bytes", len(p))
	}
	return offset, m, nil
}

// listSnapshots returns the offsets of the snapshot files in dir, ascending.
func listSnapshots(names []string) []int64 {
	var offs []int64
	for _, n := range names {
		if off, ok := parseSegmentName(n, snapshotSuffix); ok {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	return offs
}

// writeSnapshot writes a snapshot file and removes all but the newest two.
func writeSnapshot(fsys FS, dir string, offset int64, m map[int64]producerState) error {
	if err := writeFileAtomic(fsys, dir, snapshotName(offset), encodeSnapshot(offset, m)); err != nil {
		return fmt.Errorf("write producer snapshot: %w", err)
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list producer snapshots %s: %w", dir, err)
	}
	offs := listSnapshots(names)
	for len(offs) > 2 {
		if err := fsys.Remove(filepath.Join(dir, snapshotName(offs[0]))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove old producer snapshot: %w", err)
		}
		offs = offs[1:]
	}
	return nil
}
