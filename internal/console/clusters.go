package console

// The Clusters page: the clusters the console knows (the one it started
// with and those added since, at most Config.MaxClusters; with
// Config.StateFile the added ones are saved there, see state.go), checking
// a bootstrap address before adding it, and which cluster a request is
// about.
//
// A request selects its cluster with ?cluster=NAME (which also sets the
// samsa_cluster cookie, so the pages and the API calls that follow stay on
// it) or, without the parameter, with that cookie; with neither, or a
// cookie naming a cluster since removed, it gets the startup cluster.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clusterCookie remembers the selected cluster between requests.
const clusterCookie = "samsa_cluster"

// cluster is one cluster the console talks to.
type cluster struct {
	name    string
	brokers []string
	startup bool         // the cluster the console started with; cannot be removed
	cl      *kgo.Client  // shared by every admin call and produce
	adm     *kadm.Client // wraps cl
}

// newCluster makes the client of a cluster; it does not connect yet.
func newCluster(cfg Config, name string, brokers []string, startup bool) (*cluster, error) {
	cl, err := kgo.NewClient(clientOpts(cfg, brokers,
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(2*cfg.RequestTimeout),
	)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client for cluster %s: %w", name, err)
	}
	return &cluster{name: name, brokers: brokers, startup: startup, cl: cl, adm: kadm.NewClient(cl)}, nil
}

// bootstrap is the cluster's bootstrap addresses, comma-separated.
func (c *cluster) bootstrap() string { return strings.Join(c.brokers, ",") }

type clusterKey struct{}

// withCluster makes ctx carry the selected cluster.
func withCluster(ctx context.Context, cl *cluster) context.Context {
	return context.WithValue(ctx, clusterKey{}, cl)
}

// clusterOf is the cluster ServeHTTP selected for this request.
func clusterOf(ctx context.Context) *cluster {
	return ctx.Value(clusterKey{}).(*cluster)
}

// validClusterName says whether name may name a cluster: 1-64 letters,
// digits, '.', '_' or '-' (it goes into URLs and a cookie).
func validClusterName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) < 0
}

// checkBrokers reports the first address that is not HOST:PORT.
func checkBrokers(brokers []string) error {
	if len(brokers) == 0 {
		return errors.New("no brokers given")
	}
	for _, b := range brokers {
		if i := strings.LastIndex(b, ":"); i <= 0 || i == len(b)-1 {
			return fmt.Errorf("broker %q: give HOST:PORT", b)
		}
	}
	return nil
}

// list is a copy of the clusters, the startup one first.
func (c *Console) list() []*cluster {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]*cluster(nil), c.clusters...)
}

// find is the cluster called name, or nil.
func (c *Console) find(name string) *cluster {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.findLocked(name)
}

// findLocked is find with c.mu held.
func (c *Console) findLocked(name string) *cluster {
	for _, cl := range c.clusters {
		if cl.name == name {
			return cl
		}
	}
	return nil
}

// selectCluster is the cluster r is about: ?cluster= (remembered in the
// cookie), else the cookie's, else the startup cluster. An unknown
// ?cluster= is an error; a stale cookie is not.
func (c *Console) selectCluster(w http.ResponseWriter, r *http.Request) (*cluster, error) {
	if name := r.URL.Query().Get("cluster"); name != "" {
		cl := c.find(name)
		if cl == nil {
			return nil, fmt.Errorf("cluster %q: %w", name, ErrNotFound)
		}
		http.SetCookie(w, &http.Cookie{Name: clusterCookie, Value: name, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return cl, nil
	}
	if ck, err := r.Cookie(clusterCookie); err == nil {
		if cl := c.find(ck.Value); cl != nil {
			return cl, nil
		}
	}
	return c.list()[0], nil
}

// ClusterInfo is one row of the Clusters page and GET /api/clusters.
type ClusterInfo struct {
	Name      string   `json:"name"`
	Bootstrap []string `json:"bootstrap"`
	Startup   bool     `json:"startup"`  // the cluster the console started with
	Selected  bool     `json:"selected"` // the cluster this request is about
}

// clustersView is the Clusters page and GET /api/clusters.
type clustersView struct {
	Clusters  []ClusterInfo `json:"clusters"`
	Max       int           `json:"max_clusters"`
	StateFile string        `json:"state_file,omitempty"` // where added clusters are saved; empty: in memory only
}

func (c *Console) clustersView(ctx context.Context) clustersView {
	cur := clusterOf(ctx)
	v := clustersView{Max: c.cfg.MaxClusters, StateFile: c.cfg.StateFile}
	for _, cl := range c.list() {
		v.Clusters = append(v.Clusters, ClusterInfo{Name: cl.name, Bootstrap: cl.brokers, Startup: cl.startup, Selected: cl == cur})
	}
	return v
}

func (c *Console) apiClusters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.clustersView(r.Context()))
}

func (c *Console) pageClusters(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "clusters", page{Title: "Clusters", Nav: "clusters", Data: c.clustersView(r.Context())}, nil)
}

// clusterRequest is the body of POST /api/clusters and
// POST /api/clusters/validate: a host and port, as kafka-ui's form asks
// for them (the lab's first step), and/or Bootstrap, HOST:PORT[,HOST:PORT...].
type clusterRequest struct {
	Name      string `json:"name"`
	Host      string `json:"host,omitempty"`
	Port      int    `json:"port,omitempty"` // with Host; 0 means 9092
	Bootstrap string `json:"bootstrap,omitempty"`
}

// brokers parses Bootstrap; name is checked too when withName is set.
func (q clusterRequest) brokers(withName bool) ([]string, error) {
	if withName && !validClusterName(q.Name) {
		return nil, fmt.Errorf("%w: cluster name %q: use 1-64 letters, digits, '.', '_' or '-'", ErrBadRequest, q.Name)
	}
	var bs []string
	if h := strings.TrimSpace(q.Host); h != "" {
		if strings.Contains(h, "://") {
			return nil, fmt.Errorf("%w: host %q: give the host name alone, without %s", ErrBadRequest, h, h[:strings.Index(h, "://")+3])
		}
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1] // an IPv6 address in brackets: [::1] is ::1
		} else if _, _, err := net.SplitHostPort(h); err == nil {
			return nil, fmt.Errorf("%w: host %q has a port: give the host alone and the port in Port", ErrBadRequest, h)
		}
		port := q.Port
		if port == 0 {
			port = 9092
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("%w: port %d: give 1-65535 (Kafka's is 9092)", ErrBadRequest, q.Port)
		}
		bs = append(bs, net.JoinHostPort(h, strconv.Itoa(port)))
	}
	if strings.TrimSpace(q.Host) == "" && q.Port != 0 {
		return nil, fmt.Errorf("%w: port %d without a host: give the host too (127.0.0.1 for this machine)", ErrBadRequest, q.Port)
	}
	for b := range strings.SplitSeq(q.Bootstrap, ",") {
		if b = strings.TrimSpace(b); b != "" {
			bs = append(bs, b)
		}
	}
	if err := checkBrokers(bs); err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %v", ErrBadRequest, err)
	}
	return bs, nil
}

// validation is the answer of POST /api/clusters/validate.
type validation struct {
	Message   string `json:"message"`
	Brokers   int    `json:"brokers"`
	ClusterID string `json:"cluster_id"`
}

// clusterAction wraps the handlers that change the console's list of
// clusters (or, for validate, dial a new one): refused by a read-only
// console, body limit, timeout, JSON answer. They have no CLI equivalent.
func (c *Console) clusterAction(f func(ctx context.Context, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.cfg.ReadOnly {
			c.fail(w, ErrReadOnly)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes)
		ctx, cancel := context.WithTimeout(r.Context(), 2*c.cfg.RequestTimeout)
		defer cancel()
		res, err := f(ctx, r)
		if err != nil {
			c.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// validateCluster connects to the bootstrap address with a client of its
// own and asks for metadata, within Config.RequestTimeout.
func (c *Console) validateCluster(ctx context.Context, r *http.Request) (any, error) {
	var req clusterRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	bs, err := req.brokers(false)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(clientOpts(c.cfg, bs)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	m, err := kadm.NewClient(cl).Metadata(ctx)
	if err != nil {
		hint := unresolvedHint(err, bs, c.list()[0].bootstrap())
		if hint == "" {
			hint = fmt.Sprintf(". This console's own cluster is at %s", c.list()[0].bootstrap())
		}
		return nil, fmt.Errorf("%w (%s): %v%s", ErrUnreachable, strings.Join(bs, ","), err, hint)
	}
	return validation{
		Message:   fmt.Sprintf("Configuration is valid: connected to %d broker(s), cluster id %s", len(m.Brokers), m.Cluster),
		Brokers:   len(m.Brokers),
		ClusterID: m.Cluster,
	}, nil
}

// addCluster adds a cluster to the list and saves the list (state.go);
// if the save fails, the cluster is not added. It does not connect: a
// cluster that is down can be added and shows as unreachable.
func (c *Console) addCluster(_ context.Context, r *http.Request) (any, error) {
	var req clusterRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	bs, err := req.brokers(true)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.findLocked(req.Name) != nil {
		return nil, fmt.Errorf("add cluster %s: %w", req.Name, ErrExists)
	}
	switch {
	case c.closed:
		return nil, errors.New("add cluster: the console is closed")
	case len(c.clusters) >= c.cfg.MaxClusters:
		return nil, fmt.Errorf("%w: add cluster %s: the console keeps at most %d clusters", ErrBadRequest, req.Name, c.cfg.MaxClusters)
	}
	cl, err := newCluster(c.cfg, req.Name, bs, false)
	if err != nil {
		return nil, err
	}
	c.clusters = append(c.clusters, cl)
	if err := c.changeLocked(func() { c.clusters = c.clusters[:len(c.clusters)-1] }); err != nil {
		cl.cl.Close()
		return nil, fmt.Errorf("add cluster %s: not added: %w", req.Name, err)
	}
	c.cfg.Logger.Info("console cluster added", "name", req.Name, "bootstrap", cl.bootstrap())
	// Show the new cluster's brokers next, as kafka-ui does after Submit.
	return actionResult{Message: fmt.Sprintf("Added cluster %s (%s).", req.Name, cl.bootstrap()),
		Redirect: "/brokers?cluster=" + url.QueryEscape(req.Name)}, nil
}

// removeCluster forgets a cluster (not the startup one), saves the list
// and closes the cluster's client; requests still running on it fail. If
// the save fails, the cluster stays.
func (c *Console) removeCluster(_ context.Context, r *http.Request) (any, error) {
	name := r.PathValue("name")
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, cl := range c.clusters {
		if cl.name != name {
			continue
		}
		if cl.startup {
			return nil, fmt.Errorf("%w: remove cluster %s: the console started with it", ErrBadRequest, name)
		}
		c.clusters = slices.Delete(c.clusters, i, i+1)
		if err := c.changeLocked(func() { c.clusters = slices.Insert(c.clusters, i, cl) }); err != nil {
			return nil, fmt.Errorf("remove cluster %s: not removed: %w", name, err)
		}
		cl.cl.Close()
		c.cfg.Logger.Info("console cluster removed", "name", name)
		return actionResult{Message: "Removed cluster " + name + "."}, nil
	}
	return nil, fmt.Errorf("remove cluster %s: %w", name, ErrNotFound)
}

// unresolvedHint explains a bootstrap host that does not resolve (err is
// the failed call's error): most often the lab's "kafka", the name of its
// Docker container, where Samsa runs on this machine, at own (the
// console's startup cluster). Any DNS failure counts, a timeout too: the
// name did not resolve either way, and the hint says only that.
func unresolvedHint(err error, brokers []string, own string) string {
	var dnsErr *net.DNSError
	host := ""
	if errors.As(err, &dnsErr) {
		host = dnsErr.Name
	} else {
		// kgo may not wrap its dial error: look the names up ourselves,
		// briefly (the call's own deadline has passed by now).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for _, b := range brokers {
			h, _, serr := net.SplitHostPort(b)
			if serr != nil || net.ParseIP(h) != nil {
				continue
			}
			if _, lerr := net.DefaultResolver.LookupHost(ctx, h); errors.As(lerr, &dnsErr) {
				host = h
				break
			}
		}
	}
	if host == "" {
		return ""
	}
	return fmt.Sprintf(". Host %q does not resolve: a Kafka in Docker is known by its container's name only inside Docker; `samsa serve` runs on this machine (this console's own cluster is at %s)", host, own)
}
