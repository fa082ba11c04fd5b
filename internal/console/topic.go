package console

// The topic page: one topic's partitions (leader, replicas, ISR, start and
// end offsets, count) and configs (edited through configs.go), with tabs
// for its messages (messages.go) and the groups reading it (consumers.go).

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Partition is one row of a topic's partitions table.
type Partition struct {
	ID       int32   `json:"partition"`
	Leader   int32   `json:"leader"`
	Replicas []int32 `json:"replicas"`
	ISR      []int32 `json:"isr"`
	Start    int64   `json:"start_offset"`
	End      int64   `json:"end_offset"`
	Count    int64   `json:"messages"` // End - Start
	Err      string  `json:"error,omitempty"`
}

// ConfigEntry is one config of a topic.
type ConfigEntry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`  // "" when Sensitive: the value stays hidden
	Source string `json:"source"` // Kafka's source name, e.g. DYNAMIC_TOPIC_CONFIG
	// Default: not overridden for this topic (any source but
	// DYNAMIC_TOPIC_CONFIG); an override can be reset to the default.
	Default   bool `json:"default"`
	Sensitive bool `json:"sensitive"`
}

// topicView is GET /api/topics/{topic} and the top of the topic page.
type topicView struct {
	Topic      Topic         `json:"topic"`
	Partitions []Partition   `json:"partitions"`
	Configs    []ConfigEntry `json:"configs"`
	ConfigsErr string        `json:"configs_error,omitempty"`
}

// topic gathers one topic's partitions and configs.
func (c *Console) topic(ctx context.Context, name string) (topicView, error) {
	m, err := c.metadata(ctx)
	if err != nil {
		return topicView{}, err
	}
	td, ok := m.Topics[name]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return topicView{}, fmt.Errorf("topic %q: %w; see the Topics page", name, ErrNotFound)
	}
	v := topicView{Topic: Topic{Name: name, Internal: td.IsInternal, Partitions: len(td.Partitions), Size: -1}}
	starts, err := clusterOf(ctx).adm.ListStartOffsets(ctx, name)
	if err != nil {
		return v, fmt.Errorf("list start offsets of %q: %w", name, err)
	}
	ends, err := clusterOf(ctx).adm.ListEndOffsets(ctx, name)
	if err != nil {
		return v, fmt.Errorf("list end offsets of %q: %w", name, err)
	}
	for _, p := range td.Partitions.Sorted() {
		row := Partition{ID: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR, Start: -1, End: -1}
		s, sok := starts.Lookup(name, p.Partition)
		e, eok := ends.Lookup(name, p.Partition)
		switch {
		case p.Err != nil:
			row.Err = p.Err.Error()
		case !sok || !eok:
			row.Err = "no offsets listed"
		case s.Err != nil:
			row.Err = s.Err.Error()
		case e.Err != nil:
			row.Err = e.Err.Error()
		default:
			row.Start, row.End, row.Count = s.Offset, e.Offset, max(e.Offset-s.Offset, 0)
			v.Topic.Messages += row.Count
		}
		v.Partitions = append(v.Partitions, row)
		v.Topic.RF = len(p.Replicas)
	}
	v.Topic.Estimate = c.compacted(ctx, []string{name})[name]
	if s, ok := c.topicSizes(ctx, []string{name})[name]; ok {
		v.Topic.Size = s
	}
	rcs, err := clusterOf(ctx).adm.DescribeTopicConfigs(ctx, name)
	if err == nil {
		var rc = rcs[0]
		if rc.Err != nil {
			err = brokerErr(rc.Err, rc.ErrMessage)
		}
		for _, cfg := range rc.Configs {
			e := ConfigEntry{Key: cfg.Key, Source: cfg.Source.String(), Sensitive: cfg.Sensitive}
			// Only a topic override can be reset from this topic; a value
			// from the broker's config is a default as far as it goes.
			e.Default = cfg.Source != kmsg.ConfigSourceDynamicTopicConfig
			if cfg.Value != nil && !cfg.Sensitive {
				e.Value = *cfg.Value
			}
			v.Configs = append(v.Configs, e)
		}
		slices.SortFunc(v.Configs, func(a, b ConfigEntry) int {
			if a.Default != b.Default { // overrides first
				if a.Default {
					return 1
				}
				return -1
			}
			return cmpString(a.Key, b.Key)
		})
	}
	if err != nil {
		v.ConfigsErr = err.Error()
	}
	return v, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *Console) apiTopic(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.topic(ctx, r.PathValue("topic"))
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// topicPage is the whole topic page: the topic and its open tab.
type topicPage struct {
	topicView
	Tab       string // partitions, configs, messages or consumers
	Messages  messagesView
	Query     messagesQuery
	Consumers []Group
	Chart     template.HTML // Partitions tab: messages in per second
	Err       string        // the open tab's data could not be gathered
}

func (c *Console) pageTopic(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	name := r.PathValue("topic")
	tv, err := c.topic(ctx, name)
	p := topicPage{topicView: tv, Tab: r.URL.Query().Get("tab")}
	if err == nil {
		switch p.Tab {
		case "configs":
		case "messages":
			var terr error
			p.Query, terr = parseMessagesQuery(r.URL.Query(), c.cfg.MaxMessages)
			if terr == nil {
				p.Messages, terr = c.messages(r.Context(), name, p.Query)
			}
			if terr != nil {
				p.Err = terr.Error()
			}
		case "consumers":
			gs, terr := c.groups(ctx, name)
			p.Consumers = gs.Groups
			if terr != nil {
				p.Err = terr.Error()
			}
		default:
			p.Tab = "partitions"
			p.Chart = c.topicChart(ctx, name)
		}
	}
	c.render(w, r, "topic", page{Title: name, Nav: "topics", Data: p}, err)
}
