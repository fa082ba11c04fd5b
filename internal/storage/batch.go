package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Byte positions of the fields of a magic-2 record batch header.
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// BatchHeaderSize is the size of a magic-2 record batch header; the
	// records follow it.
	BatchHeaderSize = 61
	// logOverhead is the part of the header not counted by batchLength.
	logOverhead = 12
	// minBatchLength is the smallest valid batchLength (a header, no records).
	minBatchLength = BatchHeaderSize - logOverhead
)

// Attribute bits of a record batch.
const (
	AttrCompressionMask = 0x07
	AttrLogAppendTime   = 0x08
	AttrTransactional   = 0x10
	AttrControl         = 0x20
)

// Compression codecs (attribute bits 0-2).
const (
	CompressionNone   = 0
	CompressionGzip   = 1
	CompressionSnappy = 2
	CompressionLZ4    = 3
	CompressionZstd   = 4
)

// castagnoli is the CRC-32C table; it is immutable after package init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the decoded 61-byte header of a magic-2 record batch.
type BatchHeader struct {
	BaseOffset           int64
	BatchLength          int32 // bytes after the BatchLength field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32 // CRC-32C of everything from Attributes to the end
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the total size of the batch in bytes, header included.
func (h BatchHeader) Size() int { return logOverhead + int(h.BatchLength) }

// LastOffset is the offset of the last record of the batch.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Compression is the codec number from the attributes (0 none … 4 zstd).
func (h BatchHeader) Compression() int { return int(h.Attributes & AttrCompressionMask) }

// IsLogAppendTime reports the timestamp-type attribute bit.
func (h BatchHeader) IsLogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// IsTransactional reports the transactional attribute bit.
func (h BatchHeader) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// IsControl reports the control-batch attribute bit.
func (h BatchHeader) IsControl() bool { return h.Attributes&AttrControl != 0 }

// LastSequence is the sequence number of the last record, wrapping past
// MaxInt32 to 0 as Kafka does.
func (h BatchHeader) LastSequence() int32 { return addSequence(h.BaseSequence, h.LastOffsetDelta) }

// addSequence adds delta (>= 0) to seq with Kafka's wrap-around at MaxInt32.
func addSequence(seq, delta int32) int32 {
	if seq > maxInt32-delta {
		return delta - (maxInt32 - seq) - 1
	}
	return seq + delta
}

const maxInt32 = 1<<31 - 1

// ParseBatchHeader decodes the header at the start of b. It checks only that
// b is long enough and that the magic byte is 2; ValidateBatches checks the rest.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("parse batch header: %d bytes, need %d: %w", len(b), BatchHeaderSize, ErrCorruptMessage)
	}
	h := parseHeader(b)
	if h.Magic != 2 {
		return h, fmt.Errorf("parse batch header: magic %d: %w", h.Magic, ErrInvalidRecord)
	}
	return h, nil
}

// parseHeader decodes a header without checks; len(b) >= BatchHeaderSize.
func parseHeader(b []byte) BatchHeader {
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:           int64(be.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(be.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:           int32(be.Uint32(b[offRecordCount:])),
	}
}

// ValidateBatches checks a produce payload: one or more complete magic-2
// batches, lengths consistent, CRC-32C valid, recordCount > 0 and equal to
// lastOffsetDelta+1, the inner record framing of uncompressed batches, and
// each batch at most maxBatchBytes (< 0: no limit) long. It returns the
// number of batches and of records. It does not allocate.
//
// Errors: ErrCorruptMessage (truncated, bad length, bad CRC, unknown codec),
// ErrInvalidRecord (magic not 2, count mismatch, bad record framing),
// ErrMessageTooLarge.
func ValidateBatches(data []byte, maxBatchBytes int) (batches, records int, err error) {
	if len(data) == 0 {
		return 0, 0, fmt.Errorf("validate batches: empty payload: %w", ErrCorruptMessage)
	}
	pos := 0
	for pos < len(data) {
		n, count, err := validateBatch(data[pos:], maxBatchBytes)
		if err != nil {
			return batches, records, fmt.Errorf("validate batch %d at byte %d: %w", batches, pos, err)
		}
		batches++
		records += count
		pos += n
	}
	return batches, records, nil
}

// validateBatch checks the batch at the start of b and returns its size and
// record count.
func validateBatch(b []byte, maxBatchBytes int) (size, count int, err error) {
	if len(b) < BatchHeaderSize {
		return 0, 0, fmt.Errorf("truncated header (%d bytes): %w", len(b), ErrCorruptMessage)
	}
	length := int64(int32(binary.BigEndian.Uint32(b[offBatchLength:])))
	if length < minBatchLength {
		return 0, 0, fmt.Errorf("batch length %d below minimum %d: %w", length, minBatchLength, ErrCorruptMessage)
	}
	total := logOverhead + length
	if total > int64(len(b)) {
		return 0, 0, fmt.Errorf("truncated batch: length %d, %d bytes left: %w", total, len(b), ErrCorruptMessage)
	}
	if magic := int8(b[offMagic]); magic != 2 {
		return 0, 0, fmt.Errorf("magic %d, want 2: %w", magic, ErrInvalidRecord)
	}
	if maxBatchBytes >= 0 && total > int64(maxBatchBytes) {
		return 0, 0, fmt.Errorf("batch of %d bytes exceeds max.message.bytes %d: %w", total, maxBatchBytes, ErrMessageTooLarge)
	}
	batch := b[:total]
	if want, got := binary.BigEndian.Uint32(batch[offCRC:]), crc32.Checksum(batch[offAttributes:], castagnoli); want != got {
		return 0, 0, fmt.Errorf("crc %08x, computed %08x: %w", want, got, ErrCorruptMessage)
	}
	h := parseHeader(batch)
	if h.NumRecords <= 0 || h.LastOffsetDelta < 0 || int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return 0, 0, fmt.Errorf("record count %d does not match last offset delta %d: %w", h.NumRecords, h.LastOffsetDelta, ErrInvalidRecord)
	}
	switch h.Compression() {
	case CompressionNone:
		if err := validateRecords(batch[BatchHeaderSize:], h.NumRecords); err != nil {
			return 0, 0, err
		}
	case CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd:
		// Compressed records stay compressed: the CRC covers them and
		// consumers decode them.
	default:
		return 0, 0, fmt.Errorf("unknown compression codec %d: %w", h.Compression(), ErrCorruptMessage)
	}
	return int(total), int(h.NumRecords), nil
}

// validateRecords checks the framing of count uncompressed records filling b
// exactly: each record's length prefix matches its fields.
func validateRecords(b []byte, count int32) error {
	for i := int32(0); i < count; i++ {
		length, n := binary.Varint(b)
		if n <= 0 || length < 0 || length > int64(len(b)-n) {
			return fmt.Errorf("record %d: bad length: %w", i, ErrInvalidRecord)
		}
		rec := b[n : n+int(length)]
		b = b[n+int(length):]
		if err := walkRecord(rec, nil); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%d bytes after the last of %d records: %w", len(b), count, ErrInvalidRecord)
	}
	return nil
}

// recordFields are the parts of a record we read without copying.
type recordFields struct {
	TimestampDelta int64
	OffsetDelta    int32
}

// walkRecord parses one record body (after its length prefix), which must be
// consumed exactly. If f is non-nil the timestamp and offset deltas are
// stored there.
func walkRecord(rec []byte, f *recordFields) error {
	if len(rec) < 1 {
		return fmt.Errorf("empty record: %w", ErrInvalidRecord)
	}
	p := 1 // attributes
	tsDelta, n := binary.Varint(rec[p:])
	if n <= 0 {
		return fmt.Errorf("bad timestamp delta: %w", ErrInvalidRecord)
	}
	p += n
	offDelta, n := binary.Varint(rec[p:])
	if n <= 0 || offDelta < 0 || offDelta > maxInt32 {
		return fmt.Errorf("bad offset delta: %w", ErrInvalidRecord)
	}
	p += n
	for range 2 { // key, value
		l, n := binary.Varint(rec[p:])
		if n <= 0 || l < -1 || l > int64(len(rec)-p-n) {
			return fmt.Errorf("bad key or value length: %w", ErrInvalidRecord)
		}
		p += n
		if l > 0 {
			p += int(l)
		}
	}
	headers, n := binary.Varint(rec[p:])
	if n <= 0 || headers < 0 || headers > int64(len(rec)) {
		return fmt.Errorf("bad header count: %w", ErrInvalidRecord)
	}
	p += n
	for range headers {
		kl, n := binary.Varint(rec[p:])
		if n <= 0 || kl < 0 || kl > int64(len(rec)-p-n) {
			return fmt.Errorf("bad header key length: %w", ErrInvalidRecord)
		}
		p += n + int(kl)
		vl, n := binary.Varint(rec[p:])
		if n <= 0 || vl < -1 || vl > int64(len(rec)-p-n) {
			return fmt.Errorf("bad header value length: %w", ErrInvalidRecord)
		}
		p += n
		if vl > 0 {
			p += int(vl)
		}
	}
	if p != len(rec) {
		return fmt.Errorf("record length %d, fields end at %d: %w", len(rec), p, ErrInvalidRecord)
	}
	if f != nil {
		f.TimestampDelta = tsDelta
		f.OffsetDelta = int32(offDelta)
	}
	return nil
}

// batchCRC computes the CRC-32C a batch should carry.
func batchCRC(batch []byte) uint32 { return crc32.Checksum(batch[offAttributes:], castagnoli) }

// setBaseOffset rewrites the base offset (not covered by the CRC).
func setBaseOffset(batch []byte, off int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(off))
}

// setLeaderEpoch rewrites the partition leader epoch (not covered by the CRC).
func setLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// setLogAppendTime marks the batch as LogAppendTime with maxTimestamp ts and
// recomputes the CRC. Like Kafka, it leaves baseTimestamp and the records
// alone: consumers take every record's timestamp from maxTimestamp.
func setLogAppendTime(batch []byte, ts int64) {
	be := binary.BigEndian
	attrs := be.Uint16(batch[offAttributes:]) | AttrLogAppendTime
	be.PutUint16(batch[offAttributes:], attrs)
	be.PutUint64(batch[offMaxTimestamp:], uint64(ts))
	be.PutUint32(batch[offCRC:], batchCRC(batch))
}
