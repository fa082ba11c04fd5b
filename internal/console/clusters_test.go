package console

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// topicNames is the names GET /api/topics (with query q) lists.
func topicNames(t *testing.T, srv *httptest.Server, q string) []string {
	t.Helper()
	var v topicsView
	mustCall(t, srv, 200, "GET", "/api/topics"+q, nil, &v)
	var names []string
	for _, tp := range v.Topics {
		names = append(names, tp.Name)
	}
	return names
}

// closedAddr is an address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestClustersValidateAddSwitchRemove(t *testing.T) {
	b1, b2 := samsatest.Start(t), samsatest.Start(t)
	srv := startConsole(t, b1.Addr, func(c *Config) {
		c.MaxClusters = 2
		c.RequestTimeout = time.Second
	})
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "alpha"}, nil)
	if _, err := b2.Admin().CreateTopic(samsatest.Context(t, 10*time.Second), 1, 1, nil, "beta"); err != nil {
		t.Fatal(err)
	}

	var list clustersView
	mustCall(t, srv, 200, "GET", "/api/clusters", nil, &list)
	if len(list.Clusters) != 1 || list.Clusters[0].Name != "local" || !list.Clusters[0].Startup || !list.Clusters[0].Selected {
		t.Fatalf("clusters at start = %+v, want only local (startup, selected)", list.Clusters)
	}

	// Validate: really connects.
	var ok validation
	mustCall(t, srv, 200, "POST", "/api/clusters/validate", clusterRequest{Bootstrap: b2.Addr}, &ok)
	m, err := b2.Admin().Metadata(samsatest.Context(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if ok.Brokers != 1 || ok.ClusterID != m.Cluster || !strings.Contains(ok.Message, "1 broker") {
		t.Errorf("validate %s = %+v, want 1 broker and cluster id %q", b2.Addr, ok, m.Cluster)
	}
	var bad apiError
	dead := closedAddr(t)
	mustCall(t, srv, 503, "POST", "/api/clusters/validate", clusterRequest{Bootstrap: dead}, &bad)
	if !bad.Unreachable || !strings.Contains(bad.Error, dead) {
		t.Errorf("validate closed port = %+v, want unreachable naming %s", bad, dead)
	}
	mustCall(t, srv, 400, "POST", "/api/clusters/validate", clusterRequest{Bootstrap: "no-port"}, nil)

	// The lab's form: a host and a port (9092 when left out).
	var hp validation
	port, _ := strconv.Atoi(b2.Addr[strings.LastIndex(b2.Addr, ":")+1:])
	mustCall(t, srv, 200, "POST", "/api/clusters/validate", clusterRequest{Host: "127.0.0.1", Port: port}, &hp)
	if !strings.HasPrefix(hp.Message, "Configuration is valid: connected to 1 broker(s)") {
		t.Errorf("validate host and port: %q", hp.Message)
	}
	mustCall(t, srv, 400, "POST", "/api/clusters/validate", clusterRequest{Host: "127.0.0.1", Port: 70000}, nil)
	mustCall(t, srv, 400, "POST", "/api/clusters/validate", clusterRequest{Host: "localhost:19092"}, &bad)
	if !strings.Contains(bad.Error, "give the host alone and the port in Port") {
		t.Errorf("a port in the host field: %q", bad.Error)
	}
	mustCall(t, srv, 400, "POST", "/api/clusters/validate", clusterRequest{Port: 9092}, nil)
	mustCall(t, srv, 400, "POST", "/api/clusters/validate", clusterRequest{Host: "http://localhost"}, &bad)
	if !strings.Contains(bad.Error, "without http://") {
		t.Errorf("a URL in the host field: %q", bad.Error)
	}
	for host, want := range map[string]string{"[::1]": "[::1]:9092", "::1": "[::1]:9092", "kafka": "kafka:9092"} {
		bs, err := clusterRequest{Host: host}.brokers(false)
		if err != nil || len(bs) != 1 || bs[0] != want {
			t.Errorf("host %q: %v %v, want %s", host, bs, err, want)
		}
	}
	// A refused connection names where this console's own cluster is.
	mustCall(t, srv, 503, "POST", "/api/clusters/validate", clusterRequest{Bootstrap: dead}, &bad)
	if !strings.Contains(bad.Error, "This console's own cluster is at "+b1.Addr) {
		t.Errorf("validate a closed port: %q, want where the console's own cluster is", bad.Error)
	}
	// The lab's host is its Docker container's name: the answer says
	// where Samsa is instead.
	mustCall(t, srv, 503, "POST", "/api/clusters/validate", clusterRequest{Host: "kafka.invalid", Port: 9092}, &bad)
	if !strings.Contains(bad.Error, `Host "kafka.invalid" does not resolve`) || !strings.Contains(bad.Error, "this console's own cluster is at "+b1.Addr) {
		t.Errorf("validate an unknown host: %q, want the hint", bad.Error)
	}

	// Added from the host and port fields; the answer shows it next.
	var added actionResult
	mustCall(t, srv, 200, "POST", "/api/clusters", clusterRequest{Name: "lab", Host: "127.0.0.1", Port: port}, &added)
	if added.Redirect != "/brokers?cluster=lab" {
		t.Errorf("add answered %+v, want a redirect to the new cluster's brokers", added)
	}
	mustCall(t, srv, 200, "DELETE", "/api/clusters/lab", nil, nil)

	// Add; names are checked and unique; the list is bounded.
	for _, tc := range []struct {
		req  clusterRequest
		code int
	}{
		{clusterRequest{Name: "bad name", Bootstrap: b2.Addr}, 400},
		{clusterRequest{Name: "second", Bootstrap: ""}, 400},
		{clusterRequest{Name: "second", Bootstrap: b2.Addr}, 200},
		{clusterRequest{Name: "second", Bootstrap: b2.Addr}, 409},
		{clusterRequest{Name: "local", Bootstrap: b2.Addr}, 409},
		{clusterRequest{Name: "third", Bootstrap: b2.Addr}, 400}, // MaxClusters 2
	} {
		mustCall(t, srv, tc.code, "POST", "/api/clusters", tc.req, nil)
	}
	mustCall(t, srv, 200, "GET", "/api/clusters?cluster=second", nil, &list)
	if len(list.Clusters) != 2 || list.Clusters[1].Name != "second" || !list.Clusters[1].Selected || list.Clusters[0].Selected ||
		!slices.Equal(list.Clusters[1].Bootstrap, []string{b2.Addr}) {
		t.Fatalf("clusters after add = %+v", list.Clusters)
	}

	// ?cluster= selects per request; without it (and no cookie) the startup cluster.
	if got := topicNames(t, srv, ""); !slices.Contains(got, "alpha") || slices.Contains(got, "beta") {
		t.Errorf("topics of local = %v, want alpha, not beta", got)
	}
	if got := topicNames(t, srv, "?cluster=second"); !slices.Contains(got, "beta") || slices.Contains(got, "alpha") {
		t.Errorf("topics of second = %v, want beta, not alpha", got)
	}
	mustCall(t, srv, 404, "GET", "/api/topics?cluster=nope", nil, nil)
	var h health
	mustCall(t, srv, 200, "GET", "/api/health?cluster=second", nil, &h)
	if !slices.Equal(h.Brokers, []string{b2.Addr}) {
		t.Errorf("health of second = %+v", h)
	}

	// The cookie keeps the choice for pages and API calls that follow.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) string {
		t.Helper()
		resp, err := browser.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s: %s", path, resp.Status, raw)
		}
		return string(raw)
	}
	page := get("/topics?cluster=second")
	if !strings.Contains(page, `data-name="beta"`) || strings.Contains(page, `data-name="alpha"`) || !strings.Contains(page, `<option value="second" selected>`) {
		t.Errorf("topics page of second lacks beta or the switcher on second")
	}
	if s := get("/api/topics"); !strings.Contains(s, `"beta"`) || strings.Contains(s, `"alpha"`) {
		t.Errorf("API after switching to second (cookie) = %s", s)
	}
	if s := get("/clusters"); !strings.Contains(s, `id="add-cluster"`) || !strings.Contains(s, b2.Addr) {
		t.Errorf("clusters page lacks the form or the second cluster")
	}

	// Remove: not the startup cluster; a stale cookie falls back to it.
	mustCall(t, srv, 400, "DELETE", "/api/clusters/local", nil, nil)
	mustCall(t, srv, 200, "DELETE", "/api/clusters/second", nil, nil)
	mustCall(t, srv, 404, "DELETE", "/api/clusters/second", nil, nil)
	if s := get("/api/topics"); !strings.Contains(s, `"alpha"`) {
		t.Errorf("API with a cookie for a removed cluster = %s, want local's topics", s)
	}
	mustCall(t, srv, 200, "GET", "/api/clusters", nil, &list)
	if len(list.Clusters) != 1 {
		t.Errorf("clusters after remove = %+v", list.Clusters)
	}
}

func TestClustersNamedStartupAndReadOnly(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr, func(c *Config) { c.Name = "prod"; c.ReadOnly = true })
	var list clustersView
	mustCall(t, srv, 200, "GET", "/api/clusters?cluster=prod", nil, &list)
	if len(list.Clusters) != 1 || list.Clusters[0].Name != "prod" {
		t.Errorf("clusters = %+v, want prod", list.Clusters)
	}
	mustCall(t, srv, 403, "POST", "/api/clusters", clusterRequest{Name: "x", Bootstrap: b.Addr}, nil)
	mustCall(t, srv, 403, "POST", "/api/clusters/validate", clusterRequest{Bootstrap: b.Addr}, nil)
	if body := mustCall(t, srv, 200, "GET", "/clusters", nil, nil); strings.Contains(body, `id="add-cluster"`) {
		t.Errorf("read-only clusters page offers the add form")
	}
}

func TestConfigValidateClusterSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"zero MaxClusters", func(c *Config) { c.MaxClusters = 0 }},
		{"bad name", func(c *Config) { c.Name = "a/b" }},
		{"long name", func(c *Config) { c.Name = strings.Repeat("a", 65) }},
	} {
		cfg := DefaultConfig()
		tc.mod(&cfg)
		if cfg.Validate() == nil {
			t.Errorf("%s: Validate accepted it", tc.name)
		}
	}
}

// TestTopicsListShowsTopicRightAfterCreate: the list is read from the
// cluster, not from the client's metadata cache, so a page reloaded right
// after a create shows the new topic.
func TestTopicsListShowsTopicRightAfterCreate(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	for i := range 10 {
		name := "fresh" + strconv.Itoa(i)
		mustCall(t, srv, 200, "GET", "/api/topics", nil, nil) // warms any cache
		mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: name}, nil)
		if _, ok := findTopic(t, srv, name); !ok {
			t.Errorf("%s missing from the list right after its create", name)
		}
	}
}
