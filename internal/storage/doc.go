// Package storage is the partition log: record batch validation, segments,
// offset and time indexes, append, read, group commit, crash recovery,
// retention and idempotent producer state. It imports nothing of ours
// (std, klauspost/compress and pierrec/lz4 to read compressed batches,
// x/sys for fdatasync).
//
// Where to start: Manager (manager.go) owns a data directory, the syncer and
// the retention loop; Log (log.go) is one partition with Append, Read and
// WaitFlushed; batch.go validates client bytes; recovery.go opens a log
// after a crash; sync.go is one group-commit round for a log.
//
// # Words
//
//	leo       log end offset: the offset the next record gets
//	hwm       high watermark: owned by the broker, passed to Read as maxOffset
//	logStart  log start offset: the first readable offset
//	flushed   every offset below it is durable (FlushedOffset)
//	pid       producer id; epoch is the producer epoch
//	rp        recovery point: how far a log is known synced and consistent
//
// # Files
//
//	<Dir>/.clean-shutdown                     empty; written last by Manager.Close,
//	                                          removed by OpenManager
//	<Dir>/topics/<topic>-<partition>/
//	    <20-digit base offset>.log            batches, byte for byte as produced
//	    <20-digit base offset>.index          sparse offset index
//	    <20-digit base offset>.timeindex      sparse time index
//	    <20-digit offset>.snapshot            producer state as of that offset (newest two kept)
//	    log-start-offset.checkpoint           log start offset
//	    recovery-point.checkpoint             recovery point
//
// Small files (checkpoints, snapshots, rewritten indexes) are replaced
// atomically: write <name>.tmp, fdatasync, rename, fsync the directory.
//
// # Segment (.log): a sequence of magic-2 record batches, big endian
//
//	byte  field                 type    note
//	   0  baseOffset            int64   assigned by Append        ┐ not covered
//	   8  batchLength           int32   bytes after this field    │ by the CRC
//	  12  partitionLeaderEpoch  int32   stamped by Append         │
//	  16  magic                 int8    2                         │
//	  17  crc                   uint32  CRC-32C (Castagnoli)      ┘
//	  21  attributes            int16   ┐ covered by the CRC: bits 0-2 codec,
//	  23  lastOffsetDelta       int32   │ 3 LogAppendTime, 4 transactional,
//	  27  baseTimestamp         int64   │ 5 control
//	  35  maxTimestamp          int64   │ set to the append time under LogAppendTime
//	  43  producerId            int64   │ (then the CRC is recomputed)
//	  51  producerEpoch         int16   │
//	  53  baseSequence          int32   │
//	  57  recordCount           int32   │ == lastOffsetDelta+1 > 0
//	  61  records ...                   ┘ compressed batches stay compressed
//
// Batches follow each other with contiguous offsets: each baseOffset is the
// previous batch's last offset + 1, the first is the segment's base.
//
// # Offset index (.index): 8-byte entries, no checksum
//
//	+---------------------------+---------------------------+
//	| relative offset  uint32   | position  uint32          |
//	+---------------------------+---------------------------+
//
// relative offset = a batch's baseOffset - segment base; position = the
// batch's byte position in the .log. An entry is added when at least
// index.interval.bytes were appended since the previous one; position 0 is
// implicit. Both columns strictly increase.
//
// # Time index (.timeindex): 12-byte entries, no checksum
//
//	+-------------------------------------------+---------------------------+
//	| timestamp  int64                          | relative offset  uint32   |
//	+-------------------------------------------+---------------------------+
//
// timestamp = the largest batch maxTimestamp so far in the segment;
// relative offset = the batch that first carried it. Written at offset
// index points when the max grew, and once more when the segment stops
// being active, so the last entry is the segment's max timestamp. Every
// record at or before that batch has a timestamp <= the entry's.
//
// Index files carry no checksum. They are checked when loaded (sizes,
// strictly increasing, inside the segment, the first and last offset
// entries and the last time entry match the batches they point at) and
// rebuilt from the .log if not; Read also checks the batch an entry points
// at and rebuilds the index on a mismatch.
//
// # Checkpoints and snapshots: one frame
//
//	+------------------+---------------+---------------------------------+
//	| crc32c  uint32   | version uint16| payload                         |
//	+------------------+---------------+---------------------------------+
//
// The CRC-32C covers version and payload; a bad or unknown frame is
// ignored (recovery then starts further back).
//
//	log-start-offset payload:  logStart int64
//	recovery-point payload:    segmentBase int64 | position int64 | nextOffset int64 |
//	                           indexEntries int64 | timeIndexEntries int64 |
//	                           maxTimestamp int64 | maxTimestampOffset int64
//	snapshot payload:          offset int64 | count uint32 | count × producer
//	producer:                  pid int64 | epoch int16 | lastAppendMs int64 | n uint8 |
//	                           n × ( firstSeq int32 | lastSeq int32 | baseOffset int64 | lastOffset int64 )
//
// The recovery point says: every segment before segmentBase, the bytes of
// that segment below position, and its first indexEntries/timeIndexEntries
// index entries are synced and valid; the batch at position has nextOffset.
//
// # Durability and group commit
//
// Append writes into the page cache and returns. One syncer goroutine per
// Manager gathers dirty logs, fdatasyncs them (SyncConcurrency at a time),
// advances their flushed offsets and wakes WaitFlushed. Appends made during
// a round go to the next, so rounds pipeline; when the last round left work
// behind it lingers up to SyncMaxDelay for SyncMinBytes to gather. A rolled
// segment is finished by the syncer: remaining index entries written, .log
// and indexes synced, directory synced (so the new segment's name is
// durable before its data counts). Every CheckpointBytes of synced data,
// and at each roll and Close, the syncer also writes a producer snapshot at
// the synced leo and the recovery point. Under FlushOS the active segment
// is not synced by rounds; flushed then is the active segment's base.
//
// # Recovery
//
// Manager.Close writes .clean-shutdown after closing every log; OpenManager
// notes and removes it. A log opens from its recovery point: older segments
// are trusted (their indexes load lazily, their max timestamp comes from the
// last time index entry), and everything after the recovery point is
// validated batch by batch (length, magic, CRC, record framing, contiguous
// offsets). The first bad byte ends the log: the segment is truncated there
// and later segments are deleted, with a Warn naming what was dropped. The
// scanned tail is then synced with rebuilt indexes and a new recovery point
// is written. Producer state comes from the newest snapshot at or below leo
// plus a replay of the batches after it. So start-up work grows with the
// data written since the last checkpoint, not with the log. After a clean
// shutdown the recovery point is the end of the log and nothing is scanned.
//
// # Concurrency and lock order
//
// Manager.mu → Log.syncMu → segment.rebuildMu → Log.mu → segment.mu.
// Log.flushMu and Manager.dirtyMu are leaves.
//
//   - Append: validation and CRC outside any lock, then Log.mu for the
//     sequence checks, offset assignment, pwrite and index update. It
//     publishes the segment size, then leo, with atomics.
//   - Read, the offset getters, OffsetForTimestamp, MaxTimestamp: no log
//     lock. They load leo, logStart and the immutable segment list from
//     atomics, take segment.mu shared for index lookups and read with pread,
//     never past the published size. They never wait for an fsync. A read
//     racing with retention that closed its segment retries.
//   - The syncer, retention, DeleteRecordsBefore and Close hold Log.syncMu
//     and take Log.mu only to capture or publish state; fdatasync runs
//     without Log.mu.
//
// Goroutines: the syncer and the retention loop belong to the Manager and
// stop in Manager.Close; a round's per-log sync goroutines end with the
// round. Queues: each log is queued for the syncer at most once.
package storage
