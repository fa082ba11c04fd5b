package broker

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// legacyTestMsg is a message as a consumer sees it after unwrapping.
type legacyTestMsg struct {
	offset    int64
	timestamp int64
	lat       bool // timestamp-type bit of the message
	key       []byte
	value     []byte
}

// sampleLegacyMsgs covers keys, null keys, null values, empty values and
// timestamps (ignored for magic 0).
func sampleLegacyMsgs() []legacyTestMsg {
	return []legacyTestMsg{
		{timestamp: 1700000000000, key: []byte("k1"), value: []byte("v1")},
		{timestamp: 1700000000005, key: nil, value: []byte("null key")},
		{timestamp: 1699999999990, key: []byte("null value"), value: nil},
		{timestamp: 1700000000001, key: []byte{}, value: []byte{}},
		{timestamp: 1700000000002, key: nil, value: nil},
		{timestamp: 1700000000003, key: []byte("k6"), value: bytes.Repeat([]byte("compressible "), 50)},
	}
}

// buildMessageSet encodes msgs as a magic 0/1 message set with offsets from 0,
// uncompressed, or inside one wrapper of codec. brokenHC writes Kafka's
// magic-0 LZ4 descriptor checksum; rawSnappy writes an unframed block.
func buildMessageSet(t testing.TB, magic int8, codec int, msgs []legacyTestMsg, lat bool, wrapperTS int64, brokenHC, rawSnappy bool) []byte {
	t.Helper()
	var attrs int8
	if lat {
		attrs = legacyAttrLogAppendTime
	}
	var set []byte
	for i, m := range msgs {
		set = appendLegacyMessage(set, magic, int64(i), attrs, m.timestamp, m.key, m.value)
	}
	if codec == storage.CompressionNone {
		return set
	}
	var value []byte
	var err error
	switch {
	case codec == storage.CompressionGzip:
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		_, _ = zw.Write(set)
		_ = zw.Close()
		value = buf.Bytes()
	case codec == storage.CompressionSnappy && rawSnappy:
		value = snappy.Encode(nil, set)
	case codec == storage.CompressionSnappy:
		value = xerialCompress(set)
	case codec == storage.CompressionLZ4:
		value, err = lz4Compress(set, !brokenHC)
	default:
		t.Fatalf("codec %d", codec)
	}
	if err != nil {
		t.Fatal(err)
	}
	return appendLegacyMessage(nil, magic, int64(len(msgs)-1), attrs|int8(codec), wrapperTS, nil, value)
}

// flattenMessageSet decodes a message set the way an old consumer does, unwrapping
// compressed wrappers and turning magic-1 relative offsets into absolute
// ones. It returns the messages and the codec of each top-level message.
func flattenMessageSet(t testing.TB, set []byte, wantMagic int8) ([]legacyTestMsg, []int) {
	t.Helper()
	var msgs []legacyTestMsg
	var codecs []int
	for pos := 0; pos < len(set); {
		m, n, err := parseLegacyMessage(set[pos:])
		if err != nil {
			t.Fatalf("message at byte %d: %v", pos, err)
		}
		pos += n
		if m.magic != wantMagic {
			t.Fatalf("message magic %d, want %d", m.magic, wantMagic)
		}
		codecs = append(codecs, int(m.codec()))
		if m.codec() == storage.CompressionNone {
			msgs = append(msgs, legacyTestMsg{m.offset, m.timestamp, m.logAppendTime(), m.key, m.value})
			continue
		}
		if m.key != nil {
			t.Errorf("wrapper key %q, want null", m.key)
		}
		inner, err := wrapperMessages(m)
		if err != nil {
			t.Fatalf("wrapper at offset %d: %v", m.offset, err)
		}
		last := inner[len(inner)-1].offset
		if m.magic == 0 && last != m.offset {
			t.Errorf("magic 0 wrapper offset %d, last inner %d", m.offset, last)
		}
		for _, im := range inner {
			off := im.offset
			if m.magic == 1 {
				off = m.offset - last + im.offset
			}
			msgs = append(msgs, legacyTestMsg{off, im.timestamp, im.logAppendTime(), im.key, im.value})
		}
	}
	return msgs, codecs
}

// setBaseOffsets rewrites the base offsets of a sequence of batches to run
// from base on, as storage.Log.Append does, and returns the next offset.
func setBaseOffsets(t testing.TB, batches []byte, base int64) int64 {
	t.Helper()
	for pos := 0; pos < len(batches); {
		h, err := storage.ParseBatchHeader(batches[pos:])
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint64(batches[pos:], uint64(base))
		base += int64(h.LastOffsetDelta) + 1
		pos += h.Size()
	}
	return base
}

// batchHeaders parses the headers of a sequence of batches.
func batchHeaders(t testing.TB, batches []byte) []storage.BatchHeader {
	t.Helper()
	var hs []storage.BatchHeader
	for pos := 0; pos < len(batches); {
		h, err := storage.ParseBatchHeader(batches[pos:])
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		pos += h.Size()
	}
	return hs
}

func equalLegacyMsg(a, b legacyTestMsg) bool {
	return a.offset == b.offset && a.timestamp == b.timestamp && a.lat == b.lat &&
		bytes.Equal(a.key, b.key) && (a.key == nil) == (b.key == nil) &&
		bytes.Equal(a.value, b.value) && (a.value == nil) == (b.value == nil)
}

func TestMessageSetRoundTrip(t *testing.T) {
	codecs := []struct {
		name      string
		codec     int
		rawSnappy bool
		brokenHC  bool
	}{
		{name: "none", codec: storage.CompressionNone},
		{name: "gzip", codec: storage.CompressionGzip},
		{name: "snappy-xerial", codec: storage.CompressionSnappy},
		{name: "snappy-raw", codec: storage.CompressionSnappy, rawSnappy: true},
		{name: "lz4", codec: storage.CompressionLZ4},
		{name: "lz4-broken-hc", codec: storage.CompressionLZ4, brokenHC: true},
	}
	for _, magic := range []int8{0, 1} {
		for _, c := range codecs {
			if c.brokenHC && magic != 0 {
				continue // only magic 0 tolerates the broken checksum
			}
			t.Run(fmt.Sprintf("magic%d/%s", magic, c.name), func(t *testing.T) {
				in := sampleLegacyMsgs()
				set := buildMessageSet(t, magic, c.codec, in, false, 1700000000005, c.brokenHC, c.rawSnappy)
				out, err := convertMessageSet(set)
				if err != nil {
					t.Fatalf("convert: %v", err)
				}
				if _, n, err := storage.ValidateBatches(out, -1); err != nil || n != len(in) {
					t.Fatalf("ValidateBatches = %d records, %v; want %d, nil", n, err, len(in))
				}
				hs := batchHeaders(t, out)
				if len(hs) != 1 {
					t.Fatalf("%d batches, want 1", len(hs))
				}
				h := hs[0]
				if h.BaseOffset != 0 || h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 || h.PartitionLeaderEpoch != -1 {
					t.Errorf("header %+v: want base offset 0 and producer fields -1", h)
				}
				if h.Compression() != c.codec || h.IsLogAppendTime() {
					t.Errorf("attributes %#x, want codec %d CreateTime", h.Attributes, c.codec)
				}
				wantFirst, wantMax := int64(-1), int64(-1)
				if magic == 1 {
					wantFirst, wantMax = in[0].timestamp, in[1].timestamp
				}
				if h.BaseTimestamp != wantFirst || h.MaxTimestamp != wantMax {
					t.Errorf("timestamps base %d max %d, want %d %d", h.BaseTimestamp, h.MaxTimestamp, wantFirst, wantMax)
				}

				const base = 1000
				setBaseOffsets(t, out, base)
				for _, toMagic := range []int8{0, 1} {
					back, err := downConvert(out, toMagic)
					if err != nil {
						t.Fatalf("downConvert(%d): %v", toMagic, err)
					}
					got, gotCodecs := flattenMessageSet(t, back, toMagic)
					wantCodec := c.codec
					if !slices.Equal(gotCodecs, []int{wantCodec}) && !(wantCodec == storage.CompressionNone && len(gotCodecs) == len(in)) {
						t.Errorf("to magic %d: top-level codecs %v, want %d", toMagic, gotCodecs, wantCodec)
					}
					if len(got) != len(in) {
						t.Fatalf("to magic %d: %d messages, want %d", toMagic, len(got), len(in))
					}
					for i := range in {
						want := in[i]
						want.offset = base + int64(i)
						switch {
						case toMagic == 0:
							want.timestamp = -1
						case magic == 0:
							want.timestamp = -1 // magic 0 had none to keep
						}
						if !equalLegacyMsg(got[i], want) {
							t.Errorf("to magic %d: message %d = %+v, want %+v", toMagic, i, got[i], want)
						}
					}
				}
			})
		}
	}
}

func TestMessageSetGoldenMagic0(t *testing.T) {
	// offset 0, size 16, crc, magic 0, attributes 0, key "k", value "v".
	// The CRC was computed with Python's zlib.crc32 over magic..value.
	golden := []byte{
		0, 0, 0, 0, 0, 0, 0, 0, // offset
		0, 0, 0, 16, // message size
		0x1f, 0xec, 0xd7, 0x0a, // crc
		0,          // magic
		0,          // attributes
		0, 0, 0, 1, // key length
		'k',
		0, 0, 0, 1, // value length
		'v',
	}
	batch, err := convertMessageSet(golden)
	if err != nil {
		t.Fatalf("convert golden: %v", err)
	}
	if _, n, err := storage.ValidateBatches(batch, -1); err != nil || n != 1 {
		t.Fatalf("ValidateBatches = %d, %v", n, err)
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(batch); err != nil {
		t.Fatal(err)
	}
	var rec kmsg.Record
	if err := rec.ReadFrom(rb.Records); err != nil {
		t.Fatal(err)
	}
	if string(rec.Key) != "k" || string(rec.Value) != "v" || rec.OffsetDelta != 0 || rec.TimestampDelta64 != 0 || len(rec.Headers) != 0 {
		t.Errorf("record %+v, want k/v at delta 0", rec)
	}
	if rb.FirstTimestamp != -1 || rb.MaxTimestamp != -1 {
		t.Errorf("timestamps %d/%d, want -1/-1", rb.FirstTimestamp, rb.MaxTimestamp)
	}
	back, err := downConvert(batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, golden) {
		t.Errorf("downConvert = %x\nwant          %x", back, golden)
	}
}

func TestMessageSetLogAppendTimeWrapper(t *testing.T) {
	in := sampleLegacyMsgs()[:3]
	const lat = 1800000000000
	set := buildMessageSet(t, 1, storage.CompressionGzip, in, true, lat, false, false)
	out, err := convertMessageSet(set)
	if err != nil {
		t.Fatal(err)
	}
	h := batchHeaders(t, out)[0]
	if !h.IsLogAppendTime() || h.MaxTimestamp != lat || h.Compression() != storage.CompressionGzip {
		t.Fatalf("header %+v: want gzip LogAppendTime with max timestamp %d", h, lat)
	}
	back, err := downConvert(out, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := parseLegacyMessage(back)
	if err != nil {
		t.Fatal(err)
	}
	if !w.logAppendTime() || w.timestamp != lat {
		t.Errorf("wrapper attrs %#x timestamp %d, want LogAppendTime %d", w.attrs, w.timestamp, lat)
	}
	got, _ := flattenMessageSet(t, back, 1)
	for i, m := range got {
		if !m.lat || m.timestamp != lat {
			t.Errorf("message %d: lat %v timestamp %d, want true %d", i, m.lat, m.timestamp, lat)
		}
	}
	// Magic 0 has no timestamp type: the bit must not leak.
	back0, err := downConvert(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	w0, _, err := parseLegacyMessage(back0)
	if err != nil {
		t.Fatal(err)
	}
	if w0.attrs != storage.CompressionGzip {
		t.Errorf("magic 0 wrapper attrs %#x, want %#x", w0.attrs, storage.CompressionGzip)
	}
}

func TestMessageSetLogAppendTimeUncompressed(t *testing.T) {
	in := sampleLegacyMsgs()[:3] // max timestamp is in[1]
	var set []byte
	set = append(set, buildMessageSet(t, 1, storage.CompressionNone, in, true, 0, false, false)...)
	set = append(set, buildMessageSet(t, 1, storage.CompressionNone, in[:1], false, 0, false, false)...)
	out, err := convertMessageSet(set)
	if err != nil {
		t.Fatal(err)
	}
	hs := batchHeaders(t, out)
	if len(hs) != 2 {
		t.Fatalf("%d batches, want 2 (LogAppendTime run, then CreateTime run)", len(hs))
	}
	if !hs[0].IsLogAppendTime() || hs[0].MaxTimestamp != in[1].timestamp || hs[0].NumRecords != 3 {
		t.Errorf("first batch %+v: want 3 LogAppendTime records with max timestamp %d", hs[0], in[1].timestamp)
	}
	if hs[1].IsLogAppendTime() || hs[1].MaxTimestamp != in[0].timestamp {
		t.Errorf("second batch %+v: want CreateTime with max timestamp %d", hs[1], in[0].timestamp)
	}
}

func TestMessageSetMixedSplitsBatches(t *testing.T) {
	msgs := sampleLegacyMsgs()
	var set []byte
	set = append(set, buildMessageSet(t, 1, storage.CompressionNone, msgs[:2], false, 0, false, false)...)
	set = append(set, buildMessageSet(t, 1, storage.CompressionSnappy, msgs[2:4], false, 0, false, false)...)
	set = append(set, buildMessageSet(t, 1, storage.CompressionNone, msgs[4:5], false, 0, false, false)...)
	set = append(set, buildMessageSet(t, 0, storage.CompressionNone, msgs[5:], false, 0, false, false)...)
	out, err := convertMessageSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := storage.ValidateBatches(out, -1); err != nil || n != len(msgs) {
		t.Fatalf("ValidateBatches = %d, %v", n, err)
	}
	hs := batchHeaders(t, out)
	var got []string
	for _, h := range hs {
		got = append(got, fmt.Sprintf("codec%d/n%d/ts%d", h.Compression(), h.NumRecords, h.BaseTimestamp))
	}
	want := []string{
		fmt.Sprintf("codec0/n2/ts%d", msgs[0].timestamp),
		fmt.Sprintf("codec2/n2/ts%d", msgs[2].timestamp),
		fmt.Sprintf("codec0/n1/ts%d", msgs[4].timestamp),
		"codec0/n1/ts-1", // magic 0 starts its own batch
	}
	if !slices.Equal(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
}

// makeV2Batch builds a magic-2 batch with independent encoders (std gzip,
// pierrec lz4, klauspost zstd, raw snappy) and checks it with
// storage.ValidateBatches.
func makeV2Batch(t testing.TB, base int64, codec int, extraAttrs int16, firstTS, maxTS int64, recs []kmsg.Record) []byte {
	t.Helper()
	var raw []byte
	for i := range recs {
		body := recs[i].AppendTo(nil) // Length 0: one varint byte
		raw = binary.AppendVarint(raw, int64(len(body)-1))
		raw = append(raw, body[1:]...)
	}
	payload := raw
	switch codec {
	case storage.CompressionGzip:
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		payload = buf.Bytes()
	case storage.CompressionSnappy:
		payload = snappy.Encode(nil, raw)
	case storage.CompressionLZ4:
		var buf bytes.Buffer
		zw := lz4.NewWriter(&buf)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		payload = buf.Bytes()
	case storage.CompressionZstd:
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		payload = enc.EncodeAll(raw, nil)
		_ = enc.Close()
	}
	b := kmsg.RecordBatch{
		FirstOffset: base, Length: int32(49 + len(payload)), PartitionLeaderEpoch: 3, Magic: 2,
		Attributes: int16(codec) | extraAttrs, LastOffsetDelta: recs[len(recs)-1].OffsetDelta,
		FirstTimestamp: firstTS, MaxTimestamp: maxTS, ProducerID: 7, ProducerEpoch: 1, FirstSequence: 0,
		NumRecords: int32(len(recs)), Records: payload,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	if _, _, err := storage.ValidateBatches(out, -1); err != nil && extraAttrs&storage.AttrControl == 0 {
		t.Fatalf("test batch invalid: %v", err)
	}
	return out
}

func TestDownConvertOffsetsAndCodecs(t *testing.T) {
	recs := []kmsg.Record{
		{TimestampDelta64: 0, OffsetDelta: 0, Key: []byte("a"), Value: []byte("1"),
			Headers: []kmsg.Header{{Key: "h", Value: []byte("dropped")}}},
		{TimestampDelta64: 7, OffsetDelta: 1, Key: nil, Value: []byte("2")},
		{TimestampDelta64: 3, OffsetDelta: 2, Key: []byte("c"), Value: nil},
	}
	const base, firstTS = 500, 1000
	tests := []struct {
		name      string
		codec     int
		magic     int8
		wantCodec int   // top-level codec
		wantInner []int // raw inner offsets inside the wrapper, nil for none
	}{
		{name: "none/magic0", codec: 0, magic: 0, wantCodec: 0},
		{name: "none/magic1", codec: 0, magic: 1, wantCodec: 0},
		{name: "gzip/magic0", codec: 1, magic: 0, wantCodec: 1, wantInner: []int{500, 501, 502}},
		{name: "gzip/magic1", codec: 1, magic: 1, wantCodec: 1, wantInner: []int{0, 1, 2}},
		{name: "snappy/magic1", codec: 2, magic: 1, wantCodec: 2, wantInner: []int{0, 1, 2}},
		{name: "lz4/magic0", codec: 3, magic: 0, wantCodec: 3, wantInner: []int{500, 501, 502}},
		{name: "lz4/magic1", codec: 3, magic: 1, wantCodec: 3, wantInner: []int{0, 1, 2}},
		{name: "zstd/magic0", codec: 4, magic: 0, wantCodec: 0},
		{name: "zstd/magic1", codec: 4, magic: 1, wantCodec: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			batch := makeV2Batch(t, base, tc.codec, 0, firstTS, firstTS+7, recs)
			out, err := downConvert(batch, tc.magic)
			if err != nil {
				t.Fatal(err)
			}
			got, codecs := flattenMessageSet(t, out, tc.magic)
			for _, c := range codecs {
				if c != tc.wantCodec {
					t.Errorf("top-level codecs %v, want all %d", codecs, tc.wantCodec)
					break
				}
			}
			if tc.wantInner != nil {
				w, _, err := parseLegacyMessage(out)
				if err != nil {
					t.Fatal(err)
				}
				if w.offset != base+2 {
					t.Errorf("wrapper offset %d, want %d", w.offset, base+2)
				}
				if tc.magic == 1 && w.timestamp != firstTS+7 {
					t.Errorf("wrapper timestamp %d, want %d", w.timestamp, firstTS+7)
				}
				inner, err := wrapperMessages(w)
				if err != nil {
					t.Fatal(err)
				}
				var offs []int
				for _, m := range inner {
					offs = append(offs, int(m.offset))
				}
				if !slices.Equal(offs, tc.wantInner) {
					t.Errorf("inner offsets %v, want %v", offs, tc.wantInner)
				}
			}
			want := []legacyTestMsg{
				{offset: 500, timestamp: 1000, key: []byte("a"), value: []byte("1")},
				{offset: 501, timestamp: 1007, key: nil, value: []byte("2")},
				{offset: 502, timestamp: 1003, key: []byte("c"), value: nil},
			}
			for i := range want {
				if tc.magic == 0 {
					want[i].timestamp = -1
				}
				if i >= len(got) || !equalLegacyMsg(got[i], want[i]) {
					t.Errorf("messages %+v, want %+v", got, want)
					break
				}
			}
		})
	}
}

func TestDownConvertCompressedOutputIsStandard(t *testing.T) {
	recs := []kmsg.Record{{OffsetDelta: 0, Value: bytes.Repeat([]byte("x"), 100000)}}
	for _, tc := range []struct {
		codec int
		check func([]byte) ([]byte, error)
	}{
		{storage.CompressionGzip, func(b []byte) ([]byte, error) {
			zr, err := stdgzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		}},
		{storage.CompressionLZ4, func(b []byte) ([]byte, error) { return io.ReadAll(lz4.NewReader(bytes.NewReader(b))) }},
		{storage.CompressionSnappy, func(b []byte) ([]byte, error) {
			if !bytes.HasPrefix(b, []byte(xerialMagic+"\x00\x00\x00\x01\x00\x00\x00\x01")) {
				return nil, errors.New("no xerial header")
			}
			var out []byte
			chunks := 0
			for b = b[16:]; len(b) > 0; chunks++ {
				n := binary.BigEndian.Uint32(b)
				d, err := snappy.Decode(nil, b[4:4+n])
				if err != nil {
					return nil, err
				}
				out = append(out, d...)
				b = b[4+n:]
			}
			if chunks < 2 {
				return nil, fmt.Errorf("%d xerial chunks for 100 KB, want several", chunks)
			}
			return out, nil
		}},
	} {
		t.Run(fmt.Sprint("codec", tc.codec), func(t *testing.T) {
			out, err := downConvert(makeV2Batch(t, 0, tc.codec, 0, 0, 0, recs), 1)
			if err != nil {
				t.Fatal(err)
			}
			w, _, err := parseLegacyMessage(out)
			if err != nil {
				t.Fatal(err)
			}
			inner, err := tc.check(w.value)
			if err != nil {
				t.Fatalf("independent decoder: %v", err)
			}
			m, n, err := parseLegacyMessage(inner)
			if err != nil || n != len(inner) || len(m.value) != 100000 {
				t.Errorf("inner set: %d of %d bytes, value %d bytes, %v", n, len(inner), len(m.value), err)
			}
		})
	}
}

func TestDownConvertSkipsControlAndPartialBatches(t *testing.T) {
	rec := []kmsg.Record{{OffsetDelta: 0, Value: []byte("data")}}
	ctrl := []kmsg.Record{{OffsetDelta: 0, Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}}
	var logBytes []byte
	logBytes = append(logBytes, makeV2Batch(t, 10, 0, 0, 0, 0, rec)...)
	logBytes = append(logBytes, makeV2Batch(t, 11, 0, storage.AttrTransactional|storage.AttrControl, 0, 0, ctrl)...)
	logBytes = append(logBytes, makeV2Batch(t, 12, storage.CompressionGzip, 0, 0, 0, rec)...)
	next := makeV2Batch(t, 13, 0, 0, 0, 0, rec)
	for _, cut := range []int{0, 1, 30, storage.BatchHeaderSize, len(next) - 1} {
		out, err := downConvert(append(slices.Clip(logBytes), next[:cut]...), 1)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got, _ := flattenMessageSet(t, out, 1)
		var offs []int64
		for _, m := range got {
			offs = append(offs, m.offset)
		}
		if !slices.Equal(offs, []int64{10, 12}) {
			t.Errorf("cut %d: offsets %v, want [10 12]", cut, offs)
		}
	}
}

func TestDownConvertErrors(t *testing.T) {
	good := makeV2Batch(t, 0, storage.CompressionGzip, 0, 0, 0, []kmsg.Record{{Value: []byte("v")}})
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"length below minimum", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 10); return b })},
		{"magic 1 batch", mutate(func(b []byte) []byte { b[16] = 1; return b })},
		{"unknown codec", mutate(func(b []byte) []byte { b[22] |= 7; return b })},
		{"garbage compressed records", mutate(func(b []byte) []byte { b[len(b)-5] ^= 0xff; return b })},
		{"record count too high", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[57:], 2); return b })},
		{"bad record framing", makeV2BatchRaw(t, []byte{2, 0, 0})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := downConvert(tc.in, 1)
			if !errors.Is(err, storage.ErrCorruptMessage) {
				t.Errorf("err = %v, want ErrCorruptMessage", err)
			}
		})
	}
	if _, err := downConvert(good, 2); err == nil {
		t.Error("downConvert to magic 2 succeeded")
	}
}

// makeV2BatchRaw wraps arbitrary uncompressed record bytes claiming one record.
func makeV2BatchRaw(t testing.TB, records []byte) []byte {
	t.Helper()
	b := kmsg.RecordBatch{Length: int32(49 + len(records)), Magic: 2, NumRecords: 1, Records: records}
	return b.AppendTo(nil)
}

func TestConvertMessageSetRejectsCorruptInput(t *testing.T) {
	msgs := sampleLegacyMsgs()[:2]
	plain := buildMessageSet(t, 1, 0, msgs, false, 0, false, false)
	// resign recomputes the CRC of the first message after a mutation.
	resign := func(b []byte) []byte {
		size := int(binary.BigEndian.Uint32(b[8:]))
		binary.BigEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:12+size]))
		return b
	}
	wrap := func(magic int8, codec int8, value []byte) []byte {
		return appendLegacyMessage(nil, magic, 0, codec, 0, nil, value)
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"bad crc", func() []byte { b := slices.Clone(plain); b[len(b)-1] ^= 1; return b }()},
		{"unknown magic", func() []byte { b := slices.Clone(plain); b[16] = 2; return resign(b) }()},
		{"size below minimum", func() []byte { b := slices.Clone(plain); binary.BigEndian.PutUint32(b[8:], 3); return b }()},
		{"negative size", func() []byte { b := slices.Clone(plain); binary.BigEndian.PutUint32(b[8:], 0xffffffff); return b }()},
		{"fields shorter than size", func() []byte {
			b := appendLegacyMessage(nil, 0, 0, 0, 0, []byte("k"), []byte("v"))
			b = append(b, 0xAA)
			binary.BigEndian.PutUint32(b[8:], binary.BigEndian.Uint32(b[8:])+1)
			return resign(b)
		}()},
		{"magic 1 shorter than its timestamp", func() []byte {
			b := appendLegacyMessage(nil, 0, 0, 0, 0, nil, nil)
			b[16] = 1
			return resign(b)
		}()},
		{"unknown codec", wrap(1, 5, gz(plain))},
		{"zstd in magic 1", wrap(1, 4, plain)},
		{"gzip garbage", wrap(1, 1, []byte("not gzip at all"))},
		{"gzip null value", wrap(1, 1, nil)},
		{"snappy garbage", wrap(0, 2, []byte{0x05, 0xff, 0xff, 0xff})},
		{"xerial truncated chunk", wrap(0, 2, append(xerialCompress(plain), 0, 0, 0, 9, 1))},
		{"lz4 garbage", wrap(1, 3, []byte("nope"))},
		{"lz4 broken hc in magic 1", buildMessageSet(t, 1, storage.CompressionLZ4, msgs, false, 0, true, false)},
		{"empty wrapper", wrap(1, 1, gz(nil))},
		{"nested compression", wrap(1, 1, gz(wrap(1, 1, gz(plain))))},
		{"inner magic mismatch", wrap(0, 1, gz(plain))},
		{"inner truncated", wrap(1, 1, gz(plain[:len(plain)-3]))},
	}
	// Every strict prefix that does not end on a message boundary.
	first := 12 + int(binary.BigEndian.Uint32(plain[8:]))
	for _, n := range []int{1, 11, 12, 20, first - 1, first + 1, len(plain) - 1} {
		tests = append(tests, struct {
			name string
			in   []byte
		}{fmt.Sprintf("truncated to %d", n), plain[:n]})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := convertMessageSet(tc.in)
			if !errors.Is(err, storage.ErrCorruptMessage) {
				t.Errorf("err = %v (output %d bytes), want ErrCorruptMessage", err, len(out))
			}
		})
	}
}

func TestConvertMessageSetBoundsDecompression(t *testing.T) {
	// A raw snappy block whose header claims 1 GiB.
	bomb := binary.AppendUvarint(nil, 1<<30)
	bomb = append(bomb, 0, 0, 0)
	set := appendLegacyMessage(nil, 1, 0, storage.CompressionSnappy, 0, nil, bomb)
	if _, err := convertMessageSet(set); !errors.Is(err, storage.ErrMessageTooLarge) {
		t.Errorf("snappy bomb: err = %v, want ErrMessageTooLarge", err)
	}
	var buf bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&buf, stdgzip.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range maxMessageSetDecompressed/len(zeros) + 1 {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	set = appendLegacyMessage(nil, 1, 0, storage.CompressionGzip, 0, nil, buf.Bytes())
	if _, err := convertMessageSet(set); !errors.Is(err, storage.ErrMessageTooLarge) {
		t.Errorf("gzip bomb: err = %v, want ErrMessageTooLarge", err)
	}
}

func TestConvertMessageSetEmpty(t *testing.T) {
	out, err := convertMessageSet(nil)
	if out != nil || err != nil {
		t.Errorf("convertMessageSet(nil) = %x, %v; want nil, nil", out, err)
	}
}

func TestMessageSetLZ4HeaderChecksum(t *testing.T) {
	data := bytes.Repeat([]byte("lz4 frame "), 20)
	good, err := lz4Compress(data, true)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := lz4Compress(data, false)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := lz4HCPos(good)
	if err != nil {
		t.Fatal(err)
	}
	if good[hc] == broken[hc] {
		t.Fatalf("broken and correct HC are both %#x", good[hc])
	}
	// pierrec's reader checks the HC independently of our xxh32.
	if got, err := io.ReadAll(lz4.NewReader(bytes.NewReader(good))); err != nil || !bytes.Equal(got, data) {
		t.Errorf("correct frame: %v", err)
	}
	if _, err := io.ReadAll(lz4.NewReader(bytes.NewReader(broken))); err == nil {
		t.Error("pierrec accepted the broken HC")
	}
	for _, frame := range [][]byte{good, broken} {
		if got, err := lz4Decompress(frame, true); err != nil || !bytes.Equal(got, data) {
			t.Errorf("magic 0 decode: %v", err)
		}
	}
}

func TestDownConvertLZ4HeaderChecksumPerMagic(t *testing.T) {
	batch := makeV2Batch(t, 0, storage.CompressionLZ4, 0, 0, 0, []kmsg.Record{{Value: []byte("v")}})
	for _, magic := range []int8{0, 1} {
		out, err := downConvert(batch, magic)
		if err != nil {
			t.Fatal(err)
		}
		w, _, err := parseLegacyMessage(out)
		if err != nil {
			t.Fatal(err)
		}
		hc, err := lz4HCPos(w.value)
		if err != nil {
			t.Fatal(err)
		}
		// Kafka writes magic 0 frames with the HC computed from the frame
		// magic on; magic 1 frames are standard and pierrec must read them.
		broken := byte(xxh32(w.value[:hc], 0) >> 8)
		_, stdErr := io.ReadAll(lz4.NewReader(bytes.NewReader(w.value)))
		switch {
		case magic == 0 && w.value[hc] != broken:
			t.Errorf("magic 0 HC %#x, want Kafka's %#x", w.value[hc], broken)
		case magic == 1 && stdErr != nil:
			t.Errorf("magic 1 frame rejected by a standard reader: %v", stdErr)
		}
	}
}

func TestXXH32(t *testing.T) {
	// Values from the reference implementation.
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0x02cc5d05},
		{"a", 0x550d7456},
		{"abc", 0x32d153ff},
		{"0123456789abcdefXYZ", 0x855ed232},
		{"Nobody inspects the spammish repetition", 0xe2293b2f},
	} {
		if got := xxh32([]byte(tc.in), 0); got != tc.want {
			t.Errorf("xxh32(%q) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
}

// resignMessages returns a copy of set with the CRC of every top-level
// message that fits recomputed, so the fuzzer reaches past the CRC check.
func resignMessages(set []byte) []byte {
	set = slices.Clone(set)
	for pos := 0; len(set)-pos >= legacyMagicPos; {
		size := int64(int32(binary.BigEndian.Uint32(set[pos+8:])))
		if size < 4 || size > int64(len(set)-pos-legacyLogOverhead) {
			break
		}
		end := pos + legacyLogOverhead + int(size)
		binary.BigEndian.PutUint32(set[pos+legacyLogOverhead:], crc32.ChecksumIEEE(set[pos+legacyMagicPos:end]))
		pos = end
	}
	return set
}

// FuzzConvertMessageSet checks, for any input and for the input with its
// top-level CRCs fixed: convertMessageSet does not panic; every error wraps
// ErrCorruptMessage or ErrMessageTooLarge; a non-empty input that converts
// gives output that passes storage.ValidateBatches; and down-converting that
// output back to magic 1 succeeds and yields exactly as many messages as the
// batches hold records.
func FuzzConvertMessageSet(f *testing.F) {
	msgs := sampleLegacyMsgs()
	for _, magic := range []int8{0, 1} {
		for _, codec := range []int{0, 1, 2, 3} {
			f.Add(buildMessageSet(f, magic, codec, msgs[:3], false, 5, false, false))
		}
	}
	f.Add(buildMessageSet(f, 1, storage.CompressionGzip, msgs[:2], true, 5, false, false))
	f.Add(buildMessageSet(f, 0, storage.CompressionLZ4, msgs[:2], false, 0, true, false))
	f.Add(buildMessageSet(f, 1, storage.CompressionSnappy, msgs[:2], false, 0, false, true))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkConvert(t, data)
		checkConvert(t, resignMessages(data))
	})
}

// checkConvert asserts the FuzzConvertMessageSet properties for one input.
func checkConvert(t *testing.T, data []byte) {
	t.Helper()
	out, err := convertMessageSet(data)
	if err != nil {
		if !errors.Is(err, storage.ErrCorruptMessage) && !errors.Is(err, storage.ErrMessageTooLarge) {
			t.Fatalf("error %v wraps neither ErrCorruptMessage nor ErrMessageTooLarge", err)
		}
		return
	}
	if len(data) == 0 {
		if out != nil {
			t.Fatalf("empty input gave %d bytes", len(out))
		}
		return
	}
	_, records, err := storage.ValidateBatches(out, -1)
	if err != nil {
		t.Fatalf("output fails validation: %v", err)
	}
	back, err := downConvert(out, 1)
	if err != nil {
		t.Fatalf("down-convert of output: %v", err)
	}
	if got, _ := flattenMessageSet(t, back, 1); len(got) != records {
		t.Fatalf("down-converted %d messages, batches hold %d records", len(got), records)
	}
}

// FuzzDownConvert checks, for any bytes as read from a log: downConvert to
// magic 0 and 1 does not panic, every error wraps ErrCorruptMessage or
// ErrMessageTooLarge, and any output is a message set that decodes.
func FuzzDownConvert(f *testing.F) {
	recs := []kmsg.Record{{Key: []byte("k"), Value: []byte("v")}, {OffsetDelta: 1, TimestampDelta64: 4, Value: []byte("w"),
		Headers: []kmsg.Header{{Key: "h", Value: []byte("x")}}}}
	for codec := range 5 {
		f.Add(makeV2Batch(f, 100, codec, 0, 10, 14, recs))
	}
	f.Add(makeV2Batch(f, 0, 1, storage.AttrLogAppendTime, 10, 99, recs))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, magic := range []int8{0, 1} {
			out, err := downConvert(data, magic)
			if err != nil {
				if !errors.Is(err, storage.ErrCorruptMessage) && !errors.Is(err, storage.ErrMessageTooLarge) {
					t.Fatalf("error %v wraps neither ErrCorruptMessage nor ErrMessageTooLarge", err)
				}
				continue
			}
			flattenMessageSet(t, out, magic)
		}
	})
}

func benchLegacyMsgs(n int) []legacyTestMsg {
	msgs := make([]legacyTestMsg, n)
	for i := range msgs {
		msgs[i] = legacyTestMsg{timestamp: 1700000000000 + int64(i), key: fmt.Appendf(nil, "key-%d", i),
			value: bytes.Repeat([]byte{byte('a' + i%26)}, 100)}
	}
	return msgs
}

func BenchmarkConvertMessageSet(b *testing.B) {
	for _, codec := range []int{0, 1, 2, 3} {
		b.Run(fmt.Sprint("codec", codec), func(b *testing.B) {
			set := buildMessageSet(b, 1, codec, benchLegacyMsgs(100), false, 0, false, false)
			b.ReportAllocs()
			b.SetBytes(int64(len(set)))
			for b.Loop() {
				if _, err := convertMessageSet(set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDownConvert(b *testing.B) {
	for _, codec := range []int{0, 1, 2, 3} {
		b.Run(fmt.Sprint("codec", codec), func(b *testing.B) {
			batches, err := convertMessageSet(buildMessageSet(b, 1, codec, benchLegacyMsgs(100), false, 0, false, false))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(batches)))
			for b.Loop() {
				if _, err := downConvert(batches, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
