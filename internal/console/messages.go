package console

// The Messages tab of the topic page and its API: read records (newest
// first, or from an offset or a time; one partition or all; filtered by a
// key or value substring) and produce one record from a form.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Message is one record as the console shows it.
type Message struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Timestamp time.Time `json:"timestamp"`
	Key       string    `json:"key"`   // base64 if KeyBinary
	Value     string    `json:"value"` // base64 if ValueBinary
	// Pretty is Value indented, when Value is a JSON object or array.
	Pretty      string   `json:"value_pretty,omitempty"`
	KeyNull     bool     `json:"key_null,omitempty"`
	KeyBinary   bool     `json:"key_base64,omitempty"`
	ValueBinary bool     `json:"value_base64,omitempty"`
	Headers     []Header `json:"headers"`
}

// Header is one record header.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// messagesQuery says which records to show.
type messagesQuery struct {
	Partition int32  // -1: all partitions
	Mode      string // newest, offset or timestamp
	Offset    int64  // Mode offset: the first offset read in each partition
	Time      string // Mode timestamp: as given (RFC 3339 or Unix milliseconds)
	at        time.Time
	Key       string // substring the key must contain; "" matches all
	Value     string // substring the value must contain; "" matches all
	Limit     int    // most records returned
}

// parseMessagesQuery reads a query from URL parameters: partition, mode,
// offset, timestamp, key, value, limit (at most maxLimit).
func parseMessagesQuery(v url.Values, maxLimit int) (messagesQuery, error) {
	q := messagesQuery{Partition: -1, Mode: cmp.Or(v.Get("mode"), "newest"), Key: v.Get("key"), Value: v.Get("value"), Limit: min(50, maxLimit), Time: v.Get("timestamp")}
	if s := v.Get("partition"); s != "" && s != "all" {
		p, err := strconv.ParseInt(s, 10, 32)
		if err != nil || p < 0 {
			return q, fmt.Errorf("%w: partition %q: give a partition number or all", ErrBadRequest, s)
		}
		q.Partition = int32(p)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return q, fmt.Errorf("%w: limit %q: give a count >= 1", ErrBadRequest, s)
		}
		q.Limit = min(n, maxLimit)
	}
	switch q.Mode {
	case "newest":
	case "offset":
		n, err := strconv.ParseInt(v.Get("offset"), 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("%w: offset %q: give an offset >= 0", ErrBadRequest, v.Get("offset"))
		}
		q.Offset = n
	case "timestamp":
		t, err := parseTime(q.Time)
		if err != nil {
			return q, err
		}
		q.at = t
	default:
		return q, fmt.Errorf("%w: mode %q: use newest, offset or timestamp", ErrBadRequest, q.Mode)
	}
	return q, nil
}

// parseTime reads RFC 3339 (with or without zone and seconds, as a
// datetime-local input sends it) or Unix milliseconds.
func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: timestamp %q: use 2024-05-01T12:00:00Z (RFC 3339) or Unix milliseconds", ErrBadRequest, s)
}

// messagesView is GET /api/topics/{topic}/messages and the Messages tab.
type messagesView struct {
	Messages []Message `json:"messages"`
	// Scanned is how many records were read to find Messages.
	Scanned int `json:"scanned"`
	// Window is the offset range read per partition (partition → [from, to)).
	Window map[int32][2]int64 `json:"window"`
	// Incomplete: the time ran out before every record in Window was read.
	Incomplete bool `json:"incomplete,omitempty"`
}

// messages reads the records q asks for. It reads at most
// Config.ScanRecords records over all partitions, for at most twice
// Config.RequestTimeout.
func (c *Console) messages(ctx context.Context, topic string, q messagesQuery) (messagesView, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*c.cfg.RequestTimeout)
	defer cancel()
	v := messagesView{Messages: []Message{}, Window: map[int32][2]int64{}}
	starts, err := clusterOf(ctx).adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return v, c.topicErr(ctx, topic, "list start offsets", err)
	}
	ends, err := clusterOf(ctx).adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return v, c.topicErr(ctx, topic, "list end offsets", err)
	}
	var atOffsets kadm.ListedOffsets
	if q.Mode == "timestamp" {
		if atOffsets, err = clusterOf(ctx).adm.ListOffsetsAfterMilli(ctx, q.at.UnixMilli(), topic); err != nil {
			return v, c.topicErr(ctx, topic, "list offsets by time", err)
		}
	}
	var parts []int32
	ends.Each(func(o kadm.ListedOffset) {
		if q.Partition < 0 || o.Partition == q.Partition {
			parts = append(parts, o.Partition)
		}
	})
	if len(parts) == 0 {
		return v, fmt.Errorf("%w: topic %q has no partition %d", ErrBadRequest, topic, q.Partition)
	}
	budget := int64(max(c.cfg.ScanRecords/len(parts), q.Limit))
	consume := map[int32]kgo.Offset{}
	stops := map[int32]int64{}
	for _, p := range parts {
		s, _ := starts.Lookup(topic, p)
		e, _ := ends.Lookup(topic, p)
		var from, to int64
		switch q.Mode {
		case "newest":
			from, to = max(s.Offset, e.Offset-budget), e.Offset
		case "offset":
			from = min(max(q.Offset, s.Offset), e.Offset)
			to = min(e.Offset, from+budget)
		case "timestamp":
			from = e.Offset
			if a, ok := atOffsets.Lookup(topic, p); ok && a.Err == nil && a.Offset >= 0 {
				from = min(max(a.Offset, s.Offset), e.Offset)
			}
			to = min(e.Offset, from+budget)
		}
		v.Window[p] = [2]int64{from, to}
		if from < to {
			consume[p] = kgo.NewOffset().At(from)
			stops[p] = to
		}
	}
	if len(consume) > 0 {
		if err := c.read(ctx, topic, consume, stops, q, &v); err != nil {
			return v, err
		}
	}
	if q.Mode == "newest" {
		slices.SortFunc(v.Messages, func(a, b Message) int { return -compareMessages(a, b) })
	} else {
		slices.SortFunc(v.Messages, compareMessages)
	}
	if len(v.Messages) > q.Limit {
		v.Messages = v.Messages[:q.Limit]
	}
	return v, nil
}

// compareMessages orders by timestamp, then partition, then offset.
func compareMessages(a, b Message) int {
	return cmp.Or(a.Timestamp.Compare(b.Timestamp), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
}

// topicErr wraps err; a dead cluster reads as unreachable.
func (c *Console) topicErr(ctx context.Context, topic, op string, err error) error {
	if isTimeout(err) {
		return fmt.Errorf("%w (%s): %s %q: %v", ErrUnreachable, clusterOf(ctx).bootstrap(), op, topic, err)
	}
	return fmt.Errorf("%s %q: %w", op, topic, brokerErr(err, ""))
}

// isTimeout says whether err comes from a deadline: the cluster did not
// answer in time.
func isTimeout(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "deadline exceeded") || strings.Contains(err.Error(), "unable to dial"))
}

// read consumes each partition of consume up to its stop offset with a
// client of its own, keeping the records that match q.
func (c *Console) read(ctx context.Context, topic string, consume map[int32]kgo.Offset, stops map[int32]int64, q messagesQuery, v *messagesView) error {
	cl, err := kgo.NewClient(clientOpts(c.cfg, clusterOf(ctx).brokers,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume}),
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.FetchMaxBytes(16<<20),
	)...)
	if err != nil {
		return fmt.Errorf("new kafka client: %w", err)
	}
	defer cl.Close()
	for len(stops) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			v.Incomplete = true
			return nil
		}
		for _, fe := range fs.Errors() {
			return fmt.Errorf("read %s partition %d: %w", fe.Topic, fe.Partition, brokerErr(fe.Err, ""))
		}
		var done []int32
		fs.EachRecord(func(r *kgo.Record) {
			stop, ok := stops[r.Partition]
			if !ok || r.Offset >= stop {
				return
			}
			v.Scanned++
			if m := toMessage(r); matches(m, r, q) {
				v.Messages = append(v.Messages, m)
			}
			if r.Offset+1 >= stop {
				delete(stops, r.Partition)
				done = append(done, r.Partition)
			}
		})
		if len(done) > 0 {
			cl.PauseFetchPartitions(map[string][]int32{topic: done})
		}
	}
	return nil
}

// matches says whether r's key and value contain q's substrings.
func matches(m Message, r *kgo.Record, q messagesQuery) bool {
	return (q.Key == "" || bytes.Contains(r.Key, []byte(q.Key))) &&
		(q.Value == "" || bytes.Contains(r.Value, []byte(q.Value)))
}

// toMessage turns a record into what the console shows: text as text,
// other bytes as base64, JSON also indented.
func toMessage(r *kgo.Record) Message {
	m := Message{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, KeyNull: r.Key == nil, Headers: []Header{}}
	m.Key, m.KeyBinary = text(r.Key)
	m.Value, m.ValueBinary = text(r.Value)
	if !m.ValueBinary {
		m.Pretty = prettyJSON(r.Value)
	}
	for _, h := range r.Headers {
		val, bin := text(h.Value)
		if bin {
			val = "base64:" + val
		}
		m.Headers = append(m.Headers, Header{Key: h.Key, Value: val})
	}
	return m
}

// text returns b as a string, or as base64 (and true) when it is not UTF-8.
func text(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// prettyJSON indents b if it is a JSON object or array, else returns "".
func prettyJSON(b []byte) string {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') || !json.Valid(t) {
		return ""
	}
	var out bytes.Buffer
	if json.Indent(&out, t, "", "  ") != nil {
		return ""
	}
	return out.String()
}

func (c *Console) apiMessages(w http.ResponseWriter, r *http.Request) {
	q, err := parseMessagesQuery(r.URL.Query(), c.cfg.MaxMessages)
	if err != nil {
		c.fail(w, err)
		return
	}
	v, err := c.messages(r.Context(), r.PathValue("topic"), q)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// produceRequest is the body of POST /api/topics/{topic}/messages. An
// empty key is no key; no partition means Kafka's default partitioner
// (murmur2 of the key, any partition without one).
type produceRequest struct {
	Key       string   `json:"key"`
	Value     string   `json:"value"`
	Headers   []Header `json:"headers"`
	Partition *int32   `json:"partition"`
}

func (c *Console) produce(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	topic := r.PathValue("topic")
	var req produceRequest
	if err := decodeBody(r, &req); err != nil {
		return actionResult{}, err
	}
	for _, h := range req.Headers {
		if h.Key == "" {
			return actionResult{}, fmt.Errorf("%w: a header needs a key", ErrBadRequest)
		}
	}
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliProduce(topic, req), KafkaCLI: clusterOf(ctx).kafkaProduce(topic, req)}, nil
	}
	m, err := clusterOf(ctx).adm.Metadata(ctx, topic)
	if err != nil {
		return actionResult{}, fmt.Errorf("%w (%s): %v", ErrUnreachable, clusterOf(ctx).bootstrap(), err)
	}
	td, ok := m.Topics[topic]
	if !ok || td.Err != nil || len(td.Partitions) == 0 {
		return actionResult{}, fmt.Errorf("topic %q: %w; create it on the Topics page", topic, ErrNotFound)
	}
	rec := &kgo.Record{Topic: topic, Value: []byte(req.Value)}
	if req.Key != "" {
		rec.Key = []byte(req.Key)
	}
	for _, h := range req.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: []byte(h.Value)})
	}
	n := len(td.Partitions)
	if req.Partition != nil {
		if *req.Partition < 0 || int(*req.Partition) >= n {
			return actionResult{}, fmt.Errorf("%w: partition %d: topic %s has partitions 0 to %d", ErrBadRequest, *req.Partition, topic, n-1)
		}
		rec.Partition = *req.Partition
	} else {
		// A fresh sticky-key partitioner: murmur2 for a key, a random
		// partition without one, as a Kafka producer would choose.
		rec.Partition = int32(kgo.StickyKeyPartitioner(nil).ForTopic(topic).Partition(rec, n))
	}
	if err := clusterOf(ctx).cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return actionResult{}, fmt.Errorf("produce to %s: %w", topic, brokerErr(err, ""))
	}
	return actionResult{Message: fmt.Sprintf("Produced to partition %d at offset %d.", rec.Partition, rec.Offset)}, nil
}
