package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// artifactsDir is where screenshots go: $SAMSA_ARTIFACTS if set (kept),
// else a test temp dir.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("SAMSA_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowserLabFlow is the lab's tour in a real browser: see the broker,
// create post.office, produce with franz-go and see the count rise and
// the record in Messages, produce from the form, and see a consumer group
// with its members, their partitions and lag. It saves a screenshot of
// each page.
func TestBrowserLabFlow(t *testing.T) {
	chromium := samsatest.RequireTool(t, "chromium", "chromium")
	b := samsatest.Start(t, fastGroups)
	srv := startConsole(t, b.Addr, func(c *Config) { c.SampleInterval = 200 * time.Millisecond })
	dir := artifactsDir(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	// The first action starts the browser; it must not carry a timeout.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			dctx, dc := context.WithTimeout(bctx, 5*time.Second)
			defer dc()
			s, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`location.href + " | " + document.body.innerText.slice(0, 600)`))
			t.Fatalf("%s: %v; page: %s", what, err, s)
		}
	}
	// text is the visible text of the first element matching sel, read
	// in one step in the page: live parts of a page are replaced every
	// few seconds, so a node found by one call may be gone by the next.
	text := func(sel string) string {
		t.Helper()
		var s *string
		samsatest.Eventually(t, 10*time.Second, "an element "+sel, func() bool {
			var err error
			s, err = chromedp.Run(ctx, chromedp.Evaluate[*string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : null })()`, sel)))
			if err != nil {
				t.Fatalf("text of %s: %v", sel, err)
			}
			return s != nil
		})
		return *s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitText reloads url until the text of sel satisfies ok.
	waitText := func(url, sel, what string, ok func(string) bool) {
		t.Helper()
		samsatest.Eventually(t, 20*time.Second, what, func() bool {
			do("load "+url, chromedp.Navigate(srv.URL+url), chromedp.WaitVisible(chromedp.CSS(sel)))
			return ok(text(sel))
		})
	}

	// Brokers: the broker and its address.
	do("brokers page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.grid tbody tr")))
	if s := text("table.grid"); !strings.Contains(s, b.Addr) || !strings.Contains(s, "controller") {
		t.Errorf("brokers page shows %q, want %s as controller", s, b.Addr)
	}
	shot("01-brokers")

	// Topics: empty, then create post.office from the form.
	do("topics page", chromedp.Navigate(srv.URL+"/topics"), chromedp.WaitVisible(chromedp.CSS("#topics")))
	if s := text("#topics"); !strings.Contains(s, "No topics yet") {
		t.Errorf("empty topics page says %q", s)
	}
	do("create post.office",
		chromedp.SendKeys(chromedp.CSS(`#create-topic input[name=name]`), "post.office"),
		chromedp.Click(chromedp.CSS(`#create-topic button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="post.office"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)))
	if s := text("#flash"); !strings.Contains(s, "Created topic post.office with 3 partitions") {
		t.Errorf("create feedback = %q", s)
	}
	do("copy as CLI",
		chromedp.SendKeys(chromedp.CSS(`#create-topic input[name=name]`), "orders"),
		chromedp.SendKeys(chromedp.CSS(`#create-topic input[name=partitions]`), "6"),
		chromedp.Click(chromedp.CSS(`#create-topic button[data-cli]`)),
		chromedp.WaitVisible(chromedp.CSS(`#create-topic .feedback pre`)))
	if s := text(`#create-topic .feedback pre`); !strings.HasPrefix(s, "samsa topic create orders --partitions 6") {
		t.Errorf("CLI command = %q", s)
	}
	if s := text(`#create-topic .feedback [data-cli-kind="kafka"] pre`); !strings.HasPrefix(s, "kafka-topics.sh --bootstrap-server "+b.Addr+" --create --topic orders --partitions 6") {
		t.Errorf("Kafka tools command = %q", s)
	}
	shot("02-topics-created")

	// Produce with franz-go: the count rises to 3.
	cl := b.Client()
	for i, to := range []string{"Alan Turing", "Grace Hopper", "Ada Lovelace"} {
		produce(t, cl, &kgo.Record{Topic: "post.office", Key: fmt.Appendf(nil, "k%d", i),
			Value:   fmt.Appendf(nil, `{"event":"new_envelope","to":%q,"message":"You are my role model"}`, to),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("lab")}}})
	}
	waitText("/topics", `tr[data-name="post.office"] td.messages`, "message count 3", func(s string) bool { return strings.TrimSpace(s) == "3" })
	shot("03-topics-count")

	// Messages: the records, newest first, pretty JSON.
	do("messages tab", chromedp.Navigate(srv.URL+"/topics/post.office?tab=messages"), chromedp.WaitVisible(chromedp.CSS("article.message")))
	if s := text("#messages"); !strings.Contains(s, `"to": "Ada Lovelace"`) || !strings.Contains(s, "source: lab") {
		t.Errorf("messages tab shows %q", s)
	}
	shot("04-messages")

	// Produce from the form.
	do("produce form",
		chromedp.Click(chromedp.CSS(`#produce-card summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#produce textarea[name=value]`)),
		chromedp.SendKeys(chromedp.CSS(`#produce input[name=key]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#produce textarea[name=value]`), `{"to":"Linus Torvalds"}`),
		chromedp.Click(chromedp.CSS(`#produce button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")))
	if s := text("#flash"); !strings.HasPrefix(s, "Produced to partition") {
		t.Errorf("produce feedback = %q", s)
	}
	do("messages after produce", chromedp.WaitVisible(chromedp.CSS("article.message")))
	if s := text("#messages"); !strings.Contains(s, "Linus Torvalds") {
		t.Errorf("produced record not in Messages: %q", s)
	}
	shot("05-messages-produced")

	// Live tail: a record produced while tailing appears at the top.
	do("start the live tail", chromedp.Click(chromedp.CSS("#tail-toggle")))
	samsatest.Eventually(t, 10*time.Second, "the tail to be ready", func() bool { return strings.HasPrefix(text("#tail-status"), "Tailing") })
	produce(t, cl, &kgo.Record{Topic: "post.office", Value: []byte(`{"to":"Margaret Hamilton"}`)})
	do("tailed record", chromedp.WaitVisible(chromedp.CSS("#messages article.message.tailed")))
	if s := text("#messages article.message:first-child"); !strings.Contains(s, "Margaret Hamilton") {
		t.Errorf("first message while tailing = %q, want the tailed record", s)
	}
	if s := text("#tail-status"); s != "Tailing: 1 new record." {
		t.Errorf("tail status = %q", s)
	}
	shot("05b-messages-live-tail")
	do("stop the live tail", chromedp.Click(chromedp.CSS("#tail-toggle")))

	// A group of two consumers, offsets committed at 0 before they joined
	// and never moved: each member holds some partitions, the lag is all 5.
	adm := kadm.NewClient(cl)
	offs := kadm.Offsets{}
	for p := range int32(3) {
		offs.Add(kadm.Offset{Topic: "post.office", Partition: p, At: 0, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctxT(t), "mailroom", offs); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := b.Client(kgo.ConsumerGroup("mailroom"), kgo.ConsumeTopics("post.office"), kgo.DisableAutoCommit(),
			kgo.ClientID(fmt.Sprintf("postman-%d", i+1)))
		c.PollRecords(ctxT(t), 1) // joins the group
	}
	waitText("/consumers", "#group-mailroom", "two members holding partitions", func(s string) bool {
		return strings.Contains(s, "postman-1") && strings.Contains(s, "postman-2") && strings.Contains(s, "Stable") && !strings.Contains(s, "no partitions")
	})
	if s := text("#group-mailroom h2 .lag"); strings.TrimSpace(s) != "5" {
		t.Errorf("group lag = %q, want 5 (5 records, nothing committed past 0)", s)
	}
	shot("06-consumers")
	do("topic consumers tab", chromedp.Navigate(srv.URL+"/topics/post.office?tab=consumers"), chromedp.WaitVisible(chromedp.CSS(`section.group[data-group="mailroom"]`)))
	shot("07-topic-consumers")
	// The group's page: its timeline (the console saw it form) and its lag
	// over time, in total and per partition.
	do("group page", chromedp.Navigate(srv.URL+"/consumers/mailroom?range=1m0s"), chromedp.WaitVisible(chromedp.CSS("#timeline li.ev")))
	if s := text("#timeline"); !strings.Contains(s, "postman-1") || !strings.Contains(s, "postman-2") {
		t.Errorf("timeline = %q, want both members in it", s)
	}
	do("group lag charts", chromedp.WaitVisible(chromedp.CSS(`#chart-group-lag path[data-series="mailroom"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-partition-lag path[data-series="post.office P0"]`)))
	shot("08a-group-timeline")

	// Charts: produce for a few samples, then messages in per second of
	// post.office and the lag of mailroom (nobody commits) are drawn.
	samsatest.Eventually(t, 20*time.Second, "a rate drawn for post.office", func() bool {
		var recs []*kgo.Record
		for i := range 50 {
			recs = append(recs, &kgo.Record{Topic: "post.office", Value: fmt.Appendf(nil, `{"n":%d}`, i)})
		}
		produce(t, cl, recs...)
		do("charts", chromedp.Navigate(srv.URL+"/charts?range=1m0s"), chromedp.WaitVisible(chromedp.CSS("#chart-topics")))
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const legend = document.querySelector("#chart-topics").closest(".chart").innerText;
			return document.querySelector('#chart-topics path[data-series="post.office"]') !== null && !/post\.office\s+last 0 msg\/s · max 0 /.test(legend)
		})()`))
		return err == nil && ok
	})
	do("group lag chart", chromedp.WaitVisible(chromedp.CSS(`#chart-groups path[data-series="mailroom"]`)))
	shot("08b-charts")

	// Configs: set retention.ms from its row, see it as an override, and
	// the same as commands.
	do("configs tab", chromedp.Navigate(srv.URL+"/topics/post.office?tab=configs"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-config-key="retention.ms"] input[data-config-value]`)),
		chromedp.SetValue(chromedp.CSS(`tr[data-config-key="retention.ms"] input[data-config-value]`), "3600000"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('tr[data-config-key="retention.ms"] input[data-config-value]').dispatchEvent(new Event("input", {bubbles: true}))`),
		chromedp.Click(chromedp.CSS(`tr[data-config-key="retention.ms"] button[data-cli][data-config-action="save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#configs-form .feedback [data-cli-kind="kafka"] pre`)))
	if s := text(`#configs-form .feedback [data-cli-kind="kafka"] pre`); !strings.Contains(s, "kafka-configs.sh --bootstrap-server "+b.Addr+" --entity-type topics --entity-name post.office --alter --add-config retention.ms=3600000") {
		t.Errorf("kafka-configs command = %q", s)
	}
	do("save retention.ms", chromedp.Click(chromedp.CSS(`tr[data-config-key="retention.ms"] button[data-config-action="save"]:not([data-cli])`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")), chromedp.WaitVisible(chromedp.CSS(`tr.override[data-config-key="retention.ms"]`)))
	if s := text("#flash"); !strings.Contains(s, "Updated configs of topic post.office: retention.ms=3600000") {
		t.Errorf("config feedback = %q", s)
	}
	shot("08c-configs-edited")

	// The Partitions tab refreshes itself: records produced while it is
	// open show in its count without a reload.
	do("partitions tab", chromedp.Navigate(srv.URL+"/topics/post.office"), chromedp.WaitVisible(chromedp.CSS("#partitions")))
	before := text("#message-count")
	produce(t, cl, &kgo.Record{Topic: "post.office", Value: []byte(`{"to":"Barbara Liskov"}`)})
	samsatest.Eventually(t, 15*time.Second, "the count to rise on the open page", func() bool {
		return text("#message-count") != before
	})
	shot("08-topic-partitions")

	// Delete a topic from its row: the confirmation names it, the row goes.
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "junk"}, nil)
	do("topics with junk", chromedp.Navigate(srv.URL+"/topics"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="junk"]`)))
	confirmed := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__confirmed || ""`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	acceptConfirm := chromedp.Evaluate[chromedp.Void](`window.confirm = m => { window.__confirmed = m; return true }`)
	do("delete junk", acceptConfirm, chromedp.Click(chromedp.CSS(`tr[data-name="junk"] button.danger`)))
	if s := confirmed(); !strings.Contains(s, "Delete topic junk") {
		t.Errorf("confirmation = %q, want it to name the topic", s)
	}
	do("junk gone", chromedp.WaitVisible(chromedp.CSS("#flash")), chromedp.WaitNotPresent(chromedp.CSS(`tr[data-name="junk"]`)))
	if s := text("#flash"); !strings.Contains(s, "junk") {
		t.Errorf("delete feedback = %q", s)
	}

	// Clusters: a second cluster, validated (a closed port fails, its
	// broker answers), added, switched to from the header: its topics.
	b2 := samsatest.Start(t)
	if _, err := b2.Admin().CreateTopic(ctxT(t), 1, 1, nil, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	dead := closedAddr(t)
	do("validate a closed port", chromedp.Navigate(srv.URL+"/clusters"), chromedp.WaitVisible(chromedp.CSS("#add-cluster")),
		chromedp.SendKeys(chromedp.CSS(`#add-cluster input[name=name]`), "second"),
		chromedp.SendKeys(chromedp.CSS(`#add-cluster input[name=host]`), "127.0.0.1"),
		chromedp.SendKeys(chromedp.CSS(`#add-cluster input[name=port]`), dead[strings.LastIndex(dead, ":")+1:]),
		chromedp.Click(chromedp.CSS(`#add-cluster button[data-validate]`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-cluster .feedback.error`)))
	if s := text(`#add-cluster .feedback`); !strings.Contains(s, "cluster unreachable") || !strings.Contains(s, dead) {
		t.Errorf("validate %s says %q", dead, s)
	}
	do("validate the second broker",
		chromedp.SetValue(chromedp.CSS(`#add-cluster input[name=port]`), b2.Addr[strings.LastIndex(b2.Addr, ":")+1:]),
		chromedp.Click(chromedp.CSS(`#add-cluster button[data-validate]`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-cluster .feedback.ok`)))
	if s := text(`#add-cluster .feedback`); !strings.HasPrefix(s, "Configuration is valid: connected to 1 broker(s), cluster id ") {
		t.Errorf("validate %s says %q", b2.Addr, s)
	}
	shot("09-cluster-validated")
	// Submit: the console shows the new cluster's brokers, as kafka-ui does.
	do("add the cluster", chromedp.Click(chromedp.CSS(`#add-cluster button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)), chromedp.WaitVisible(chromedp.CSS("table.grid tbody tr")))
	if s := text("table.grid"); !strings.Contains(s, b2.Addr) {
		t.Errorf("after adding the cluster the brokers page shows %q, want %s", s, b2.Addr)
	}
	do("topics of local", chromedp.Navigate(srv.URL+"/topics?cluster=local"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="post.office"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.getElementById("cluster-switch");
		s.value = "second"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)); err != nil {
		t.Fatalf("switch cluster: %v", err)
	}
	do("topics of second", chromedp.WaitVisible(chromedp.CSS(`tr[data-name="elsewhere"]`)))
	if s := text("#topics"); strings.Contains(s, "post.office") {
		t.Errorf("topics of the second cluster show post.office: %q", s)
	}
	shot("10-second-cluster-topics")
	do("brokers of second", chromedp.Navigate(srv.URL+"/brokers"), chromedp.WaitVisible(chromedp.CSS("table.grid tbody tr")))
	if s := text("table.grid"); !strings.Contains(s, b2.Addr) {
		t.Errorf("brokers page after switching shows %q, want %s", s, b2.Addr)
	}
	// Its broker stops while its Topics page is open: the page says the
	// cluster is unreachable by itself, no reload needed.
	do("topics of second again", chromedp.Navigate(srv.URL+"/topics"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="elsewhere"]`)))
	b2.Stop()
	do("unreachable without a reload", chromedp.WaitVisible(chromedp.CSS("#unreachable")))
	shot("11-second-cluster-unreachable")

	// Remove the second cluster again.
	do("remove second", chromedp.Navigate(srv.URL+"/clusters"), chromedp.WaitVisible(chromedp.CSS(`#clusters tr[data-name="second"]`)),
		acceptConfirm, chromedp.Click(chromedp.CSS(`#clusters tr[data-name="second"] button.danger`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#clusters tr[data-name="second"]`)))
	t.Logf("screenshots in %s", dir)
}
