package broker

// DeleteRecords (key 21), v0–v2: moves a partition's log start offset
// forward. Offset -1 means the high watermark.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

func (b *Broker) handleDeleteRecords(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewDeleteRecordsResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewDeleteRecordsResponseTopicPartition()
			op.Partition = rp.Partition
			op.LowWatermark = -1
			low, err := b.deleteRecords(rt.Topic, rp.Partition, rp.Offset)
			if err != nil {
				op.ErrorCode = errCode(err)
			} else {
				op.LowWatermark = low
				b.log.Info("deleted records", "topic", rt.Topic, "partition", rp.Partition, "offset", low, "client_id", r.ClientID)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}

func (b *Broker) deleteRecords(topic string, partition int32, offset int64) (int64, error) {
	p, err := b.partition(topic, partition)
	if err != nil {
		return -1, err
	}
	hwm := p.hwm()
	if offset == -1 {
		offset = hwm
	}
	if offset < 0 || offset > hwm {
		return -1, fail(storage.ErrOffsetOutOfRange, "offset %d is outside [0, %d]", offset, hwm)
	}
	return p.log.DeleteRecordsBefore(offset)
}
