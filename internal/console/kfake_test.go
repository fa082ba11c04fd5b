package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// TestConsoleWorksAgainstAnotherKafka runs the console against franz-go's
// kfake, a Kafka-compatible cluster of three brokers that is not Samsa:
// the console is a Kafka client only, so every page must work there too.
func TestConsoleWorksAgainstAnotherKafka(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	addrs := kc.ListenAddrs()
	srv := startConsole(t, addrs[0], fastSampling)

	var bv brokersView
	mustCall(t, srv, 200, "GET", "/api/brokers", nil, &bv)
	if len(bv.Brokers) != 3 {
		t.Errorf("brokers = %+v, want kfake's three", bv.Brokers)
	}
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office", Partitions: 3}, nil)
	for i := range 4 {
		mustCall(t, srv, 200, "POST", "/api/topics/post.office/messages", produceRequest{Key: fmt.Sprintf("k%d", i), Value: fmt.Sprintf(`{"n":%d}`, i)}, nil)
	}
	samsatest.Eventually(t, 10*time.Second, "a count of 4", func() bool {
		tp, ok := findTopic(t, srv, "post.office")
		return ok && tp.Messages == 4
	})
	var mv messagesView
	mustCall(t, srv, 200, "GET", "/api/topics/post.office/messages", nil, &mv)
	if len(mv.Messages) != 4 {
		t.Errorf("messages = %d, want 4", len(mv.Messages))
	}

	cl := samsatest.NewClient(t, addrs[0], kgo.ConsumerGroup("mailroom"), kgo.ConsumeTopics("post.office"),
		kgo.ClientID("postman-1"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := samsatest.Context(t, 20*time.Second)
	got := 0
	for got < 4 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	var gv groupsView
	samsatest.Eventually(t, 10*time.Second, "mailroom with postman-1 and lag 0", func() bool {
		mustCall(t, srv, 200, "GET", "/api/groups", nil, &gv)
		g, ok := groupNamed(gv, "mailroom")
		return ok && len(g.Members) == 1 && g.Members[0].ClientID == "postman-1" && g.Lag == 0
	})
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs", configsRequest{Set: map[string]string{"retention.ms": "3600000"}}, nil)
	samsatest.Eventually(t, 10*time.Second, "a timeline for mailroom and a rate for post.office", func() bool {
		var h wireHistory
		mustCall(t, srv, 200, "GET", "/api/history", nil, &h)
		return len(h.Topics) > 0 && timelineHas(t, srv, "mailroom", "", "postman-1")
	})
	for _, path := range []string{"/brokers", "/topics", "/topics/post.office", "/topics/post.office?tab=messages",
		"/topics/post.office?tab=configs", "/topics/post.office?tab=consumers", "/consumers", "/consumers/mailroom", "/charts"} {
		if page := mustCall(t, srv, 200, "GET", path, nil, nil); strings.Contains(page, `class="banner error"`) {
			t.Errorf("%s shows an error against kfake: %s", path, page[strings.Index(page, `class="banner error"`):][:300])
		}
	}
}
