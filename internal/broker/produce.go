package broker

// Produce (key 0), v0–v11. v0–v2 carry the old message sets (magic 0/1),
// converted to record batches before the append (msgset.go); v2 adds
// LogAppendTime to the answer. v3 brings record batches (magic 2) and
// transactional ids, v5 LogStartOffset, v8 per-record errors and messages,
// v9 flexible encoding. Batches are stored as sent: compressed data stays
// compressed.
//
// Partitions are appended in request order on the connection's reader
// goroutine; waiting for the flush policy happens in the Finish function, so
// the next requests of the connection are already being appended while this
// one waits for its fsync (group commit across requests and partitions).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// flushWait is one appended partition whose ack waits for the flush policy.
type flushWait struct {
	p   *partition
	end int64 // exclusive: the offset after the last appended record
	out *kmsg.ProduceResponseTopicPartition
}

func (b *Broker) handleProduce(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	var acksErr error
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		acksErr = errInvalidRequiredAcks
	}
	var waits []flushWait
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		ot := &resp.Topics[i]
		*ot = kmsg.NewProduceResponseTopic()
		ot.Topic = rt.Topic
		ot.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			op := &ot.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition = rp.Partition
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = -1, -1, -1
			res, p, err := b.appendPartition(rt.Topic, rp, req.Version, acksErr)
			if err != nil {
				op.ErrorCode = errCode(err)
				if req.Version >= 8 {
					op.ErrorMessage = errMessage(err)
				}
				if errCode(err) == errCode(storage.ErrCorruptMessage) {
					b.log.Debug("rejected produce", "topic", rt.Topic, "partition", rp.Partition, "client_id", r.ClientID, "err", err)
				}
				continue
			}
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			waits = append(waits, flushWait{p: p, end: res.LastOffset + 1, out: op})
		}
	}

	if b.cfg.Flush != storage.FlushDurable || len(waits) == 0 {
		for _, w := range waits {
			w.p.wake()
		}
		if req.Acks == 0 {
			return nil, nil
		}
		return resp, nil
	}
	if req.Acks == 0 {
		// Nobody waits for the answer, but fetchers wait for the hwm.
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.awaitFlush(waits, 0, -1)
		}()
		return nil, nil
	}
	return nil, func(context.Context) kmsg.Response {
		b.awaitFlush(waits, req.TimeoutMillis, req.Version)
		return resp
	}
}

// appendPartition appends one partition's records.
func (b *Broker) appendPartition(topic string, rp *kmsg.ProduceRequestTopicPartition, version int16, acksErr error) (storage.AppendResult, *partition, error) {
	if acksErr != nil {
		return storage.AppendResult{}, nil, acksErr
	}
	if t := b.meta.State().Topic(topic); t != nil && t.Internal {
		return storage.AppendResult{}, nil, fail(errInvalidTopic, "Cannot append to internal topic %s", topic)
	}
	p, err := b.partition(topic, rp.Partition)
	if err != nil {
		return storage.AppendResult{}, nil, err
	}
	data := rp.Records
	if version < 3 {
		if data, err = convertMessageSet(data); err != nil {
			return storage.AppendResult{}, nil, err
		}
	}
	if len(data) == 0 {
		return storage.AppendResult{}, nil, fail(storage.ErrCorruptMessage, "produce request has no records")
	}
	res, err := p.log.Append(data, p.leaderEpoch.Load())
	return res, p, err
}

// awaitFlush waits until every appended partition is durable, wakes its
// fetchers and turns failures into error codes. It waits on the broker's
// context, not the connection's: the data is in the log either way, and the
// hwm must move even if the producer went away.
func (b *Broker) awaitFlush(waits []flushWait, timeoutMillis int32, version int16) {
	ctx := b.ctx
	if timeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutMillis)*time.Millisecond)
		defer cancel()
	}
	for _, w := range waits {
		err := w.p.log.WaitFlushed(ctx, w.end)
		w.p.wake()
		if err != nil && version >= 0 {
			w.out.ErrorCode = errCode(err)
			if version >= 8 {
				w.out.ErrorMessage = errMessage(err)
			}
		}
	}
}
