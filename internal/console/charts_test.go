package console

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// fastSampling makes the console sample every 50 ms.
func fastSampling(c *Config) { c.SampleInterval = 50 * time.Millisecond }

// wirePoints is how the history API writes series: [unix ms, value].
type wirePoints [][2]float64

type wireHistory struct {
	Sampling struct {
		Samples int    `json:"samples"`
		Error   string `json:"error"`
	} `json:"sampling"`
	Topics []struct {
		Topic  string     `json:"topic"`
		Points wirePoints `json:"points"`
	} `json:"topics"`
	Groups []struct {
		Group  string     `json:"group"`
		Points wirePoints `json:"points"`
	} `json:"groups"`
}

type wireGroupHistory struct {
	Lag        wirePoints `json:"lag"`
	Partitions []struct {
		Topic     string     `json:"topic"`
		Partition int32      `json:"partition"`
		Points    wirePoints `json:"points"`
	} `json:"partitions"`
	Timeline []Event `json:"timeline"`
}

func (ps wirePoints) max() float64 {
	m := -1.0
	for _, p := range ps {
		m = max(m, p[1])
	}
	return m
}

func TestChartsShowMessagesInPerSecondAndGroupLag(t *testing.T) {
	b := samsatest.Start(t, fastGroups)
	srv := startConsole(t, b.Addr, fastSampling)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office", Partitions: 2}, nil)
	ctx := samsatest.Context(t, 20*time.Second)
	if _, err := b.Admin().CommitOffsets(ctx, "mailroom", offsetsAt("post.office", 0, 0)); err != nil {
		t.Fatal(err)
	}
	cl := b.Client()

	// Produce until the console has seen the topic grow and the group's
	// lag rise (nobody consumes for mailroom).
	var h wireHistory
	samsatest.Eventually(t, 15*time.Second, "a rate for post.office and lag for mailroom", func() bool {
		var recs []*kgo.Record
		for i := range 20 {
			recs = append(recs, &kgo.Record{Topic: "post.office", Partition: 0, Value: fmt.Appendf(nil, `{"n":%d}`, i)})
		}
		produce(t, cl, recs...)
		mustCall(t, srv, 200, "GET", "/api/history", nil, &h)
		var rate, lag float64
		for _, tr := range h.Topics {
			if tr.Topic == "post.office" {
				rate = tr.Points.max()
			}
			if strings.HasPrefix(tr.Topic, "__") {
				t.Fatalf("internal topic %s in the history without internal=1", tr.Topic)
			}
		}
		for _, g := range h.Groups {
			if g.Group == "mailroom" {
				lag = g.Points.max()
			}
		}
		return rate > 0 && lag >= 20
	})
	if h.Sampling.Samples < 2 || h.Sampling.Error != "" {
		t.Errorf("sampling = %+v, want samples and no error", h.Sampling)
	}

	page := mustCall(t, srv, 200, "GET", "/charts", nil, nil)
	for _, want := range []string{`id="chart-topics"`, `data-series="post.office"`, `id="chart-groups"`, `data-series="mailroom"`} {
		if !strings.Contains(page, want) {
			t.Errorf("charts page lacks %s", want)
		}
	}
	if page := mustCall(t, srv, 200, "GET", "/consumers", nil, nil); !strings.Contains(page, `<svg class="spark"`) || !strings.Contains(page, "lag of mailroom over the last 10 minutes") {
		t.Error("the Consumers page has no lag sparkline for mailroom")
	}
	mustCall(t, srv, 400, "GET", "/api/history?range=soon", nil, nil)
	samsatest.Eventually(t, 10*time.Second, "with internal=1, a series for __consumer_offsets (written by the commit)", func() bool {
		var hi wireHistory
		mustCall(t, srv, 200, "GET", "/api/history?internal=1", nil, &hi)
		for _, tr := range hi.Topics {
			if tr.Topic == "__consumer_offsets" {
				return true
			}
		}
		return false
	})

	// A deleted group: the timeline says so, and its page still shows
	// what the console saw.
	mustCall(t, srv, 200, "DELETE", "/api/groups/mailroom", nil, nil)
	samsatest.Eventually(t, 10*time.Second, "mailroom's deletion in its timeline", func() bool {
		return timelineHas(t, srv, "mailroom", "deleted", "group gone")
	})
	page = mustCall(t, srv, 200, "GET", "/consumers/mailroom", nil, nil)
	for _, want := range []string{"what the console saw before", `data-kind="deleted"`, `id="chart-group-lag"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page of the deleted group lacks %s", want)
		}
	}
}

func TestGroupPageShowsLagPerPartitionAndTimeline(t *testing.T) {
	b := samsatest.Start(t, fastGroups)
	srv := startConsole(t, b.Addr, fastSampling)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office", Partitions: 3}, nil)
	cl := b.Client()
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 5 {
			recs = append(recs, &kgo.Record{Topic: "post.office", Partition: p, Value: fmt.Appendf(nil, "%d", i)})
		}
	}
	produce(t, cl, recs...)

	consumer := func(id string) *kgo.Client {
		return samsatest.NewClient(t, b.Addr, kgo.ConsumerGroup("mail room/1"), kgo.ConsumeTopics("post.office"),
			kgo.ClientID(id), kgo.DisableAutoCommit(), kgo.SessionTimeout(6*time.Second))
	}
	ctx := samsatest.Context(t, 40*time.Second)
	poll := func(c *kgo.Client) {
		go func() {
			for ctx.Err() == nil {
				c.PollRecords(ctx, 100)
			}
		}()
	}
	poll(consumer("postman-1"))
	samsatest.Eventually(t, 15*time.Second, "postman-1 holding the partitions", func() bool {
		return timelineHas(t, srv, "mail room/1", "", "postman-1 → post.office P0 P1 P2")
	})
	c2 := consumer("postman-2")
	poll(c2)
	path := "/api/groups/" + url.PathEscape("mail room/1") + "/history"
	var gh wireGroupHistory
	samsatest.Eventually(t, 20*time.Second, "postman-2's join and a rebalance that splits the partitions", func() bool {
		mustCall(t, srv, 200, "GET", path, nil, &gh)
		joined, split := false, false
		for _, e := range gh.Timeline {
			joined = joined || e.Kind == "join" && strings.Contains(e.Text, "postman-2 joined")
			split = split || e.Kind == "rebalance" && strings.Contains(e.Text, "postman-1 → post.office") && strings.Contains(e.Text, "postman-2 → post.office")
		}
		return joined && split
	})
	c2.Close() // leaves the group
	samsatest.Eventually(t, 20*time.Second, "postman-2's leave", func() bool {
		return timelineHas(t, srv, "mail room/1", "leave", "postman-2 left")
	})
	mustCall(t, srv, 200, "GET", path, nil, &gh)
	if len(gh.Timeline) < 3 || gh.Timeline[0].Time.Before(gh.Timeline[len(gh.Timeline)-1].Time) {
		t.Errorf("timeline %+v: want several events, newest first", gh.Timeline)
	}

	page := mustCall(t, srv, 200, "GET", "/consumers/"+url.PathEscape("mail room/1"), nil, nil)
	for _, want := range []string{`id="chart-group-lag"`, `id="chart-partition-lag"`, `data-kind="leave"`, "postman-2 left", "postman-1"} {
		if !strings.Contains(page, want) {
			t.Errorf("group page lacks %s", want)
		}
	}
	mustCall(t, srv, 404, "GET", "/consumers/nobody", nil, nil)
	mustCall(t, srv, 404, "GET", "/api/groups/nobody/history", nil, nil)
}

// timelineHas says whether group's timeline has an event of kind (any
// kind if empty) whose text contains text.
func timelineHas(t *testing.T, srv *httptest.Server, group, kind, text string) bool {
	t.Helper()
	var gh wireGroupHistory
	if code, _ := call(t, srv, "GET", "/api/groups/"+url.PathEscape(group)+"/history", nil, &gh); code != 200 {
		return false
	}
	for _, e := range gh.Timeline {
		if (kind == "" || e.Kind == kind) && strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}

// BenchmarkSampleCluster takes one sample (topics, end offsets, groups and
// their lag) of a real broker with 20 topics of 3 partitions and 5 groups.
func BenchmarkSampleCluster(b *testing.B) {
	br := samsatest.Start(b)
	cfg := DefaultConfig()
	cfg.Brokers = []string{br.Addr}
	cfg.Logger = samsatest.TestLogger(b)
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := samsatest.Context(b, time.Minute)
	adm := br.Admin()
	for i := range 20 {
		topic := fmt.Sprintf("t%02d", i)
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
			b.Fatal(err)
		}
		if i < 5 {
			if _, err := adm.CommitOffsets(ctx, fmt.Sprintf("g%d", i), offsetsAt(topic, 0, 0)); err != nil {
				b.Fatal(err)
			}
		}
	}
	cl := c.list()[0]
	for b.Loop() {
		s, err := c.sample(ctx, cl)
		if err != nil || len(s.groups) != 5 || len(s.ends) < 20 {
			b.Fatalf("sample: %v, %d groups, %d topics", err, len(s.groups), len(s.ends))
		}
	}
}
