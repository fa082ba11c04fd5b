package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxDecompressedBytes bounds what one batch may decompress to when the
// storage itself reads records (timestamp lookups).
const maxDecompressedBytes = 64 << 20

// decompressor decodes compressed record sets. It pools zstd decoders.
type decompressor struct {
	zstd sync.Pool // *zstd.Decoder
}

// xerialHeader starts snappy data framed the way the Java client does.
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

func (d *decompressor) decompress(codec int, src []byte) ([]byte, error) {
	switch codec {
	case CompressionNone:
		return src, nil
	case CompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readLimited(zr)
	case CompressionSnappy:
		return decodeSnappy(src)
	case CompressionLZ4:
		return readLimited(lz4.NewReader(bytes.NewReader(src)))
	case CompressionZstd:
		dec, _ := d.zstd.Get().(*zstd.Decoder)
		if dec == nil {
			var err error
			dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecompressedBytes))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
		}
		out, err := dec.DecodeAll(src, nil)
		d.zstd.Put(dec)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("compression codec %d: %w", codec, ErrCorruptMessage)
}

// close releases pooled decoders.
func (d *decompressor) close() {
	for {
		dec, _ := d.zstd.Get().(*zstd.Decoder)
		if dec == nil {
			return
		}
		dec.Close()
	}
}

func readLimited(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressedBytes {
		return nil, fmt.Errorf("decompressed batch over %d bytes", maxDecompressedBytes)
	}
	return out, nil
}

// decodeSnappy decodes raw snappy blocks or the xerial framing (header,
// then 4-byte-length-prefixed blocks).
func decodeSnappy(src []byte) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialHeader) {
		return decodeSnappyBlock(nil, src)
	}
	if len(src) < 16 {
		return nil, errors.New("snappy: short xerial header")
	}
	src = src[16:]
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, errors.New("snappy: truncated xerial chunk")
		}
		n := binary.BigEndian.Uint32(src)
		if int64(n) > int64(len(src)-4) {
			return nil, errors.New("snappy: truncated xerial chunk")
		}
		var err error
		if out, err = decodeSnappyBlock(out, src[4:4+n]); err != nil {
			return nil, err
		}
		src = src[4+n:]
	}
	return out, nil
}

// decodeSnappyBlock appends one decoded snappy block to out.
func decodeSnappyBlock(out, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if len(out)+n > maxDecompressedBytes {
		return nil, fmt.Errorf("decompressed batch over %d bytes", maxDecompressedBytes)
	}
	dec, err := s2.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return append(out, dec...), nil
}

// forEachRecord calls fn with the offset and timestamp of each record of a
// batch, decompressing it if needed, until fn returns false.
func (d *decompressor) forEachRecord(batch []byte, fn func(offset, ts int64) bool) error {
	h := parseHeader(batch)
	if h.IsLogAppendTime() {
		// Every record has the batch's max timestamp.
		for i := int64(0); i <= int64(h.LastOffsetDelta); i++ {
			if !fn(h.BaseOffset+i, h.MaxTimestamp) {
				return nil
			}
		}
		return nil
	}
	recs, err := d.decompress(h.Compression(), batch[BatchHeaderSize:])
	if err != nil {
		return fmt.Errorf("decompress batch at offset %d: %w", h.BaseOffset, err)
	}
	var f recordFields
	for i := int32(0); i < h.NumRecords; i++ {
		length, n := binary.Varint(recs)
		if n <= 0 || length < 0 || length > int64(len(recs)-n) {
			return fmt.Errorf("record %d of batch at offset %d: bad length: %w", i, h.BaseOffset, ErrCorruptMessage)
		}
		if err := walkRecord(recs[n:n+int(length)], &f); err != nil {
			return fmt.Errorf("record %d of batch at offset %d: %w", i, h.BaseOffset, err)
		}
		recs = recs[n+int(length):]
		if !fn(h.BaseOffset+int64(f.OffsetDelta), h.BaseTimestamp+f.TimestampDelta) {
			return nil
		}
	}
	return nil
}

// OffsetForTimestamp returns the first offset at or after the log start
// whose record timestamp is >= ts, and that record's timestamp. It reads
// the exact record, decompressing its batch if needed, as Kafka does.
// (-1, -1, nil) if there is none.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, err error) {
	start, leo := l.logStart.Load(), l.leo.Load()
	for _, s := range l.segments() {
		if mts, _ := s.maxTimestamp(); mts < ts || s.base >= leo {
			continue
		}
		if err := l.ensureIndex(s); err != nil {
			return -1, -1, l.errorf("offset for timestamp", err)
		}
		from := max(s.timeLookup(ts), start)
		pos, _ := s.lookup(from)
		sc := &scanner{f: s.log, path: s.path + logSuffix, end: s.size.Load(), pos: pos}
		for {
			h, batch, err := sc.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return -1, -1, l.errorf("offset for timestamp", err)
			}
			if h.BaseOffset >= leo {
				break
			}
			if h.LastOffset() < from || h.MaxTimestamp < ts {
				continue
			}
			found := false
			err = l.m.decomp.forEachRecord(batch, func(off, rts int64) bool {
				if off >= from && off < leo && rts >= ts {
					offset, timestamp, found = off, rts, true
					return false
				}
				return true
			})
			if err != nil {
				return -1, -1, l.errorf("offset for timestamp", err)
			}
			if found {
				return offset, timestamp, nil
			}
		}
	}
	return -1, -1, nil
}

// MaxTimestamp returns the offset and timestamp of the record with the
// largest timestamp (ListOffsets -3, KIP-734); the first such record if
// several share it. (-1, -1, nil) if the log has no timestamps.
func (l *Log) MaxTimestamp() (offset, timestamp int64, err error) {
	var best *segment
	bestTs, bestOff := int64(-1), int64(-1)
	for _, s := range l.segments() {
		if ts, off := s.maxTimestamp(); ts > bestTs && off >= 0 {
			best, bestTs, bestOff = s, ts, off
		}
	}
	if best == nil {
		return -1, -1, nil
	}
	if err := l.ensureIndex(best); err != nil {
		return -1, -1, l.errorf("max timestamp", err)
	}
	pos, _ := best.lookup(bestOff)
	sc := &scanner{f: best.log, path: best.path + logSuffix, end: best.size.Load(), pos: pos}
	for {
		h, batch, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return -1, -1, l.errorf("max timestamp", err)
		}
		if h.LastOffset() < bestOff {
			continue
		}
		offset = -1
		err = l.m.decomp.forEachRecord(batch, func(off, ts int64) bool {
			if ts == bestTs {
				offset = off
				return false
			}
			return true
		})
		if err != nil {
			return -1, -1, l.errorf("max timestamp", err)
		}
		if offset < 0 {
			// The header's max timestamp matches no record: report the batch.
			offset = h.BaseOffset
		}
		return offset, bestTs, nil
	}
	return -1, -1, nil
}
