package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Errors callers (and the status codes of the API) branch on.
var (
	// ErrUnreachable: no broker answered within Config.RequestTimeout.
	ErrUnreachable = errors.New("cluster unreachable")
	// ErrNotFound: the topic or group does not exist.
	ErrNotFound = errors.New("not found")
	// ErrReadOnly: an action was asked of a read-only console.
	ErrReadOnly = errors.New("the console is read-only (started with --console-read-only)")
	// ErrExists: a cluster of that name is already there.
	ErrExists = errors.New("already exists")
	// ErrBadRequest: the request itself is wrong (a missing name, a bad number).
	ErrBadRequest = errors.New("bad request")
)

// Config configures a Console.
type Config struct {
	// Brokers are the bootstrap addresses (HOST:PORT) of the cluster the
	// console starts with.
	Brokers []string
	// Name names that cluster in the cluster switcher; "local" if empty.
	Name string
	// MaxClusters bounds how many clusters the console keeps (the startup
	// one included); more are refused.
	MaxClusters int
	// ReadOnly refuses every action (create, delete, produce, reset).
	ReadOnly bool
	// RequestTimeout bounds each admin call and each page's gathering;
	// when it passes without an answer the cluster is unreachable.
	RequestTimeout time.Duration
	// MaxMessages is the most records one Messages request returns.
	MaxMessages int
	// ScanRecords is the most records one Messages request reads, over
	// all partitions, to find the ones that match its filters.
	ScanRecords int
	// TailDuration bounds one live tail (GET /api/topics/{topic}/tail).
	TailDuration time.Duration
	// MaxBodyBytes is the largest request body an action accepts.
	MaxBodyBytes int64
	// SampleInterval is how often the console samples each cluster (end
	// offsets, groups and their lag) for the charts, the lag history and
	// the group timeline (history.go).
	SampleInterval time.Duration
	// HistoryWindow is how far back the samples go.
	HistoryWindow time.Duration
	// StateFile, if set, is the JSON file where the clusters added on the
	// Clusters page are kept, so they outlive a restart; empty: in memory.
	StateFile string
	// Logger receives lifecycle logs and, at Debug, each failed request.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults: a broker on 127.0.0.1:9092, 3 s per
// admin call, 100 records per page out of at most 5000 read.
func DefaultConfig() Config {
	return Config{
		Brokers:        []string{"127.0.0.1:9092"},
		RequestTimeout: 3 * time.Second,
		MaxMessages:    100,
		ScanRecords:    5000,
		MaxBodyBytes:   1 << 20,
		MaxClusters:    16,
		TailDuration:   5 * time.Minute,
		SampleInterval: 2 * time.Second,
		HistoryWindow:  30 * time.Minute,
		Logger:         slog.Default(),
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("console config: no brokers given")
	}
	if err := checkBrokers(c.Brokers); err != nil {
		return fmt.Errorf("console config: %w", err)
	}
	switch {
	case c.RequestTimeout <= 0:
		return errors.New("console config: RequestTimeout must be > 0")
	case c.MaxMessages <= 0:
		return errors.New("console config: MaxMessages must be > 0")
	case c.ScanRecords < c.MaxMessages:
		return errors.New("console config: ScanRecords must be >= MaxMessages")
	case c.MaxBodyBytes <= 0:
		return errors.New("console config: MaxBodyBytes must be > 0")
	case c.TailDuration <= 0:
		return errors.New("console config: TailDuration must be > 0")
	case c.SampleInterval <= 0:
		return errors.New("console config: SampleInterval must be > 0")
	case c.HistoryWindow < c.SampleInterval:
		return errors.New("console config: HistoryWindow must be >= SampleInterval")
	case c.MaxClusters <= 0:
		return errors.New("console config: MaxClusters must be > 0")
	case c.Name != "" && !validClusterName(c.Name):
		return fmt.Errorf("console config: cluster name %q: use 1-64 letters, digits, '.', '_' or '-'", c.Name)
	case c.Logger == nil:
		return errors.New("console config: Logger is nil")
	}
	return nil
}

// Console serves the web console for one or more clusters (see
// clusters.go). It is an http.Handler; the caller owns the HTTP server.
// Its config, pages and routes are set by New and read-only afterwards;
// the list of clusters is guarded by mu.
type Console struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux

	mu       sync.RWMutex
	clusters []*cluster      // clusters[0] is the startup cluster; at most cfg.MaxClusters
	skipped  []storedCluster // entries of the state file not loaded; saved back as they were (state.go)
	closed   bool

	stopped context.Context // canceled by Close: ends the live tails and the sampler
	stop    context.CancelFunc
	sampler sampler // the clusters' histories, see sampler.go
}

// New makes a console for the cluster at cfg.Brokers. It does not connect
// yet: pages connect on demand, so a console starts even when the cluster
// is down. Close releases the clients.
func New(cfg Config) (*Console, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = "local"
	}
	first, err := newCluster(cfg, name, cfg.Brokers, true)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, clusters: []*cluster{first}, mux: http.NewServeMux()}
	c.stopped, c.stop = context.WithCancel(context.Background())
	if c.pages, err = parsePages(cfg.HistoryWindow); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.loadState(); err != nil {
		c.Close()
		return nil, err
	}
	c.routes()
	c.sampler = sampler{hists: map[*cluster]*clusterHistory{}, done: make(chan struct{})}
	go c.sampleLoop()
	return c, nil
}

// clientOpts are the kgo options of every client the console makes: short
// timeouts, so an unreachable cluster shows within seconds.
func clientOpts(cfg Config, brokers []string, extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID("samsa-console"),
		kgo.DialTimeout(cfg.RequestTimeout),
		kgo.RetryTimeout(cfg.RequestTimeout),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.MetadataMaxAge(10 * time.Second),
	}, extra...)
}

// Close releases the Kafka clients. Requests still running fail.
func (c *Console) Close() {
	c.stop()
	if c.sampler.done != nil {
		<-c.sampler.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, cl := range c.clusters {
		cl.cl.Close()
	}
}

// ServeHTTP serves the pages, the API and the static files, each against
// the cluster the request selects (see selectCluster).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cl, err := c.selectCluster(w, r)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.mux.ServeHTTP(w, r.WithContext(withCluster(r.Context(), cl)))
}

// routes registers every page and endpoint; the README lists the API.
func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/brokers", http.StatusFound)
	})
	c.mux.HandleFunc("GET /api/health", c.apiHealth)

	c.mux.HandleFunc("GET /clusters", c.pageClusters)
	c.mux.HandleFunc("GET /api/clusters", c.apiClusters)
	c.mux.HandleFunc("POST /api/clusters/validate", c.clusterAction(c.validateCluster))
	c.mux.HandleFunc("POST /api/clusters", c.clusterAction(c.addCluster))
	c.mux.HandleFunc("DELETE /api/clusters/{name}", c.clusterAction(c.removeCluster))

	c.mux.HandleFunc("GET /brokers", c.pageBrokers)
	c.mux.HandleFunc("GET /api/brokers", c.apiBrokers)

	c.mux.HandleFunc("GET /topics", c.pageTopics)
	c.mux.HandleFunc("GET /api/topics", c.apiTopics)
	c.mux.HandleFunc("POST /api/topics", c.action(c.createTopic))

	c.mux.HandleFunc("GET /topics/{topic}", c.pageTopic)
	c.mux.HandleFunc("GET /api/topics/{topic}", c.apiTopic)
	c.mux.HandleFunc("DELETE /api/topics/{topic}", c.action(c.deleteTopic))
	c.mux.HandleFunc("POST /api/topics/{topic}/partitions", c.action(c.setPartitions))
	c.mux.HandleFunc("GET /api/topics/{topic}/messages", c.apiMessages)
	c.mux.HandleFunc("POST /api/topics/{topic}/messages", c.action(c.produce))
	c.mux.HandleFunc("GET /api/topics/{topic}/consumers", c.apiTopicConsumers)
	c.mux.HandleFunc("GET /api/topics/{topic}/tail", c.apiTail)
	c.mux.HandleFunc("POST /api/topics/{topic}/configs", c.action(c.alterConfigs))

	c.mux.HandleFunc("GET /consumers", c.pageConsumers)
	c.mux.HandleFunc("GET /consumers/{group}", c.pageGroup)
	c.mux.HandleFunc("GET /api/groups/{group}/history", c.apiGroupHistory)

	c.mux.HandleFunc("GET /charts", c.pageCharts)
	c.mux.HandleFunc("GET /api/history", c.apiHistory)
	c.mux.HandleFunc("GET /api/groups", c.apiGroups)
	c.mux.HandleFunc("DELETE /api/groups/{group}", c.action(c.deleteGroup))
	c.mux.HandleFunc("POST /api/groups/{group}/reset", c.action(c.resetGroup))
}

// ctx bounds one page's or one action's calls to the cluster.
func (c *Console) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), c.cfg.RequestTimeout)
}

// metadata is the cluster's metadata (brokers, controller, every topic);
// an error here means the cluster is unreachable. It asks the cluster
// every time: kadm would answer from the client's cache (up to
// MetadataMinAge old), and a page reloaded right after creating a topic
// would not show it. (kadm bypasses its cache only when asked for
// authorized operations, hence WithAuthorizedOps.)
func (c *Console) metadata(ctx context.Context) (kadm.Metadata, error) {
	m, err := clusterOf(ctx).adm.Metadata(kadm.WithAuthorizedOps(ctx))
	if err != nil {
		return m, fmt.Errorf("%w (%s): %v", ErrUnreachable, clusterOf(ctx).bootstrap(), err)
	}
	return m, nil
}

// health is the answer of GET /api/health.
type health struct {
	OK      bool     `json:"ok"`
	Brokers []string `json:"bootstrap"`
	Nodes   int      `json:"brokers"`
}

func (c *Console) apiHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	m, err := c.metadata(ctx)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, health{OK: true, Brokers: clusterOf(ctx).brokers, Nodes: len(m.Brokers)})
}

// actionFunc does one action (or, with cli set, only says the equivalent
// command) and returns what the API answers.
type actionFunc func(ctx context.Context, r *http.Request, cli bool) (actionResult, error)

// actionResult is the answer of an action: a message for the user, or the
// equivalent commands (cli.go): samsa's, and the same with Apache Kafka's
// kafka-*.sh tools when they can express it.
type actionResult struct {
	Message  string `json:"message,omitempty"`
	CLI      string `json:"cli,omitempty"`
	KafkaCLI string `json:"kafka_cli,omitempty"`
	Redirect string `json:"redirect,omitempty"` // the page to show next, if not the same
}

// action wraps an actionFunc: read-only check (a ?cli=1 preview is always
// allowed), body limit, timeout, JSON answer.
func (c *Console) action(f actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cli := r.URL.Query().Get("cli") == "1"
		if c.cfg.ReadOnly && !cli {
			c.fail(w, ErrReadOnly)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes)
		ctx, cancel := context.WithTimeout(r.Context(), 2*c.cfg.RequestTimeout)
		defer cancel()
		res, err := f(ctx, r, cli)
		if err != nil {
			c.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	return nil
}

// kafkaError is an error the broker returned, with its message when it
// sent one; its text is what the user sees.
type kafkaError struct {
	err error  // a *kerr.Error, usually
	msg string // the broker's ErrorMessage; may be empty
}

func (e *kafkaError) Error() string {
	var ke *kerr.Error
	if errors.As(e.err, &ke) {
		if e.msg != "" {
			return ke.Message + ": " + e.msg
		}
		return ke.Message + ": " + ke.Description
	}
	if e.msg != "" {
		return e.err.Error() + ": " + e.msg
	}
	return e.err.Error()
}

func (e *kafkaError) Unwrap() error { return e.err }

// brokerErr wraps a broker error and its message; nil stays nil.
func brokerErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	return &kafkaError{err: err, msg: msg}
}

// status is the HTTP status for err.
func status(err error) int {
	var ke *kerr.Error
	switch {
	case errors.Is(err, ErrUnreachable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrNotFound), errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.GroupIDNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrReadOnly):
		return http.StatusForbidden
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, kerr.TopicAlreadyExists), errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.As(err, &ke):
		return http.StatusUnprocessableEntity
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// apiError is the answer of a failed API call.
type apiError struct {
	Error       string `json:"error"`
	Unreachable bool   `json:"unreachable,omitempty"`
}

// fail answers err as JSON with its status.
func (c *Console) fail(w http.ResponseWriter, err error) {
	code := status(err)
	c.cfg.Logger.Debug("console request failed", "err", err, "status", code)
	writeJSON(w, code, apiError{Error: err.Error(), Unreachable: code == http.StatusServiceUnavailable})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the client went away if this fails; nothing to do
}

// page is what every template gets: the layout's fields and the page's
// own data.
type page struct {
	Title       string
	Nav         string   // brokers, topics or consumers: the highlighted tab
	Cluster     string   // the bootstrap addresses of the selected cluster
	ClusterName string   // its name
	Clusters    []string // every cluster's name, for the switcher
	ReadOnly    bool
	Unreachable string // non-empty: the cluster did not answer; why
	Error       string // non-empty: the page's data could not be gathered
	Data        any
}

// parsePages parses layout.html and partials.html with each page
// template. window bounds the ranges the chart pages offer.
func parsePages(window time.Duration) (map[string]*template.Template, error) {
	type rangeOpt struct{ Value, Label string }
	var ranges []rangeOpt
	for _, o := range []struct {
		d     time.Duration
		label string
	}{{time.Minute, "1 minute"}, {5 * time.Minute, "5 minutes"}, {10 * time.Minute, "10 minutes"}, {30 * time.Minute, "30 minutes"}, {time.Hour, "1 hour"}, {6 * time.Hour, "6 hours"}} {
		if o.d <= window {
			ranges = append(ranges, rangeOpt{o.d.String(), o.label})
		}
	}
	funcs := template.FuncMap{
		"bytes":   humanBytes,
		"add":     func(a, b int) int { return a + b },
		"color":   func(i int) int { return i % 8 },
		"join":    strings.Join,
		"timefmt": func(t time.Time) string { return t.Format("2006-01-02 15:04:05.000 MST") },
		"pathesc": url.PathEscape,
		// brokersFlag is what a samsa command in a page's hint needs to
		// reach the cluster: nothing for the CLI's default.
		"brokersFlag": func(bootstrap string) string {
			if bootstrap == defaultBrokers {
				return ""
			}
			return " --brokers " + shellQuote(bootstrap)
		},
		"ranges": func() []rangeOpt { return ranges },
		"card":   func(g Group, readOnly bool) groupCard { return groupCard{Group: g, ReadOnly: readOnly} },
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"brokers", "topics", "topic", "consumers", "group", "charts", "clusters"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// groupCard is what the "groupcard" template draws: a group, and whether
// its actions are hidden.
type groupCard struct {
	Group    Group
	ReadOnly bool
}

// render draws one page; err (if any) becomes the unreachable banner or
// the page's error, with the matching status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, p page, err error) {
	cur := clusterOf(r.Context())
	p.Cluster, p.ClusterName = cur.bootstrap(), cur.name
	for _, cl := range c.list() {
		p.Clusters = append(p.Clusters, cl.name)
	}
	p.ReadOnly = c.cfg.ReadOnly
	code := http.StatusOK
	if err != nil {
		code = status(err)
		if code == http.StatusServiceUnavailable {
			p.Unreachable = err.Error()
		} else {
			p.Error = err.Error()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := c.pages[name].Execute(w, p); err != nil {
		c.cfg.Logger.Error("render console page", "page", name, "err", err)
	}
}

// humanBytes writes n bytes as B, KiB, MiB ...
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		if f < 1024 {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f PiB", f/1024)
}
