package broker

// Legacy message sets (magic 0 and 1) for Produce v0–v2 and Fetch v0–v3.
//
// Samsa stores only magic-2 record batches. convertMessageSet turns what an
// old producer sends into batches; downConvert turns stored batches back into
// the message set an old consumer asks for. Both are pure functions.
//
// A message set is messages back to back, with no count:
//
//	offset int64 | message_size int32 | crc uint32 | magic int8 | attributes int8 |
//	[timestamp int64, magic 1 only] | key int32-length bytes | value int32-length bytes
//
// message_size counts everything after itself; crc is the IEEE CRC-32 of
// magic..value. Attribute bits 0-2 are the codec (0 none, 1 gzip, 2 snappy,
// 3 lz4); bit 3 (magic 1 only) is the timestamp type, set for LogAppendTime.
// A compressed message is a wrapper: its key is null and its value is a whole
// inner message set, compressed. Inner offsets are absolute in magic 0 and
// relative in magic 1, and the wrapper carries the offset of the last inner
// message (KIP-31).
//
// Codec framing for old formats: snappy uses the xerial framing
// ("\x82SNAPPY\x00", version int32, compatible version int32, then chunks of
// int32 length + snappy block); raw snappy blocks are accepted on input. LZ4
// uses the LZ4 frame format; Kafka computed the magic-0 frame descriptor
// checksum (HC) over the frame magic as well, so for magic 0 the HC is ignored
// on input and written Kafka's broken way on output.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

const (
	// legacyLogOverhead is the offset and message_size prefix of a message.
	legacyLogOverhead = 12
	// legacyMagicPos is the position of the magic byte; the CRC covers the
	// message from here to its end.
	legacyMagicPos = 16
	// minMessageV0Size and minMessageV1Size are the smallest message_size
	// values: crc, magic, attributes, [timestamp], two null lengths.
	minMessageV0Size = 4 + 1 + 1 + 4 + 4
	minMessageV1Size = minMessageV0Size + 8

	legacyAttrCodecMask     = 0x07
	legacyAttrLogAppendTime = 0x08

	// maxMessageSetDecompressed bounds what one compressed wrapper or batch
	// may decompress to, so a small request cannot make the broker allocate
	// without limit.
	maxMessageSetDecompressed = 64 << 20

	// batchOverheadAfterLength is the part of a magic-2 batch header counted
	// by its length field (everything after the length, before the records).
	batchOverheadAfterLength = storage.BatchHeaderSize - legacyLogOverhead

	// xerialMagic opens a xerial-framed snappy stream; the header continues
	// with version 1 and compatible version 1, both int32.
	xerialMagic      = "\x82SNAPPY\x00"
	xerialHeaderSize = len(xerialMagic) + 8
	// xerialChunkSize is how much uncompressed data each xerial chunk holds
	// (snappy-java's default block size).
	xerialChunkSize = 32 << 10

	// lz4FrameMagic is the little-endian magic number of an LZ4 frame.
	lz4FrameMagic = 0x184D2204
)

// legacyMessage is one decoded magic 0 or 1 message. Key and value alias the
// input; nil means null.
type legacyMessage struct {
	offset    int64
	magic     int8
	attrs     int8
	timestamp int64 // -1 for magic 0
	key       []byte
	value     []byte
}

func (m *legacyMessage) codec() int8 { return m.attrs & legacyAttrCodecMask }

// logAppendTime reports the timestamp-type bit, which only magic 1 has.
func (m *legacyMessage) logAppendTime() bool {
	return m.magic == 1 && m.attrs&legacyAttrLogAppendTime != 0
}

// corruptf formats an error that wraps storage.ErrCorruptMessage.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), storage.ErrCorruptMessage)
}

// parseLegacyMessage decodes the message at the start of b and returns it
// with its total size. It checks the size, the CRC and that the fields fill
// the message exactly.
func parseLegacyMessage(b []byte) (legacyMessage, int, error) {
	if len(b) < legacyLogOverhead {
		return legacyMessage{}, 0, corruptf("truncated message header (%d bytes)", len(b))
	}
	size := int64(int32(binary.BigEndian.Uint32(b[8:])))
	if size < minMessageV0Size {
		return legacyMessage{}, 0, corruptf("message size %d below minimum %d", size, minMessageV0Size)
	}
	total := legacyLogOverhead + size
	if total > int64(len(b)) {
		return legacyMessage{}, 0, corruptf("truncated message: size %d, %d bytes left", total, len(b))
	}
	msg := b[:total]
	if want, got := binary.BigEndian.Uint32(msg[legacyLogOverhead:]), crc32.ChecksumIEEE(msg[legacyMagicPos:]); want != got {
		return legacyMessage{}, 0, corruptf("message crc %08x, computed %08x", want, got)
	}
	var m legacyMessage
	var fixed int64
	switch magic := int8(msg[legacyMagicPos]); magic {
	case 0:
		var v kmsg.MessageV0
		if err := v.ReadFrom(msg); err != nil {
			return legacyMessage{}, 0, corruptf("magic 0 message: %v", err)
		}
		m = legacyMessage{offset: v.Offset, magic: 0, attrs: v.Attributes, timestamp: -1, key: v.Key, value: v.Value}
		fixed = minMessageV0Size
	case 1:
		if size < minMessageV1Size {
			return legacyMessage{}, 0, corruptf("magic 1 message size %d below minimum %d", size, minMessageV1Size)
		}
		var v kmsg.MessageV1
		if err := v.ReadFrom(msg); err != nil {
			return legacyMessage{}, 0, corruptf("magic 1 message: %v", err)
		}
		m = legacyMessage{offset: v.Offset, magic: 1, attrs: v.Attributes, timestamp: v.Timestamp, key: v.Key, value: v.Value}
		fixed = minMessageV1Size
	default:
		return legacyMessage{}, 0, corruptf("unknown message magic %d", magic)
	}
	if used := fixed + int64(len(m.key)) + int64(len(m.value)); used != size {
		return legacyMessage{}, 0, corruptf("message size %d, fields use %d", size, used)
	}
	return m, int(total), nil
}

// convertMessageSet turns a Produce v0–v2 message set (magic 0 or 1
// messages, possibly compressed wrapper messages with gzip/snappy/lz4 inner
// message sets) into one or more magic-2 record batches, ready for
// storage.Log.Append: base offset 0, offsets relative, CRC-32C computed,
// producer ID -1, producer epoch -1, base sequence -1, partition leader epoch
// -1.
//
// Each compressed wrapper becomes one batch with the wrapper's codec, so
// compressed data stays compressed. Each run of uncompressed messages with
// the same magic and timestamp type becomes one uncompressed batch. Magic 1
// timestamps and the LogAppendTime bit are kept (a LogAppendTime wrapper's
// timestamp becomes the batch's max timestamp); magic 0 messages get
// timestamp -1 (Kafka's NO_TIMESTAMP). The offsets the client wrote are
// ignored, as Kafka ignores them.
//
// An empty message set returns nil, nil: there is nothing to append (Kafka
// answers such a produce with no error and offset -1).
//
// Errors: storage.ErrCorruptMessage for a bad CRC, truncation, an unknown
// magic or codec, a nested compressed or mismatched-magic inner message, an
// empty wrapper or a decompression failure; storage.ErrMessageTooLarge when a
// wrapper decompresses to more than maxMessageSetDecompressed bytes.
func convertMessageSet(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var (
		// Converted uncompressed messages take about as much room as the
		// input; compressed ones may need more and grow the slices.
		out     = make([]byte, 0, len(data)+storage.BatchHeaderSize)
		scratch = make([]byte, 0, len(data))
		run     []legacyMessage // pending uncompressed messages
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		var err error
		out, scratch, err = appendBatch(out, scratch, storage.CompressionNone, run, run[0].logAppendTime(), -1)
		run = run[:0]
		return err
	}
	for pos := 0; pos < len(data); {
		m, n, err := parseLegacyMessage(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("convert message set: message at byte %d: %w", pos, err)
		}
		at := pos
		pos += n
		if m.codec() == storage.CompressionNone {
			if len(run) > 0 && (run[0].magic != m.magic || run[0].logAppendTime() != m.logAppendTime()) {
				if err := flush(); err != nil {
					return nil, fmt.Errorf("convert message set: %w", err)
				}
			}
			run = append(run, m)
			continue
		}
		if err := flush(); err != nil {
			return nil, fmt.Errorf("convert message set: %w", err)
		}
		inner, err := wrapperMessages(m)
		if err != nil {
			return nil, fmt.Errorf("convert message set: wrapper at byte %d: %w", at, err)
		}
		out, scratch, err = appendBatch(out, scratch, int(m.codec()), inner, m.logAppendTime(), m.timestamp)
		if err != nil {
			return nil, fmt.Errorf("convert message set: wrapper at byte %d: %w", at, err)
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("convert message set: %w", err)
	}
	return out, nil
}

// wrapperMessages decompresses a wrapper's value and decodes its inner
// messages, which must be uncompressed and of the wrapper's magic.
func wrapperMessages(w legacyMessage) ([]legacyMessage, error) {
	if w.value == nil {
		return nil, corruptf("compressed wrapper with null value")
	}
	set, err := decompressLegacy(int(w.codec()), w.value, w.magic)
	if err != nil {
		return nil, err
	}
	var msgs []legacyMessage
	for pos := 0; pos < len(set); {
		m, n, err := parseLegacyMessage(set[pos:])
		if err != nil {
			return nil, fmt.Errorf("inner message at byte %d: %w", pos, err)
		}
		if m.codec() != storage.CompressionNone {
			return nil, corruptf("inner message at byte %d is compressed (codec %d)", pos, m.codec())
		}
		if m.magic != w.magic {
			return nil, corruptf("inner message at byte %d has magic %d, wrapper %d", pos, m.magic, w.magic)
		}
		msgs = append(msgs, m)
		pos += n
	}
	if len(msgs) == 0 {
		return nil, corruptf("compressed wrapper holds no messages")
	}
	return msgs, nil
}

// appendBatch appends one magic-2 batch of msgs, compressed with codec, to
// out. For a LogAppendTime batch, wrapperTS (if not -1) is the max timestamp,
// as the wrapper's timestamp overrides the inner ones. scratch is reused for
// the uncompressed records and returned for the next call.
func appendBatch(out, scratch []byte, codec int, msgs []legacyMessage, lat bool, wrapperTS int64) ([]byte, []byte, error) {
	first := msgs[0].timestamp
	maxTS := first
	var body []byte
	records := scratch[:0]
	for i := range msgs {
		m := &msgs[i]
		maxTS = max(maxTS, m.timestamp)
		rec := kmsg.Record{
			TimestampDelta64: m.timestamp - first,
			OffsetDelta:      int32(i),
			Key:              m.key,
			Value:            m.value,
		}
		// Encode with a zero length (one varint byte), then prefix the real one.
		body = rec.AppendTo(body[:0])
		records = binary.AppendVarint(records, int64(len(body)-1))
		records = append(records, body[1:]...)
	}
	if lat && wrapperTS != -1 {
		maxTS = wrapperTS
	}
	payload := records
	if codec != storage.CompressionNone {
		var err error
		if payload, err = compressBatchRecords(codec, records); err != nil {
			return out, records, err
		}
	}
	attrs := int16(codec)
	if lat {
		attrs |= storage.AttrLogAppendTime
	}
	batch := kmsg.RecordBatch{
		FirstOffset:          0,
		Length:               int32(batchOverheadAfterLength + len(payload)),
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           attrs,
		LastOffsetDelta:      int32(len(msgs) - 1),
		FirstTimestamp:       first,
		MaxTimestamp:         maxTS,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(msgs)),
		Records:              payload,
	}
	start := len(out)
	out = batch.AppendTo(out)
	crc := crc32.Checksum(out[start+21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(out[start+17:], crc)
	return out, records, nil
}

// compressBatchRecords compresses the records of a magic-2 batch. Snappy uses
// the xerial framing, as the Java producer does.
func compressBatchRecords(codec int, records []byte) ([]byte, error) {
	switch codec {
	case storage.CompressionGzip:
		return gzipCompress(records)
	case storage.CompressionSnappy:
		return xerialCompress(records), nil
	case storage.CompressionLZ4:
		return lz4Compress(records, true)
	}
	return nil, fmt.Errorf("compress records: codec %d not supported", codec)
}

// decompressLegacy decompresses a magic 0 or 1 wrapper value.
func decompressLegacy(codec int, value []byte, magic int8) ([]byte, error) {
	switch codec {
	case storage.CompressionGzip:
		return gzipDecompress(value)
	case storage.CompressionSnappy:
		return snappyDecompress(value)
	case storage.CompressionLZ4:
		return lz4Decompress(value, magic == 0)
	}
	return nil, corruptf("unknown codec %d for magic %d", codec, magic)
}

// readAllLimited reads r to its end, failing past maxMessageSetDecompressed.
func readAllLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMessageSetDecompressed+1))
	if err != nil {
		return nil, corruptf("%s decompress: %v", what, err)
	}
	if len(b) > maxMessageSetDecompressed {
		return nil, fmt.Errorf("%s decompress: more than %d bytes: %w", what, maxMessageSetDecompressed, storage.ErrMessageTooLarge)
	}
	return b, nil
}

func gzipCompress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip compress: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip compress: %w", err)
	}
	return buf.Bytes(), nil
}

func gzipDecompress(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, corruptf("gzip decompress: %v", err)
	}
	return readAllLimited(zr, "gzip")
}

// xerialCompress frames b as xerial snappy: the header, then one chunk per
// xerialChunkSize bytes of input.
func xerialCompress(b []byte) []byte {
	out := make([]byte, 0, xerialHeaderSize+snappy.MaxEncodedLen(len(b))+4*(len(b)/xerialChunkSize+1))
	out = append(out, xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, 1) // version
	out = binary.BigEndian.AppendUint32(out, 1) // compatible version
	for len(b) > 0 {
		chunk := b[:min(len(b), xerialChunkSize)]
		b = b[len(chunk):]
		lenAt := len(out)
		out = append(out, 0, 0, 0, 0)
		enc := snappy.Encode(out[len(out):cap(out)], chunk)
		binary.BigEndian.PutUint32(out[lenAt:], uint32(len(enc)))
		out = append(out, enc...)
	}
	return out
}

// snappyDecompress accepts a xerial-framed stream or a raw snappy block.
func snappyDecompress(b []byte) ([]byte, error) {
	if len(b) < xerialHeaderSize || string(b[:len(xerialMagic)]) != xerialMagic {
		return snappyBlock(nil, b)
	}
	var out []byte
	for b = b[xerialHeaderSize:]; len(b) > 0; {
		if len(b) < 4 {
			return nil, corruptf("snappy decompress: truncated xerial chunk length")
		}
		n := int64(binary.BigEndian.Uint32(b))
		if n > int64(len(b)-4) {
			return nil, corruptf("snappy decompress: xerial chunk of %d bytes, %d left", n, len(b)-4)
		}
		var err error
		if out, err = snappyBlock(out, b[4:4+n]); err != nil {
			return nil, err
		}
		b = b[4+n:]
	}
	return out, nil
}

// snappyBlock decodes one raw snappy block and appends it to dst.
func snappyBlock(dst, block []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, corruptf("snappy decompress: %v", err)
	}
	if n > maxMessageSetDecompressed-len(dst) {
		return nil, fmt.Errorf("snappy decompress: more than %d bytes: %w", maxMessageSetDecompressed, storage.ErrMessageTooLarge)
	}
	dst = growLen(dst, n)
	if _, err := snappy.Decode(dst[len(dst)-n:], block); err != nil {
		return nil, corruptf("snappy decompress: %v", err)
	}
	return dst, nil
}

// growLen extends b by n bytes, reallocating if needed.
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// lz4Compress writes b as one LZ4 frame the way Kafka does: 64 KiB
// independent blocks, no checksums. correctHC false writes Kafka's magic-0
// descriptor checksum, computed over the frame magic too.
func lz4Compress(b []byte, correctHC bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := lz4.NewWriter(&buf)
	if err := zw.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false), lz4.ConcurrencyOption(1)); err != nil {
		return nil, fmt.Errorf("lz4 compress: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("lz4 compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("lz4 compress: %w", err)
	}
	out := buf.Bytes()
	if !correctHC {
		hc, err := lz4HCPos(out)
		if err != nil {
			return nil, fmt.Errorf("lz4 compress: %w", err)
		}
		out[hc] = byte(xxh32(out[:hc], 0) >> 8)
	}
	return out, nil
}

// lz4Decompress decodes one LZ4 frame. ignoreHC (magic 0) replaces the
// descriptor checksum with the correct one first, since old clients wrote it
// wrongly and Kafka does not check it for magic 0.
func lz4Decompress(b []byte, ignoreHC bool) ([]byte, error) {
	var src io.Reader = bytes.NewReader(b)
	if ignoreHC {
		hc, err := lz4HCPos(b)
		if err != nil {
			return nil, corruptf("lz4 decompress: %v", err)
		}
		head := make([]byte, hc+1)
		copy(head, b)
		head[hc] = byte(xxh32(head[4:hc], 0) >> 8)
		src = io.MultiReader(bytes.NewReader(head), bytes.NewReader(b[hc+1:]))
	}
	zr := lz4.NewReader(src)
	return readAllLimited(zr, "lz4")
}

// lz4HCPos returns the position of the frame descriptor checksum byte of the
// LZ4 frame at the start of b.
func lz4HCPos(b []byte) (int, error) {
	if len(b) < 7 || binary.LittleEndian.Uint32(b) != lz4FrameMagic {
		return 0, errors.New("not an lz4 frame")
	}
	flg := b[4]
	pos := 6 // magic, FLG, BD
	if flg&0x08 != 0 {
		pos += 8 // content size
	}
	if flg&0x01 != 0 {
		pos += 4 // dictionary ID
	}
	if pos >= len(b) {
		return 0, errors.New("truncated lz4 frame descriptor")
	}
	return pos, nil
}

// XXH32 primes.
const (
	xxhPrime1 uint32 = 2654435761
	xxhPrime2 uint32 = 2246822519
	xxhPrime3 uint32 = 3266489917
	xxhPrime4 uint32 = 668265263
	xxhPrime5 uint32 = 374761393
)

// xxh32 is the 32-bit xxHash of b, which the LZ4 frame descriptor checksum
// uses. It serves only short descriptors, so it favours brevity over speed.
func xxh32(b []byte, seed uint32) uint32 {
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		round := func(acc, in uint32) uint32 { return bits.RotateLeft32(acc+in*xxhPrime2, 13) * xxhPrime1 }
		v1, v2, v3, v4 := seed+xxhPrime1+xxhPrime2, seed+xxhPrime2, seed, seed-xxhPrime1
		for ; len(b) >= 16; b = b[16:] {
			v1 = round(v1, binary.LittleEndian.Uint32(b))
			v2 = round(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(b[12:]))
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + xxhPrime5
	}
	h += n
	for ; len(b) >= 4; b = b[4:] {
		h = bits.RotateLeft32(h+binary.LittleEndian.Uint32(b)*xxhPrime3, 17) * xxhPrime4
	}
	for ; len(b) > 0; b = b[1:] {
		h = bits.RotateLeft32(h+uint32(b[0])*xxhPrime5, 11) * xxhPrime1
	}
	h ^= h >> 15
	h *= xxhPrime2
	h ^= h >> 13
	h *= xxhPrime3
	h ^= h >> 16
	return h
}

// downConvert turns magic-2 batches as read from the log into a magic 0 or 1
// message set for Fetch v0–v1 (magic 0) and v2–v3 (magic 1), as Kafka's
// down-conversion does.
//
// Messages keep their absolute offsets. An uncompressed batch becomes one
// message per record. A compressed batch becomes one wrapper message with the
// same codec whose inner messages carry offsets relative to the first record
// (magic 1) or absolute ones (magic 0); the wrapper's offset is the last inner
// offset. Zstd, which magic 0 and 1 cannot carry, becomes uncompressed
// messages. Magic 1 keeps timestamps; in a LogAppendTime batch every message
// (and the wrapper) gets the batch's max timestamp and the timestamp-type
// bit. Control batches are skipped, headers are dropped, and a trailing
// partial batch (cut by the fetch size limit) is dropped.
//
// Errors: storage.ErrCorruptMessage for a batch that is not magic 2, has an
// impossible length or bad records, or fails to decompress;
// storage.ErrMessageTooLarge when a batch decompresses to more than
// maxMessageSetDecompressed bytes.
func downConvert(batches []byte, magic int8) ([]byte, error) {
	if magic != 0 && magic != 1 {
		return nil, fmt.Errorf("down-convert: target magic %d, want 0 or 1", magic)
	}
	d := downConverter{magic: magic}
	defer d.close()
	// Magic 0/1 messages of uncompressed records take a little more room
	// than the batches; compressed output grows the slice as needed.
	out := make([]byte, 0, len(batches)+len(batches)/4)
	for pos := 0; pos < len(batches); {
		rest := batches[pos:]
		if len(rest) < storage.BatchHeaderSize {
			break // partial batch
		}
		length := int64(int32(binary.BigEndian.Uint32(rest[8:])))
		if length < batchOverheadAfterLength {
			return nil, corruptf("down-convert: batch at byte %d: length %d below minimum %d", pos, length, batchOverheadAfterLength)
		}
		total := legacyLogOverhead + length
		if total > int64(len(rest)) {
			break // partial batch
		}
		var err error
		if out, err = d.appendBatch(out, rest[:total]); err != nil {
			return nil, fmt.Errorf("down-convert: batch at byte %d: %w", pos, err)
		}
		pos += int(total)
	}
	return out, nil
}

// downConverter holds what one downConvert call reuses between batches.
// It is owned by that call.
type downConverter struct {
	magic   int8
	zstd    *zstd.Decoder // nil until the first zstd batch
	records []kmsg.Record // reused per batch
	inner   []byte        // reused inner message set
}

func (d *downConverter) close() {
	if d.zstd != nil {
		d.zstd.Close()
	}
}

// appendBatch appends the messages of one whole magic-2 batch to out.
func (d *downConverter) appendBatch(out, batch []byte) ([]byte, error) {
	var b kmsg.RecordBatch
	if err := b.ReadFrom(batch); err != nil {
		return out, corruptf("read batch: %v", err)
	}
	if b.Magic != 2 {
		return out, corruptf("batch magic %d, want 2", b.Magic)
	}
	if b.Attributes&storage.AttrControl != 0 {
		return out, nil
	}
	codec := int(b.Attributes & storage.AttrCompressionMask)
	raw := b.Records
	switch codec {
	case storage.CompressionNone:
	case storage.CompressionGzip:
		var err error
		if raw, err = gzipDecompress(raw); err != nil {
			return out, err
		}
	case storage.CompressionSnappy:
		var err error
		if raw, err = snappyDecompress(raw); err != nil {
			return out, err
		}
	case storage.CompressionLZ4:
		var err error
		if raw, err = lz4Decompress(raw, false); err != nil {
			return out, err
		}
	case storage.CompressionZstd:
		var err error
		if raw, err = d.zstdDecompress(raw); err != nil {
			return out, err
		}
	default:
		return out, corruptf("unknown codec %d", codec)
	}
	recs, err := d.readRecords(raw, b.NumRecords)
	if err != nil {
		return out, err
	}
	if len(recs) == 0 {
		return out, nil
	}
	lat := b.Attributes&storage.AttrLogAppendTime != 0
	timestamp := func(r *kmsg.Record) int64 {
		if lat {
			return b.MaxTimestamp
		}
		return b.FirstTimestamp + r.TimestampDelta64
	}
	var attrs int8
	if lat && d.magic == 1 {
		attrs = legacyAttrLogAppendTime
	}
	if codec == storage.CompressionNone || codec == storage.CompressionZstd {
		for i := range recs {
			r := &recs[i]
			out = appendLegacyMessage(out, d.magic, b.FirstOffset+int64(r.OffsetDelta), attrs, timestamp(r), r.Key, r.Value)
		}
		return out, nil
	}
	firstOffset := b.FirstOffset + int64(recs[0].OffsetDelta)
	lastOffset := firstOffset
	maxTS := int64(-1)
	inner := d.inner[:0]
	for i := range recs {
		r := &recs[i]
		off := b.FirstOffset + int64(r.OffsetDelta)
		lastOffset = off
		ts := timestamp(r)
		maxTS = max(maxTS, ts)
		if d.magic == 1 {
			off -= firstOffset
		}
		inner = appendLegacyMessage(inner, d.magic, off, attrs, ts, r.Key, r.Value)
	}
	d.inner = inner
	var value []byte
	switch codec {
	case storage.CompressionGzip:
		value, err = gzipCompress(inner)
	case storage.CompressionSnappy:
		value = xerialCompress(inner)
	case storage.CompressionLZ4:
		value, err = lz4Compress(inner, d.magic == 1)
	}
	if err != nil {
		return out, err
	}
	if lat {
		maxTS = b.MaxTimestamp
	}
	return appendLegacyMessage(out, d.magic, lastOffset, attrs|int8(codec), maxTS, nil, value), nil
}

// readRecords decodes count uncompressed records filling raw exactly. The
// returned records alias raw and d's reused slice.
func (d *downConverter) readRecords(raw []byte, count int32) ([]kmsg.Record, error) {
	// A record takes at least 7 bytes, which bounds a lying count.
	if count < 0 || int64(count) > int64(len(raw))/7 {
		return nil, corruptf("record count %d for %d bytes of records", count, len(raw))
	}
	recs := d.records[:0]
	for i := int32(0); i < count; i++ {
		length, n := binary.Varint(raw)
		if n <= 0 || length < 0 || length > int64(len(raw)-n) {
			return nil, corruptf("record %d: bad length", i)
		}
		end := n + int(length)
		var r kmsg.Record
		if err := r.ReadFrom(raw[:end]); err != nil {
			return nil, corruptf("record %d: %v", i, err)
		}
		if r.OffsetDelta < 0 || recordBodySize(&r) != int(length) {
			return nil, corruptf("record %d: fields do not fill its length %d", i, length)
		}
		recs = append(recs, r)
		raw = raw[end:]
	}
	if len(raw) != 0 {
		return nil, corruptf("%d bytes after the last of %d records", len(raw), count)
	}
	d.records = recs
	return recs, nil
}

// recordBodySize is the encoded size of r after its length prefix.
func recordBodySize(r *kmsg.Record) int {
	n := 1 + varintLen(r.TimestampDelta64) + varintLen(int64(r.OffsetDelta))
	n += bytesFieldLen(r.Key) + bytesFieldLen(r.Value)
	n += varintLen(int64(len(r.Headers)))
	for i := range r.Headers {
		n += varintLen(int64(len(r.Headers[i].Key))) + len(r.Headers[i].Key) + bytesFieldLen(r.Headers[i].Value)
	}
	return n
}

func bytesFieldLen(b []byte) int {
	if b == nil {
		return 1 // varint -1
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	return (bits.Len64(u|1) + 6) / 7
}

func (d *downConverter) zstdDecompress(b []byte) ([]byte, error) {
	if d.zstd == nil {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(maxMessageSetDecompressed),
		)
		if err != nil {
			return nil, fmt.Errorf("zstd decompress: %w", err)
		}
		d.zstd = dec
	}
	out, err := d.zstd.DecodeAll(b, nil)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, fmt.Errorf("zstd decompress: more than %d bytes: %w", maxMessageSetDecompressed, storage.ErrMessageTooLarge)
	}
	if err != nil {
		return nil, corruptf("zstd decompress: %v", err)
	}
	return out, nil
}

// appendLegacyMessage appends one magic 0 or 1 message with its size and
// IEEE CRC computed.
func appendLegacyMessage(out []byte, magic int8, offset int64, attrs int8, timestamp int64, key, value []byte) []byte {
	start := len(out)
	size := int32(minMessageV0Size + len(key) + len(value))
	if magic == 0 {
		m := kmsg.MessageV0{Offset: offset, MessageSize: size, Magic: 0, Attributes: attrs, Key: key, Value: value}
		out = m.AppendTo(out)
	} else {
		m := kmsg.MessageV1{Offset: offset, MessageSize: size + 8, Magic: 1, Attributes: attrs, Timestamp: timestamp, Key: key, Value: value}
		out = m.AppendTo(out)
	}
	binary.BigEndian.PutUint32(out[start+legacyLogOverhead:], crc32.ChecksumIEEE(out[start+legacyMagicPos:]))
	return out
}
