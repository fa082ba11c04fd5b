package console

// The Charts page (messages in per second per topic, lag per group) and
// the group page (one group now, its lag over time in total and per
// partition, and its timeline), drawn from the samples in history.go.

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// chartRange is the span a chart shows: ?range= (a Go duration such as
// 5m), else 10 minutes, never more than the history keeps nor less than
// ten samples.
func (c *Console) chartRange(r *http.Request) (time.Duration, error) {
	d := min(10*time.Minute, c.cfg.HistoryWindow)
	if s := r.URL.Query().Get("range"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("%w: range %q: give a duration such as 5m or 30m", ErrBadRequest, s)
		}
		d = v
	}
	return min(max(d, 10*c.cfg.SampleInterval), c.cfg.HistoryWindow), nil
}

// samplingStatus says how the console's sampling of the cluster goes.
type samplingStatus struct {
	Interval   time.Duration `json:"-"`
	IntervalMS int64         `json:"interval_ms"`
	WindowMS   int64         `json:"window_ms"`
	Samples    int           `json:"samples"`
	Last       time.Time     `json:"last_sample"`
	Error      string        `json:"error,omitempty"`   // the newest attempt failed
	Dropped    int           `json:"dropped,omitempty"` // topics or groups beyond the bounds
}

func (c *Console) samplingStatus(h *clusterHistory) samplingStatus {
	n, last, err, dropped := h.status()
	return samplingStatus{
		Interval: c.cfg.SampleInterval, IntervalMS: c.cfg.SampleInterval.Milliseconds(),
		WindowMS: c.cfg.HistoryWindow.Milliseconds(), Samples: n, Last: last, Error: err, Dropped: dropped,
	}
}

// emptyText is what a chart says before it has data.
func (c *Console) emptyText() string {
	return fmt.Sprintf("No data yet: the console samples the cluster every %s.", c.cfg.SampleInterval)
}

// historyView is GET /api/history and the Charts page.
type historyView struct {
	Sampling samplingStatus `json:"sampling"`
	RangeMS  int64          `json:"range_ms"`
	Topics   []TopicRate    `json:"topics"` // messages in per second
	Groups   []GroupLag     `json:"groups"` // total lag, records

	Range    string `json:"-"` // for the page: the range shown, e.g. 10m0s
	Internal bool   `json:"-"` // the page shows internal topics too
}

// historyOfCluster gathers the Charts page's data for the request's
// cluster: the rates of every topic (without the internal ones unless
// internal is set: they start with "__", Kafka's convention) and the lag
// of every group over the last span.
func (c *Console) historyOfCluster(ctx context.Context, span time.Duration, internal bool) historyView {
	h := c.historyOf(clusterOf(ctx))
	from := time.Now().Add(-span)
	v := historyView{Sampling: c.samplingStatus(h), RangeMS: span.Milliseconds(), Range: span.String(), Internal: internal, Topics: []TopicRate{}, Groups: h.groupLags(from)}
	for _, t := range h.topicRates(from) {
		if internal || !strings.HasPrefix(t.Topic, "__") {
			v.Topics = append(v.Topics, t)
		}
	}
	return v
}

func (c *Console) apiHistory(w http.ResponseWriter, r *http.Request) {
	span, err := c.chartRange(r)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c.historyOfCluster(r.Context(), span, r.URL.Query().Get("internal") == "1"))
}

// chartsPage is the Charts page: the history and its two charts.
type chartsPage struct {
	historyView
	TopicsChart template.HTML
	GroupsChart template.HTML
}

func (c *Console) pageCharts(w http.ResponseWriter, r *http.Request) {
	span, err := c.chartRange(r)
	if err != nil {
		c.render(w, r, "charts", page{Title: "Charts", Nav: "charts"}, err)
		return
	}
	v := c.historyOfCluster(r.Context(), span, r.URL.Query().Get("internal") == "1")
	now := time.Now()
	spec := chartSpec{From: now.Add(-span), To: now, Gap: 3 * c.cfg.SampleInterval, Empty: c.emptyText()}
	topics, groups := spec, spec
	topics.ID, topics.Title, topics.Unit = "chart-topics", "Messages in per second, per topic", "msg/s"
	for _, t := range v.Topics {
		topics.Series = append(topics.Series, Series{Name: t.Topic, Points: t.Points})
	}
	groups.ID, groups.Title, groups.Unit = "chart-groups", "Lag per consumer group", "records"
	for _, g := range v.Groups {
		groups.Series = append(groups.Series, Series{Name: g.Group, Points: g.Points})
	}
	p := chartsPage{historyView: v, TopicsChart: renderChart(topics), GroupsChart: renderChart(groups)}
	c.render(w, r, "charts", page{Title: "Charts", Nav: "charts", Data: p}, nil)
}

// groupHistoryView is GET /api/groups/{group}/history.
type groupHistoryView struct {
	Group      string         `json:"group"`
	Sampling   samplingStatus `json:"sampling"`
	RangeMS    int64          `json:"range_ms"`
	Lag        []Point        `json:"lag"`
	Partitions []PartitionLag `json:"partitions"`
	Timeline   []Event        `json:"timeline"` // newest first
}

// groupHistory is one group's history over the last span; ErrNotFound
// when the console has not seen the group.
func (c *Console) groupHistory(ctx context.Context, group string, span time.Duration) (groupHistoryView, error) {
	h := c.historyOf(clusterOf(ctx))
	lag, parts, timeline, ok := h.groupDetail(group, time.Now().Add(-span))
	v := groupHistoryView{Group: group, Sampling: c.samplingStatus(h), RangeMS: span.Milliseconds(), Lag: lag, Partitions: parts, Timeline: timeline}
	if !ok {
		return v, fmt.Errorf("group %q: %w: the console has not seen it (yet)", group, ErrNotFound)
	}
	if v.Lag == nil {
		v.Lag = []Point{}
	}
	if v.Partitions == nil {
		v.Partitions = []PartitionLag{}
	}
	return v, nil
}

func (c *Console) apiGroupHistory(w http.ResponseWriter, r *http.Request) {
	span, err := c.chartRange(r)
	if err != nil {
		c.fail(w, err)
		return
	}
	v, err := c.groupHistory(r.Context(), r.PathValue("group"), span)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// groupPage is the page of one group: its description now (as on the
// Consumers page), its charts and its timeline.
type groupPage struct {
	Group          Group
	GroupErr       string // the group could not be described now; its history is still shown
	History        groupHistoryView
	HistoryErr     string
	Range          string
	LagChart       template.HTML
	PartitionChart template.HTML
}

func (c *Console) pageGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	span, err := c.chartRange(r)
	if err != nil {
		c.render(w, r, "group", page{Title: name, Nav: "consumers"}, err)
		return
	}
	ctx, cancel := c.ctx(r)
	defer cancel()
	g, err := c.group(ctx, name)
	hv, herr := c.groupHistory(ctx, name, span)
	if err != nil && herr != nil {
		c.render(w, r, "group", page{Title: name, Nav: "consumers"}, err)
		return
	}
	// A group that is gone, or a cluster that does not answer, still has
	// the history the console kept: that is when it is wanted.
	p := groupPage{Group: g, Range: span.String()}
	if err != nil {
		p.Group, p.GroupErr = Group{Name: name}, err.Error()
	} else {
		gs := []Group{g}
		c.sparkLags(ctx, gs)
		p.Group = gs[0]
	}
	if herr != nil {
		p.HistoryErr = herr.Error()
	}
	p.History = hv
	now := time.Now()
	spec := chartSpec{From: now.Add(-span), To: now, Gap: 3 * c.cfg.SampleInterval, Unit: "records", Empty: c.emptyText()}
	total, parts := spec, spec
	total.ID, total.Title = "chart-group-lag", "Lag of group "+name
	total.Series = []Series{{Name: name, Points: hv.Lag}}
	parts.ID, parts.Title = "chart-partition-lag", "Lag per partition of group "+name
	for _, pl := range hv.Partitions {
		parts.Series = append(parts.Series, Series{Name: fmt.Sprintf("%s P%d", pl.Topic, pl.Partition), Points: pl.Points})
	}
	p.LagChart, p.PartitionChart = renderChart(total), renderChart(parts)
	c.render(w, r, "group", page{Title: name, Nav: "consumers", Data: p}, nil)
}

// group describes one group as the Consumers page does; ErrNotFound if
// the cluster does not know it.
func (c *Console) group(ctx context.Context, name string) (Group, error) {
	m, err := c.metadata(ctx)
	if err != nil {
		return Group{}, err
	}
	lags, err := clusterOf(ctx).adm.Lag(ctx, name)
	if err != nil {
		return Group{}, fmt.Errorf("describe group %q: %w", name, err)
	}
	gl, ok := lags[name]
	if !ok || gl.State == "Dead" {
		return Group{}, fmt.Errorf("group %q: %w; see the Consumers page", name, ErrNotFound)
	}
	return describeGroup(gl, m.Topics, ""), nil
}

// topicChart is the topic page's chart: messages in per second to topic
// over the last 10 minutes.
func (c *Console) topicChart(ctx context.Context, topic string) template.HTML {
	span := min(10*time.Minute, c.cfg.HistoryWindow)
	now := time.Now()
	spec := chartSpec{ID: "chart-topic", Title: "Messages in per second to " + topic, Unit: "msg/s",
		From: now.Add(-span), To: now, Gap: 3 * c.cfg.SampleInterval, Empty: c.emptyText()}
	if pts := c.historyOf(clusterOf(ctx)).topicRate(topic, spec.From); pts != nil {
		spec.Series = []Series{{Name: topic, Points: pts}}
	}
	return renderChart(spec)
}

// sparkSpan is how far back the sparklines next to a group's lag go.
const sparkSpan = 10 * time.Minute

// sparkLags sets the Spark of each group: its lag over the last
// sparkSpan (or the whole history, if shorter).
func (c *Console) sparkLags(ctx context.Context, groups []Group) {
	now := time.Now()
	span := min(sparkSpan, c.cfg.HistoryWindow)
	from := now.Add(-span)
	h := c.historyOf(clusterOf(ctx))
	lags := map[string][]Point{}
	if len(groups) == 1 { // a group's page: its series only
		lag, _, _, _ := h.groupDetail(groups[0].Name, from)
		lags[groups[0].Name] = lag
	} else {
		for _, gl := range h.groupLags(from) {
			lags[gl.Group] = gl.Points
		}
	}
	for i := range groups {
		label := fmt.Sprintf("lag of %s over the last %s", groups[i].Name, humanSpan(span))
		groups[i].Spark = renderSparkline(lags[groups[i].Name], from, now, 3*c.cfg.SampleInterval, label)
	}
}

// humanSpan writes d as "10 minutes", "1 minute", "90 seconds".
func humanSpan(d time.Duration) string {
	switch {
	case d%time.Minute != 0:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d == time.Minute:
		return "minute"
	default:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
}
