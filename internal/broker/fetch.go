package broker

// Fetch (key 1), v0–v13. v0–v3 get the old message sets: batches are
// down-converted to magic 0 (v0–v1) or magic 1 (v2–v3) in msgset.go; v3 adds
// the request's MaxBytes. v4 adds isolation level and the last stable offset
// (equal to the hwm until transactions exist), v5 the log start offset, v7
// fetch sessions (KIP-227: we never create one — a session id of 0 in the
// answer tells the client to keep sending full fetches), v9 current leader
// epochs, v11 rack (ignored: no follower fetching), v12 flexible encoding,
// v13 topic IDs instead of names.
//
// A fetch that finds fewer than MinBytes waits (long poll) for an append to
// any of its partitions, MaxWaitMillis, or the connection to close, then
// answers with what there is. No busy loop: appends wake the waiting fetch.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleFetch(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.FetchRequest)
	if req.Version >= 7 && req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = errCode(errFetchSessionNotFound)
		return resp, nil
	}
	resp, n, parts := b.fetchOnce(r, req)
	if n >= int(req.MinBytes) || req.MaxWaitMillis <= 0 || len(parts) == 0 || n < 0 {
		return resp, nil
	}
	return nil, func(ctx context.Context) kmsg.Response {
		wake := make(chan struct{}, 1)
		for _, p := range parts {
			p.watch(wake)
		}
		defer func() {
			for _, p := range parts {
				p.unwatch(wake)
			}
		}()
		timer := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
		defer timer.Stop()
		for {
			select {
			case <-wake:
				if resp, n, _ := b.fetchOnce(r, req); n >= int(req.MinBytes) || n < 0 {
					return resp
				}
			case <-timer.C:
				resp, _, _ := b.fetchOnce(r, req)
				return resp
			case <-ctx.Done(): // connection closing or server shutting down
				resp, _, _ := b.fetchOnce(r, req)
				return resp
			}
		}
	}
}

// fetchOnce reads every requested partition. It returns the response, the
// number of record bytes in it (-1 if a partition has an error, which answers
// at once) and the partitions a long poll should watch.
func (b *Broker) fetchOnce(r *Request, req *kmsg.FetchRequest) (*kmsg.FetchResponse, int, []*partition) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.SessionID = 0
	st := b.meta.State()
	remaining := int(req.MaxBytes)
	if req.Version < 3 || remaining <= 0 {
		remaining = int(^uint(0) >> 1)
	}
	total, hadErr := 0, false
	var parts []*partition
	for _, rt := range req.Topics {
		ot := kmsg.NewFetchResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		var topicErr error
		if req.Version >= 13 {
			if t := st.TopicByID(rt.TopicID); t != nil {
				name = t.Name
			} else {
				topicErr = errUnknownTopicID
			}
		}
		for _, rp := range rt.Partitions {
			op := kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = -1, -1, -1
			op.RecordBatches = []byte{} // Kafka sends an empty set, never null: librdkafka rejects -1
			err := topicErr
			var p *partition
			if err == nil {
				p, err = b.partition(name, rp.Partition)
			}
			if err == nil {
				err = checkLeaderEpoch(p, rp.CurrentLeaderEpoch)
			}
			if err == nil {
				parts = append(parts, p)
				limit := min(int(rp.PartitionMaxBytes), remaining)
				var data []byte
				data, err = b.readPartition(r, p, rp.FetchOffset, limit, total > 0, &op)
				if err == nil && req.Version < 4 && len(data) > 0 {
					data, err = downConvert(data, legacyMagic(req.Version))
				}
				if data != nil {
					op.RecordBatches = data
				}
				total += len(data)
				remaining -= len(data)
			}
			if err != nil {
				op.ErrorCode = errCode(err)
				hadErr = true
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	if hadErr {
		return resp, -1, parts
	}
	return resp, total, parts
}

// readPartition fills the partition's offsets and returns its batches. Once
// some partition returned data (strict), a batch that would go over limit is
// left for the next fetch; only the first non-empty partition may exceed its
// limit by one batch (KIP-74).
func (b *Broker) readPartition(r *Request, p *partition, offset int64, limit int, strict bool, op *kmsg.FetchResponseTopicPartition) ([]byte, error) {
	hwm := p.hwm()
	op.HighWatermark, op.LastStableOffset = hwm, hwm
	op.LogStartOffset = p.log.LogStartOffset()
	if limit <= 0 && strict {
		return nil, nil
	}
	if offset >= hwm && offset >= 0 && offset <= p.log.LogEndOffset() {
		return nil, nil // nothing visible yet: no read, no buffer
	}
	var dst []byte
	if r.Scratch != nil {
		dst = r.Scratch(min(max(limit, 1), maxScratchRead))
	}
	data, err := p.log.ReadInto(dst, offset, max(limit, 1), hwm)
	if err != nil {
		return nil, err
	}
	if strict && len(data) > limit {
		return nil, nil
	}
	return data, nil
}

// maxScratchRead caps the pooled buffer one partition read starts with; a
// larger read grows it by allocation.
const maxScratchRead = 1 << 20

// checkLeaderEpoch compares a client's idea of the leader epoch with ours
// (-1 = the client does not say).
func checkLeaderEpoch(p *partition, epoch int32) error {
	if epoch < 0 {
		return nil
	}
	ours := p.leaderEpoch.Load()
	switch {
	case epoch < ours:
		return fail(errFencedLeaderEpoch, "leader epoch %d is older than the current %d", epoch, ours)
	case epoch > ours:
		return fail(errUnknownLeaderEpoch, "leader epoch %d is newer than the current %d", epoch, ours)
	}
	return nil
}

// legacyMagic is the message format a pre-v4 fetch expects.
func legacyMagic(version int16) int8 {
	if version < 2 {
		return 0
	}
	return 1
}
