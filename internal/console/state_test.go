package console

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// stateConfig is a console config for addr whose added clusters are kept
// in stateFile.
func stateConfig(t *testing.T, addr, stateFile string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = []string{addr}
	cfg.Logger = samsatest.TestLogger(t)
	cfg.RequestTimeout = 2 * time.Second
	cfg.StateFile = stateFile
	return cfg
}

// serveState starts a console with cfg on an httptest server; stop closes
// both (also done at cleanup, once).
func serveState(t *testing.T, cfg Config) (srv *httptest.Server, stop func()) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new console: %v", err)
	}
	srv = httptest.NewServer(c)
	stop = sync.OnceFunc(func() {
		srv.Close()
		c.Close()
	})
	t.Cleanup(stop)
	return srv, stop
}

// clusterList is the names and bootstraps GET /api/clusters lists.
func clusterList(t *testing.T, srv *httptest.Server) map[string][]string {
	t.Helper()
	var v clustersView
	mustCall(t, srv, 200, "GET", "/api/clusters", nil, &v)
	m := map[string][]string{}
	for _, ci := range v.Clusters {
		m[ci.Name] = ci.Bootstrap
	}
	return m
}

// readStateFile decodes the state file at path.
func readStateFile(t *testing.T, path string) state {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("state file %s: %v\n%s", path, err, raw)
	}
	return st
}

func TestClustersPersistAcrossRestart(t *testing.T) {
	b1, b2 := samsatest.Start(t), samsatest.Start(t)
	m, err := b2.Admin().Metadata(samsatest.Context(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "not", "yet")
	path := filepath.Join(dir, "clusters.json")
	cfg := stateConfig(t, b1.Addr, path)

	srv, stop := serveState(t, cfg)
	var v clustersView
	mustCall(t, srv, 200, "GET", "/api/clusters", nil, &v)
	if v.StateFile != path {
		t.Errorf("state_file = %q, want %q", v.StateFile, path)
	}
	if page := mustCall(t, srv, 200, "GET", "/clusters", nil, nil); !strings.Contains(page, "saved in <code>"+path+"</code>") {
		t.Errorf("clusters page does not say the clusters are saved in %s", path)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("state directory made before the first add: %v", err)
	}
	mustCall(t, srv, 200, "POST", "/api/clusters", clusterRequest{Name: "second", Bootstrap: " " + b2.Addr + " , 127.0.0.1:1"}, nil)
	want := state{Version: 1, Clusters: []storedCluster{{Name: "second", Bootstrap: []string{b2.Addr, "127.0.0.1:1"}}}}
	if got := readStateFile(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("state file after add = %+v, want %+v", got, want)
	}
	for p, mode := range map[string]os.FileMode{dir: os.ModeDir | 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, mode)
		}
	}
	stop()

	// Restart: the added cluster is back, and its pages work.
	srv, stop = serveState(t, cfg)
	if got := clusterList(t, srv); len(got) != 2 || !slices.Equal(got["second"], []string{b2.Addr, "127.0.0.1:1"}) {
		t.Fatalf("clusters after restart = %v, want local and second", got)
	}
	var bv brokersView
	mustCall(t, srv, 200, "GET", "/api/brokers?cluster=second", nil, &bv)
	if bv.ClusterID != m.Cluster {
		t.Errorf("brokers of second: cluster id %q, want %q (b2's)", bv.ClusterID, m.Cluster)
	}
	mustCall(t, srv, 200, "DELETE", "/api/clusters/second", nil, nil)
	stop()

	// Restart again: the removal stuck.
	srv, _ = serveState(t, cfg)
	if got := clusterList(t, srv); len(got) != 1 || got["local"] == nil {
		t.Fatalf("clusters after remove and restart = %v, want only local", got)
	}
	if got := readStateFile(t, path); got.Version != 1 || got.Clusters == nil || len(got.Clusters) != 0 {
		t.Errorf("state file after remove = %+v, want version 1 and an empty list", got)
	}
	// The writes left no temporary files behind.
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
		t.Errorf("state directory holds %v (%v), want only clusters.json", ents, err)
	}
}

func TestClustersConcurrentAddsAllSaved(t *testing.T) {
	b := samsatest.Start(t)
	path := filepath.Join(t.TempDir(), "clusters.json")
	cfg := stateConfig(t, b.Addr, path)
	srv, stop := serveState(t, cfg)
	const n = 10
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i], _ = call(t, srv, "POST", "/api/clusters", clusterRequest{Name: fmt.Sprint("c", i), Bootstrap: b.Addr}, nil)
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != 200 {
			t.Errorf("add c%d: status %d", i, code)
		}
	}
	if got := readStateFile(t, path); len(got.Clusters) != n {
		t.Errorf("state file lists %d clusters, want %d: %+v", len(got.Clusters), n, got.Clusters)
	}
	stop()
	srv, _ = serveState(t, cfg)
	if got := clusterList(t, srv); len(got) != n+1 {
		t.Errorf("clusters after restart = %v, want local and c0..c%d", got, n-1)
	}
}

func TestClustersMemoryOnlyWithoutStateFile(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	var v clustersView
	mustCall(t, srv, 200, "GET", "/api/clusters", nil, &v)
	if v.StateFile != "" {
		t.Errorf("state_file = %q, want none", v.StateFile)
	}
	if page := mustCall(t, srv, 200, "GET", "/clusters", nil, nil); !strings.Contains(page, "kept in memory only") {
		t.Errorf("clusters page does not say the clusters are kept in memory only")
	}
	mustCall(t, srv, 200, "POST", "/api/clusters", clusterRequest{Name: "second", Bootstrap: b.Addr}, nil)
}

func TestStateFileUnreadableFailsNew(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not json", `{"version":1,"clusters":[`, "not valid JSON"},
		{"empty", ``, "not valid JSON"},
		{"trailing garbage", `{"version":1,"clusters":[]} x`, "not valid JSON"},
		{"wrong type", `{"version":1,"clusters":{}}`, "not valid JSON"},
		{"unknown version", `{"version":2,"clusters":[]}`, "version 2"},
		{"no version", `{"clusters":[]}`, "version 0"},
		{"too large", `{"version":1,"clusters":[]}` + strings.Repeat(" ", maxStateBytes), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clusters.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := New(stateConfig(t, closedAddr(t), path))
			if err == nil {
				c.Close()
				t.Fatal("New accepted the state file")
			}
			for _, s := range []string{path, tc.want, "fix or delete it"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("New: %v; want it to say %q", err, s)
				}
			}
		})
	}
	// A directory where the file should be cannot be read either.
	path := t.TempDir()
	if c, err := New(stateConfig(t, closedAddr(t), path)); err == nil {
		c.Close()
		t.Errorf("New accepted a directory as the state file")
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("New: %v; want it to name %s", err, path)
	}
}

func TestStateFileSkipsEntriesItCannotUse(t *testing.T) {
	b := samsatest.Start(t)
	path := filepath.Join(t.TempDir(), "clusters.json")
	entries := []storedCluster{
		{Name: "local", Bootstrap: []string{b.Addr}},         // the startup cluster's name
		{Name: "bad name", Bootstrap: []string{b.Addr}},      // invalid name
		{Name: "noport", Bootstrap: []string{"localhost"}},   // invalid address
		{Name: "nobrokers"},                                  // no address
		{Name: "one", Bootstrap: []string{b.Addr}},           // kept
		{Name: "one", Bootstrap: []string{"127.0.0.1:1"}},    // duplicate
		{Name: "two", Bootstrap: []string{b.Addr}},           // kept: MaxClusters 3 with local
		{Name: "three", Bootstrap: []string{"127.0.0.1:1"}},  // over MaxClusters
		{Name: "four", Bootstrap: []string{"127.0.0.1:1"}},   // over MaxClusters
		{Name: "bad-too", Bootstrap: []string{"127.0.0.1:"}}, // invalid address, after the limit
	}
	raw, err := json.Marshal(state{Version: 1, Clusters: entries})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs samsatest.Buffer
	cfg := stateConfig(t, b.Addr, path)
	cfg.MaxClusters = 3
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, _ := serveState(t, cfg)

	got := clusterList(t, srv)
	if len(got) != 3 || !slices.Equal(got["local"], []string{b.Addr}) || !slices.Equal(got["one"], []string{b.Addr}) || got["two"] == nil {
		t.Errorf("clusters = %v, want local (from the config), one (its first entry) and two", got)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for _, name := range []string{"local", `"bad name"`, "noport", "nobrokers", "one", "bad-too"} {
		found := false
		for _, l := range lines {
			if strings.Contains(l, "level=WARN") && strings.Contains(l, "file="+path) && strings.Contains(l, "name="+name+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no Warn line naming the file and the skipped entry %s in:\n%s", name, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "dropped=2") {
		t.Errorf("no Warn line saying 2 clusters over MaxClusters were dropped in:\n%s", logs.String())
	}
	mustCall(t, srv, 200, "GET", "/api/brokers?cluster=two", nil, nil)

	// A save (here: removing two) writes the skipped entries back as they
	// were: fixing the file or a flag brings them back.
	mustCall(t, srv, 200, "DELETE", "/api/clusters/two", nil, nil)
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved state
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range saved.Clusters {
		names = append(names, sc.Name)
	}
	if want := []string{"one", "local", "bad name", "noport", "nobrokers", "one", "three", "four", "bad-too"}; !slices.Equal(names, want) {
		t.Errorf("saved clusters %q, want %q (the kept one, then every skipped entry)", names, want)
	}
}

func TestClustersChangeUndoneWhenStateCannotBeSaved(t *testing.T) {
	b := samsatest.Start(t)

	// The state file's directory would be under a regular file: New
	// starts (nothing can have been saved there), the add fails.
	tmp := t.TempDir()
	regular := filepath.Join(tmp, "regular")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(regular, "console", "clusters.json")
	srv, _ := serveState(t, stateConfig(t, b.Addr, path))
	var e apiError
	mustCall(t, srv, 500, "POST", "/api/clusters", clusterRequest{Name: "second", Bootstrap: b.Addr}, &e)
	if !strings.Contains(e.Error, path) || !strings.Contains(e.Error, "not added") {
		t.Errorf("add error = %q, want it to name %s and say not added", e.Error, path)
	}
	if got := clusterList(t, srv); len(got) != 1 {
		t.Errorf("clusters after a failed add = %v, want only local", got)
	}
	mustCall(t, srv, 404, "GET", "/api/brokers?cluster=second", nil, nil)

	// A remove whose save fails keeps the cluster, still working.
	dir := filepath.Join(tmp, "state")
	path = filepath.Join(dir, "clusters.json")
	srv, _ = serveState(t, stateConfig(t, b.Addr, path))
	mustCall(t, srv, 200, "POST", "/api/clusters", clusterRequest{Name: "second", Bootstrap: b.Addr}, nil)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e = apiError{}
	mustCall(t, srv, 500, "DELETE", "/api/clusters/second", nil, &e)
	if !strings.Contains(e.Error, path) || !strings.Contains(e.Error, "not removed") {
		t.Errorf("remove error = %q, want it to name %s and say not removed", e.Error, path)
	}
	if got := clusterList(t, srv); len(got) != 2 || got["second"] == nil {
		t.Errorf("clusters after a failed remove = %v, want local and second", got)
	}
	mustCall(t, srv, 200, "GET", "/api/brokers?cluster=second", nil, nil)
}
