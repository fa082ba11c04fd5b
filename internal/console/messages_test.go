package console

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestMessagesNewestFirstFiltersAndFromOffset(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "m", Partitions: 2}, nil)
	cl := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	base := time.Now().Add(-time.Minute)
	for i := range 10 {
		produce(t, cl, &kgo.Record{
			Topic: "m", Partition: int32(i % 2), Key: fmt.Appendf(nil, "key-%d", i),
			Value: fmt.Appendf(nil, `{"n":%d,"to":"Alan Turing"}`, i), Timestamp: base.Add(time.Duration(i) * time.Second),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("test")}},
		})
	}
	produce(t, cl, &kgo.Record{Topic: "m", Partition: 0, Value: []byte{0xff, 0xfe}, Timestamp: base.Add(time.Hour)})

	var v messagesView
	mustCall(t, srv, 200, "GET", "/api/topics/m/messages?limit=3", nil, &v)
	if len(v.Messages) != 3 || !v.Messages[0].ValueBinary || v.Messages[1].Key != "key-9" || v.Messages[2].Key != "key-8" {
		t.Fatalf("newest 3 = %+v, want the binary record, key-9, key-8", v.Messages)
	}
	m := v.Messages[1]
	if m.Partition != 1 || m.Offset != 4 || !strings.Contains(m.Pretty, "\n  \"n\": 9") || len(m.Headers) != 1 || m.Headers[0] != (Header{"source", "test"}) {
		t.Errorf("key-9 = %+v, want partition 1 offset 4, pretty JSON, header source=test", m)
	}
	if v.Scanned != 11 {
		t.Errorf("scanned = %d, want all 11", v.Scanned)
	}

	for _, tc := range []struct {
		query string
		keys  []string
	}{
		{"key=key-3", []string{"key-3"}},
		{"value=%22n%22:4", []string{"key-4"}},
		{"partition=1&limit=2", []string{"key-9", "key-7"}},
		{"partition=0&mode=offset&offset=3&limit=2", []string{"key-6", "key-8"}},
		{"mode=offset&offset=4&key=key", []string{"key-8", "key-9"}},
		{"mode=timestamp&timestamp=" + fmt.Sprint(base.Add(7*time.Second).UnixMilli()) + "&key=key", []string{"key-7", "key-8", "key-9"}},
		{"key=nothing-like-this", nil},
	} {
		var v messagesView
		mustCall(t, srv, 200, "GET", "/api/topics/m/messages?"+tc.query, nil, &v)
		var keys []string
		for _, m := range v.Messages {
			keys = append(keys, m.Key)
		}
		if fmt.Sprint(keys) != fmt.Sprint(tc.keys) {
			t.Errorf("%s: keys %v, want %v", tc.query, keys, tc.keys)
		}
	}
	var e apiError
	mustCall(t, srv, 400, "GET", "/api/topics/m/messages?partition=7", nil, &e)
	mustCall(t, srv, 400, "GET", "/api/topics/m/messages?mode=offset&offset=-1", nil, &e)
}

func TestMessagesOfEmptyTopicAreEmpty(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "empty"}, nil)
	var v messagesView
	mustCall(t, srv, 200, "GET", "/api/topics/empty/messages", nil, &v)
	if len(v.Messages) != 0 || v.Scanned != 0 {
		t.Errorf("empty topic: %+v", v)
	}
	body := mustCall(t, srv, 200, "GET", "/topics/empty?tab=messages", nil, nil)
	if !strings.Contains(body, "No records") || !strings.Contains(body, "samsa produce empty") {
		t.Errorf("empty Messages tab does not say what to do")
	}
}

func TestProduceFromTheConsole(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, nil)
	p2 := int32(2)
	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/messages", produceRequest{Value: `{"to":"Alan Turing"}`, Partition: &p2, Headers: []Header{{"h", "1"}}}, &res)
	if res.Message != "Produced to partition 2 at offset 0." {
		t.Errorf("message = %q", res.Message)
	}
	// Keyed records go where Kafka's default partitioner (murmur2) puts them.
	partitions := map[string]bool{}
	for range 3 {
		mustCall(t, srv, 200, "POST", "/api/topics/post.office/messages", produceRequest{Key: "alice", Value: "x"}, &res)
		partitions[strings.Fields(res.Message)[3]] = true
	}
	if len(partitions) != 1 {
		t.Errorf("one key went to partitions %v, want one", partitions)
	}
	var v messagesView
	mustCall(t, srv, 200, "GET", "/api/topics/post.office/messages?partition=2", nil, &v)
	if len(v.Messages) == 0 || v.Messages[len(v.Messages)-1].Value != `{"to":"Alan Turing"}` || len(v.Messages[len(v.Messages)-1].Headers) != 1 {
		t.Errorf("partition 2 = %+v, want the produced record with its header", v.Messages)
	}
	var e apiError
	p9 := int32(9)
	mustCall(t, srv, 400, "POST", "/api/topics/post.office/messages", produceRequest{Value: "x", Partition: &p9}, &e)
	mustCall(t, srv, 404, "POST", "/api/topics/nope/messages", produceRequest{Value: "x"}, &e)
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/messages?cli=1", produceRequest{Key: "k", Value: "it's", Partition: &p2}, &res)
	want := `echo '{"key":"k","value":"it'\''s"}' | samsa produce post.office --format json --partition 2 --brokers ` + b.Addr
	if res.CLI != want {
		t.Errorf("cli = %s\nwant  %s", res.CLI, want)
	}
}

func TestParseMessagesQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want messagesQuery
		bad  bool
	}{
		{in: "", want: messagesQuery{Partition: -1, Mode: "newest", Limit: 50}},
		{in: "partition=all&limit=500", want: messagesQuery{Partition: -1, Mode: "newest", Limit: 100}},
		{in: "partition=2&mode=offset&offset=7&key=a&value=b", want: messagesQuery{Partition: 2, Mode: "offset", Offset: 7, Key: "a", Value: "b", Limit: 50}},
		{in: "mode=timestamp&timestamp=1700000000000", want: messagesQuery{Partition: -1, Mode: "timestamp", Time: "1700000000000", at: time.UnixMilli(1700000000000), Limit: 50}},
		{in: "partition=x", bad: true},
		{in: "limit=0", bad: true},
		{in: "mode=offset", bad: true},
		{in: "mode=timestamp&timestamp=yesterday", bad: true},
		{in: "mode=sideways", bad: true},
	} {
		v, _ := url.ParseQuery(tc.in)
		got, err := parseMessagesQuery(v, 100)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err = %v, want bad=%v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && (got.Partition != tc.want.Partition || got.Mode != tc.want.Mode || got.Offset != tc.want.Offset || got.Key != tc.want.Key ||
			got.Value != tc.want.Value || got.Limit != tc.want.Limit || !got.at.Equal(tc.want.at)) {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestPrettyJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, "{\n  \"a\": 1\n}"},
		{` [1,2] `, "[\n  1,\n  2\n]"},
		{`"just a string"`, ""},
		{`42`, ""},
		{`{"broken":`, ""},
		{`hello`, ""},
	} {
		if got := prettyJSON([]byte(tc.in)); got != tc.want {
			t.Errorf("prettyJSON(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
