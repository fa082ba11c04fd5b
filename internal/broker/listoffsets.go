package broker

// ListOffsets (key 2), v0–v8. v0 answers a list of old-style offsets, v1 a
// single offset with its timestamp, v2 isolation level, v4 leader epochs,
// v6 flexible encoding, v7 the max-timestamp query (-3), v8 the
// earliest-local query (-4, the log start offset: there is no tiered storage).

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	listLatest        = -1
	listEarliest      = -2
	listMaxTimestamp  = -3
	listEarliestLocal = -4
)

func (b *Broker) handleListOffsets(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewListOffsetsResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewListOffsetsResponseTopicPartition()
			op.Partition = rp.Partition
			offset, ts, epoch, err := b.listOffset(rt.Topic, rp, req.Version)
			op.LeaderEpoch = epoch
			if err != nil {
				op.ErrorCode = errCode(err)
				op.Offset, op.Timestamp = -1, -1
			} else if req.Version == 0 {
				if offset >= 0 {
					op.OldStyleOffsets = []int64{offset}
				}
			} else {
				op.Offset, op.Timestamp = offset, ts
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}

// listOffset answers one partition: the offset and timestamp for the query,
// and the leader epoch.
func (b *Broker) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition, version int16) (offset, ts int64, epoch int32, err error) {
	p, err := b.partition(topic, rp.Partition)
	if err != nil {
		return -1, -1, -1, err
	}
	epoch = p.leaderEpoch.Load()
	if err := checkLeaderEpoch(p, rp.CurrentLeaderEpoch); err != nil {
		return -1, -1, epoch, err
	}
	hwm := p.hwm()
	switch {
	case rp.Timestamp == listLatest:
		return hwm, -1, epoch, nil
	case rp.Timestamp == listEarliest, rp.Timestamp == listEarliestLocal && version >= 8:
		return p.log.LogStartOffset(), -1, epoch, nil
	case rp.Timestamp == listMaxTimestamp && version >= 7:
		off, t, err := p.log.MaxTimestamp()
		if err != nil || off >= hwm {
			return -1, -1, epoch, err
		}
		return off, t, epoch, nil
	case rp.Timestamp < 0:
		return -1, -1, epoch, errors.Join(errInvalidRequest, errors.New("unsupported timestamp query"))
	}
	off, t, err := p.log.OffsetForTimestamp(rp.Timestamp)
	if err != nil {
		return -1, -1, epoch, err
	}
	if off < 0 || off >= hwm {
		return -1, -1, epoch, nil
	}
	return off, t, epoch, nil
}
