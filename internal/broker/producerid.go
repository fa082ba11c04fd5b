package broker

// InitProducerId (key 22), v0–v5. Idempotent producers get a fresh producer
// id with epoch 0. Transactional ids need the transaction coordinator, which
// is not built yet: they are refused with COORDINATOR_NOT_AVAILABLE.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleInitProducerID(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil && *req.TransactionalID != "" {
		b.log.Warn("transactional producer refused: transactions are not supported yet", "client_id", r.ClientID)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil
	}
	pid, err := b.pids.Next(ctx)
	if err != nil {
		b.log.Error("allocate producer id", "err", err)
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = pid, 0
	return resp, nil
}
