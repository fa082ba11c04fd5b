package group

// The __consumer_offsets record codec. Keys and values are Kafka's own
// formats, encoded and decoded with kmsg; this file frames them into
// magic-2 record batches and picks them back out during replay.
//
//	key version 0, 1   OffsetCommitKey    (group, topic, partition); we write v1
//	key version 2      GroupMetadataKey   (group)
//	key version >= 3   records of KIP-848 groups and others: skipped
//
//	OffsetCommitValue  v1 when the commit carries an expire timestamp
//	                   (OffsetCommit v2–v4 retention), else v3 (leader epoch)
//	GroupMetadataValue v3 (static members); v0–v4 are read
//
// A record with a nil value is a tombstone: it deletes its key.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// PartitionFor returns the partition of OffsetsTopic that owns a group when
// the topic has n partitions: Kafka's Utils.abs(groupId.hashCode()) % n,
// with Java's String.hashCode over UTF-16 code units.
func PartitionFor(group string, n int32) int32 {
	h := javaStringHash(group)
	if h == -1<<31 {
		h = 0 // Kafka's Utils.abs maps Integer.MIN_VALUE to 0
	} else if h < 0 {
		h = -h
	}
	return h % n
}

// javaStringHash is java.lang.String.hashCode: s[0]*31^(n-1) + ... + s[n-1]
// over UTF-16 code units, wrapping like Java's int.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// record is one key and value to write; a nil value is a tombstone.
type record struct {
	key, value []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendBatch appends an uncompressed magic-2 batch holding recs, stamped
// with now, as a non-idempotent producer would write it. Append assigns
// the offsets and the leader epoch.
func appendBatch(dst []byte, recs []record, now time.Time) []byte {
	start := len(dst)
	ts := now.UnixMilli()
	dst = binary.BigEndian.AppendUint64(dst, 0) // base offset
	dst = binary.BigEndian.AppendUint32(dst, 0) // batch length, below
	dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)
	dst = append(dst, 2)                        // magic
	dst = binary.BigEndian.AppendUint32(dst, 0) // crc, below
	dst = binary.BigEndian.AppendUint16(dst, 0) // attributes: no compression, CreateTime
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(recs)-1))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = binary.BigEndian.AppendUint64(dst, 0xffffffffffffffff) // producer id -1
	dst = binary.BigEndian.AppendUint16(dst, 0xffff)             // producer epoch -1
	dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)         // base sequence -1
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(recs)))
	var body []byte
	for i, r := range recs {
		body = body[:0]
		body = append(body, 0)                      // attributes
		body = binary.AppendVarint(body, 0)         // timestamp delta
		body = binary.AppendVarint(body, int64(i))  // offset delta
		body = appendVarintBytes(body, r.key, true) // key
		body = appendVarintBytes(body, r.value, r.value != nil)
		body = binary.AppendVarint(body, 0) // headers
		dst = binary.AppendVarint(dst, int64(len(body)))
		dst = append(dst, body...)
	}
	batch := dst[start:]
	binary.BigEndian.PutUint32(batch[8:], uint32(len(batch)-12))
	binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], castagnoli))
	return dst
}

func appendVarintBytes(dst, b []byte, present bool) []byte {
	if !present {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// offsetKey is the key of a committed offset (OffsetCommitKey v1).
func offsetKey(group string, tp TopicPartition) []byte {
	k := kmsg.OffsetCommitKey{Version: 1, Group: group, Topic: tp.Topic, Partition: tp.Partition}
	return k.AppendTo(nil)
}

// offsetValue encodes a committed offset: v1 when it carries an expire
// timestamp, else v3.
func offsetValue(o *offsetEntry) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = 3
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.commitTime.UnixMilli()
	if !o.expireTime.IsZero() {
		v.Version = 1
		v.ExpireTimestamp = o.expireTime.UnixMilli()
	}
	return v.AppendTo(nil)
}

// groupKey is the key of a group's metadata (GroupMetadataKey v2).
func groupKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: 2, Group: group}
	return k.AppendTo(nil)
}

// groupValue encodes the group's metadata (GroupMetadataValue v3) with the
// given assignments (by member ID; missing means none).
func groupValue(g *group, assignment map[string][]byte) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	for _, m := range g.memberList() {
		mv := kmsg.NewGroupMetadataValueMember()
		mv.MemberID = m.id
		mv.InstanceID = m.instanceID
		mv.ClientID = m.clientID
		mv.ClientHost = m.clientHost
		mv.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		mv.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		mv.Subscription = m.metadataFor(g.protocol)
		mv.Assignment = assignment[m.id]
		if mv.Assignment == nil {
			mv.Assignment = []byte{}
		}
		v.Members = append(v.Members, mv)
	}
	return v.AppendTo(nil)
}

// logRecord is one record read back from OffsetsTopic, decoded.
type logRecord struct {
	offset int64 // its offset in the partition
	time   time.Time

	// Exactly one of the following is set.
	commitKey *kmsg.OffsetCommitKey
	groupKey  *kmsg.GroupMetadataKey

	// nil for a tombstone.
	commit *kmsg.OffsetCommitValue
	meta   *kmsg.GroupMetadataValue
}

// parseBatches decodes the records of every whole batch in data, calling fn
// for each record this package understands, and returns the offset after
// the last whole batch. Control batches and records of unknown key
// versions are skipped; compressed batches, which this package never
// writes, are skipped with an error returned after the rest are read.
func parseBatches(data []byte, fn func(logRecord)) (next int64, err error) {
	next = -1
	var skipped error
	for len(data) >= storage.BatchHeaderSize {
		h, err := storage.ParseBatchHeader(data)
		if err != nil {
			return next, fmt.Errorf("parse batch: %w", err)
		}
		if h.Size() > len(data) {
			break
		}
		batch := data[:h.Size()]
		data = data[h.Size():]
		next = h.LastOffset() + 1
		if h.IsControl() {
			continue
		}
		if h.Compression() != storage.CompressionNone {
			skipped = fmt.Errorf("batch at offset %d: compressed (codec %d), skipped", h.BaseOffset, h.Compression())
			continue
		}
		recs := batch[storage.BatchHeaderSize:]
		for i := int32(0); i < h.NumRecords; i++ {
			l, n := binary.Varint(recs)
			if n <= 0 || l < 0 || int(l) > len(recs)-n {
				return next, fmt.Errorf("batch at offset %d: record %d: bad length", h.BaseOffset, i)
			}
			raw := recs[:n+int(l)]
			recs = recs[n+int(l):]
			var r kmsg.Record
			if err := r.ReadFrom(raw); err != nil {
				return next, fmt.Errorf("batch at offset %d: record %d: %w", h.BaseOffset, i, err)
			}
			lr, ok, err := decodeRecord(r.Key, r.Value)
			if err != nil {
				return next, fmt.Errorf("batch at offset %d: record %d: %w", h.BaseOffset, i, err)
			}
			if !ok {
				continue
			}
			lr.offset = h.BaseOffset + int64(r.OffsetDelta)
			lr.time = time.UnixMilli(h.BaseTimestamp + r.TimestampDelta64)
			fn(lr)
		}
	}
	return next, skipped
}

// decodeRecord decodes one key and value; ok is false for record types this
// package does not handle.
func decodeRecord(key, value []byte) (lr logRecord, ok bool, err error) {
	if len(key) < 2 {
		return lr, false, fmt.Errorf("key of %d bytes", len(key))
	}
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(key); err != nil {
			return lr, false, fmt.Errorf("offset commit key: %w", err)
		}
		lr.commitKey = &k
		if value != nil {
			var v kmsg.OffsetCommitValue
			if err := v.ReadFrom(value); err != nil {
				return lr, false, fmt.Errorf("offset commit value of %s: %w", k.Group, err)
			}
			lr.commit = &v
		}
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			return lr, false, fmt.Errorf("group metadata key: %w", err)
		}
		lr.groupKey = &k
		if value != nil {
			var v kmsg.GroupMetadataValue
			if err := v.ReadFrom(value); err != nil {
				return lr, false, fmt.Errorf("group metadata value of %s: %w", k.Group, err)
			}
			lr.meta = &v
		}
	default:
		return lr, false, nil
	}
	return lr, true, nil
}
