package console

// Live tail on the Messages tab: GET /api/topics/{topic}/tail streams the
// records produced to a topic from now on as Server-Sent Events, until
// Config.TailDuration passes, the client goes away or the console closes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tailReady is the first event of a tail: it carries the offset each
// partition's tail starts at; every record produced after it arrives.
type tailReady struct {
	Topic  string          `json:"topic"`
	Starts map[int32]int64 `json:"starts"`
	Until  time.Time       `json:"until"`
}

// apiTail streams the topic's new records: an event "ready" once the
// start offsets are fixed, then one event "record" (a Message) per record,
// a comment every 15 s to keep proxies from closing the stream, and an
// event "end" (with the reason) when the tail stops by itself.
func (c *Console) apiTail(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	fl, ok := w.(http.Flusher)
	if !ok {
		c.fail(w, fmt.Errorf("tail %q: the connection cannot stream", topic))
		return
	}
	cl := clusterOf(r.Context())
	lctx, lcancel := c.ctx(r)
	ends, err := cl.adm.ListEndOffsets(lctx, topic)
	lcancel()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		c.fail(w, c.topicErr(r.Context(), topic, "list end offsets", err))
		return
	}
	starts := map[int32]int64{}
	consume := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		starts[o.Partition] = o.Offset
		consume[o.Partition] = kgo.NewOffset().At(o.Offset)
	})
	if len(starts) == 0 {
		c.fail(w, fmt.Errorf("tail %q: %w", topic, ErrNotFound))
		return
	}
	kc, err := kgo.NewClient(clientOpts(c.cfg, cl.brokers,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume}),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		c.fail(w, fmt.Errorf("tail %q: new kafka client: %w", topic, err))
		return
	}
	defer kc.Close()

	ctx, cancel := context.WithTimeout(r.Context(), c.cfg.TailDuration)
	defer cancel()
	stop := context.AfterFunc(c.stopped, cancel) // Close ends every tail
	defer stop()
	deadline, _ := ctx.Deadline()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	if send("ready", tailReady{Topic: topic, Starts: starts, Until: deadline}) != nil {
		return
	}
	lastWrite := time.Now()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
		fs := kc.PollRecords(pctx, c.cfg.MaxMessages)
		pcancel()
		if ctx.Err() != nil {
			switch {
			case r.Context().Err() != nil: // the client went away
			case c.stopped.Err() != nil:
				send("end", map[string]string{"reason": "the console is closing"})
			default:
				send("end", map[string]string{"reason": "the tail stops after " + c.cfg.TailDuration.String() + "; start it again to go on"})
			}
			return
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			send("end", map[string]string{"reason": fmt.Sprintf("read %s partition %d: %v", fe.Topic, fe.Partition, brokerErr(fe.Err, ""))})
			return
		}
		var werr error
		fs.EachRecord(func(rec *kgo.Record) {
			if werr == nil {
				werr = send("record", toMessage(rec))
				lastWrite = time.Now()
			}
		})
		if werr != nil {
			return // the client went away
		}
		if time.Since(lastWrite) >= 15*time.Second {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
			lastWrite = time.Now()
		}
	}
}
