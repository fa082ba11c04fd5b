package console

// The Topics page: every topic with partitions, replication factor,
// message count and size; search and the internal-topics toggle; create,
// delete and increase partitions.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic is one row of the Topics page.
type Topic struct {
	Name       string `json:"name"`
	Internal   bool   `json:"internal"`
	Partitions int    `json:"partitions"`
	RF         int    `json:"replication_factor"`
	// Messages is the sum of end - start offsets over the partitions:
	// exact for a plain topic, an estimate (Estimate set) for a compacted
	// one, whose offsets have gaps.
	Messages int64  `json:"messages"`
	Estimate bool   `json:"messages_estimate"`
	Size     int64  `json:"size_bytes"` // -1 when log dirs could not be described
	Err      string `json:"error,omitempty"`
}

// topicsView is the Topics page and GET /api/topics.
type topicsView struct {
	Topics   []Topic `json:"topics"`
	Query    string  `json:"query"`
	Internal bool    `json:"show_internal"`
	Hidden   int     `json:"hidden_internal"` // internal topics not shown
}

// topics lists the topics whose name contains q (any case); internal ones
// only if internal is set.
func (c *Console) topics(ctx context.Context, q string, internal bool) (topicsView, error) {
	v := topicsView{Query: q, Internal: internal, Topics: []Topic{}}
	m, err := c.metadata(ctx)
	if err != nil {
		return v, err
	}
	var names []string
	for _, td := range m.Topics.Sorted() {
		if td.IsInternal && !internal {
			v.Hidden++
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(td.Topic), strings.ToLower(q)) {
			continue
		}
		names = append(names, td.Topic)
	}
	if len(names) == 0 {
		return v, nil
	}
	counts, err := c.messageCounts(ctx, names)
	if err != nil {
		return v, err
	}
	compacted := c.compacted(ctx, names)
	sizes := c.topicSizes(ctx, names)
	for _, name := range names {
		td := m.Topics[name]
		t := Topic{Name: name, Internal: td.IsInternal, Partitions: len(td.Partitions), Messages: counts[name], Estimate: compacted[name], Size: -1}
		if td.Err != nil {
			t.Err = td.Err.Error()
		}
		if len(td.Partitions) > 0 {
			t.RF = len(td.Partitions[0].Replicas)
		}
		if s, ok := sizes[name]; ok {
			t.Size = s
		}
		v.Topics = append(v.Topics, t)
	}
	return v, nil
}

// messageCounts sums end - start over each topic's partitions.
func (c *Console) messageCounts(ctx context.Context, topics []string) (map[string]int64, error) {
	starts, err := clusterOf(ctx).adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := clusterOf(ctx).adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	out := map[string]int64{}
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := starts.Lookup(e.Topic, e.Partition)
		if e.Err != nil || !ok || s.Err != nil {
			return
		}
		out[e.Topic] += max(e.Offset-s.Offset, 0)
	})
	return out, nil
}

// compacted says which topics have "compact" in cleanup.policy (their
// counts are estimates). A failed describe marks nothing.
func (c *Console) compacted(ctx context.Context, topics []string) map[string]bool {
	out := map[string]bool{}
	rcs, err := clusterOf(ctx).adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return out
	}
	for _, rc := range rcs {
		for _, cfg := range rc.Configs {
			if cfg.Key == "cleanup.policy" && cfg.Value != nil && strings.Contains(*cfg.Value, "compact") {
				out[rc.Name] = true
			}
		}
	}
	return out
}

// topicSizes sums the log-dir sizes of each topic over all brokers
// (replicas included). A failed describe gives no sizes.
func (c *Console) topicSizes(ctx context.Context, topics []string) map[string]int64 {
	out := map[string]int64{}
	dirs, err := clusterOf(ctx).adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		return out
	}
	for _, ds := range dirs {
		for _, d := range ds {
			for _, t := range topics {
				ps, ok := d.Topics[t]
				if !ok {
					continue
				}
				for _, p := range ps {
					out[t] += p.Size
				}
			}
		}
	}
	return out
}

func (c *Console) apiTopics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.topics(ctx, r.URL.Query().Get("q"), r.URL.Query().Get("internal") == "1")
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (c *Console) pageTopics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.topics(ctx, r.URL.Query().Get("q"), r.URL.Query().Get("internal") == "1")
	c.render(w, r, "topics", page{Title: "Topics", Nav: "topics", Data: v}, err)
}

// createTopicRequest is the body of POST /api/topics. Zero partitions or
// replication factor means the broker's default.
type createTopicRequest struct {
	Name       string            `json:"name"`
	Partitions int32             `json:"partitions"`
	RF         int16             `json:"replication_factor"`
	Configs    map[string]string `json:"configs"`
}

func (c *Console) createTopic(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	var req createTopicRequest
	if err := decodeBody(r, &req); err != nil {
		return actionResult{}, err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		return actionResult{}, fmt.Errorf("%w: give the topic a name", ErrBadRequest)
	}
	if req.Partitions < 0 || req.RF < 0 {
		return actionResult{}, fmt.Errorf("%w: partitions and replication factor are >= 1 (or empty for the broker's default)", ErrBadRequest)
	}
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliCreateTopic(req), KafkaCLI: clusterOf(ctx).kafkaCreateTopic(req)}, nil
	}
	p, rf := req.Partitions, req.RF
	if p == 0 {
		p = -1
	}
	if rf == 0 {
		rf = -1
	}
	configs := map[string]*string{}
	for k, v := range req.Configs {
		configs[k] = &v
	}
	resp, err := clusterOf(ctx).adm.CreateTopic(ctx, p, rf, configs, req.Name)
	if err == nil {
		err = brokerErr(resp.Err, resp.ErrMessage)
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("create topic %q: %w", req.Name, err)
	}
	return actionResult{Message: fmt.Sprintf("Created topic %s with %d partitions, replication factor %d.", req.Name, resp.NumPartitions, resp.ReplicationFactor)}, nil
}

func (c *Console) deleteTopic(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	name := r.PathValue("topic")
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliCommand([]string{"topic", "delete"}, name), KafkaCLI: clusterOf(ctx).kafkaDeleteTopic(name)}, nil
	}
	resp, err := clusterOf(ctx).adm.DeleteTopic(ctx, name)
	if err == nil {
		err = brokerErr(resp.Err, resp.ErrMessage)
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("delete topic %q: %w", name, err)
	}
	return actionResult{Message: "Deleted topic " + name + "."}, nil
}

// partitionsRequest is the body of POST /api/topics/{topic}/partitions.
type partitionsRequest struct {
	Count int `json:"count"`
}

// setPartitions sets a topic's partition count; the broker refuses a
// decrease (INVALID_PARTITIONS) and its message is passed on.
func (c *Console) setPartitions(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	name := r.PathValue("topic")
	var req partitionsRequest
	if err := decodeBody(r, &req); err != nil {
		return actionResult{}, err
	}
	if req.Count <= 0 {
		return actionResult{}, fmt.Errorf("%w: give the new partition count (>= 1)", ErrBadRequest)
	}
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliCommand([]string{"topic", "alter"}, name, "--partitions", fmt.Sprint(req.Count)), KafkaCLI: clusterOf(ctx).kafkaPartitions(name, req.Count)}, nil
	}
	rs, err := clusterOf(ctx).adm.UpdatePartitions(ctx, req.Count, name)
	if err == nil {
		var resp kadm.CreatePartitionsResponse
		if resp, err = rs.On(name, nil); err == nil {
			err = brokerErr(resp.Err, resp.ErrMessage)
		}
	}
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return actionResult{}, fmt.Errorf("topic %q: %w", name, ErrNotFound)
		}
		return actionResult{}, fmt.Errorf("set partitions of %q to %d: %w", name, req.Count, err)
	}
	return actionResult{Message: fmt.Sprintf("Topic %s now has %d partitions.", name, req.Count)}, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
