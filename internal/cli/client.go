package cli

// Connecting to brokers: the global flags every samsa-style command shares,
// the client options every command uses, and the errors that say what to do
// when a broker cannot be reached or a topic is missing.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Errors callers branch on.
var (
	// errUnreachable: no broker answered within pingTimeout.
	errUnreachable = errors.New("cannot reach")
	// errTopicNotFound: the topic does not exist.
	errTopicNotFound = errors.New("topic not found")
	// errGroupNotFound: the group does not exist.
	errGroupNotFound = errors.New("group not found")
)

// brokersEnv names the environment variable that sets --brokers.
const brokersEnv = "SAMSA_BROKERS"

// defaultBrokers is where `samsa serve` listens by default.
const defaultBrokers = "127.0.0.1:9092"

// Timeouts of every CLI client: a dead address fails within seconds
// instead of kgo retrying for ever.
const (
	dialTimeout  = 3 * time.Second
	pingTimeout  = 5 * time.Second
	retryTimeout = 15 * time.Second
	// requestTimeout bounds one admin call (a metadata request, a create).
	requestTimeout = 30 * time.Second
)

// globalOptions are the flags every samsa-style command has.
type globalOptions struct {
	brokers string   // --brokers, comma separated; "" until resolved
	props   []string // -X key=value
	output  string   // --output: table or json
}

// addGlobalFlags registers the global flags on cmd as persistent flags, so
// its subcommands have them too.
func addGlobalFlags(cmd *cobra.Command, g *globalOptions) {
	fs := cmd.PersistentFlags()
	fs.StringVarP(&g.brokers, "brokers", "b", "", "bootstrap brokers HOST:PORT[,HOST:PORT...] (env "+brokersEnv+"; default "+defaultBrokers+")")
	fs.StringArrayVarP(&g.props, "client-property", "X", nil, "client setting key=value: brokers (or bootstrap.servers), client.id")
	fs.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
}

// connOptions says how to reach the cluster.
type connOptions struct {
	brokers  []string
	clientID string
}

// resolve turns the global flags into connection options: --brokers, then
// -X brokers=, then SAMSA_BROKERS, then the default.
func (g *globalOptions) resolve() (connOptions, error) {
	if g.output != "table" && g.output != "json" {
		return connOptions{}, usagef("--output %q: use table or json", g.output)
	}
	c := connOptions{clientID: "samsa-cli"}
	brokers := g.brokers
	for _, p := range g.props {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return connOptions{}, usagef("-X %q: use key=value", p)
		}
		switch strings.TrimSpace(k) {
		case "brokers", "bootstrap.servers", "metadata.broker.list":
			if brokers == "" {
				brokers = v
			}
		case "client.id":
			c.clientID = v
		default:
			return connOptions{}, usagef("-X %s: not supported; use brokers, bootstrap.servers or client.id", k)
		}
	}
	var err error
	c.brokers, err = brokerList(brokers)
	return c, err
}

// brokerList splits a comma-separated broker list; an empty one falls back
// to SAMSA_BROKERS and then to the default.
func brokerList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		s = os.Getenv(brokersEnv)
	}
	if strings.TrimSpace(s) == "" {
		s = defaultBrokers
	}
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if !strings.Contains(b, ":") {
			return nil, usagef("broker %q: give HOST:PORT", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, usagef("no brokers given: use HOST:PORT[,HOST:PORT...]")
	}
	return out, nil
}

// clientOpts are the kgo options every CLI client starts from.
func (c connOptions) clientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.ClientID(c.clientID),
		kgo.DialTimeout(dialTimeout),
		kgo.RetryTimeout(retryTimeout),
		// Each CLI run is short; a topic it just created must be seen at once.
		kgo.MetadataMinAge(100 * time.Millisecond),
	}
}

// connect makes a client with the common options plus opts and checks that
// a broker answers. The caller closes the client.
func (c connOptions) connect(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(c.clientOpts(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreachable(c.brokers, err)
	}
	return cl, nil
}

// admin connects and wraps the client for admin requests. Closing the
// kadm client closes the kgo client.
func (c connOptions) admin(ctx context.Context) (*kadm.Client, error) {
	cl, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// admin resolves the global options and connects an admin client.
func (g *globalOptions) admin(ctx context.Context) (*kadm.Client, error) {
	conn, err := g.resolve()
	if err != nil {
		return nil, err
	}
	return conn.admin(ctx)
}

// unreachable says what to do when no broker answers.
func unreachable(brokers []string, cause error) error {
	lab := ""
	for _, b := range brokers {
		if strings.HasSuffix(b, ":19092") {
			// The lab's text uses localhost:19092, the port its Docker
			// setup gave Kafka.
			lab = " (19092 is the port of the lab's Kafka in Docker)"
		}
	}
	return fmt.Errorf("%w %s: is `samsa serve` running? It listens on 127.0.0.1:9092 unless started with --listen%s; set --bootstrap-server/--brokers to its address\n(%w)",
		errUnreachable, strings.Join(brokers, ","), lab, cause)
}

// hintError is an error of a kind callers branch on (a sentinel) whose
// text tells the user what to do instead of repeating the kind.
type hintError struct {
	kind error
	msg  string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.kind }

// hintf makes a hintError of kind.
func hintf(kind error, format string, a ...any) error {
	return &hintError{kind: kind, msg: fmt.Sprintf(format, a...)}
}

// topicNotFound says what to do about a missing topic.
func topicNotFound(topic string) error {
	return hintf(errTopicNotFound, "topic %q not found; see: samsa topic list", topic)
}

// topicDetail returns the metadata of one topic, or an error wrapping
// errTopicNotFound.
func topicDetail(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("describe topic %q: %w", topic, err)
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return kadm.TopicDetail{}, topicNotFound(topic)
	}
	if td.Err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("describe topic %q: %w", topic, td.Err)
	}
	return td, nil
}

// kafkaErrText is the text a Kafka tool prints for a broker error: the
// broker's message when it sent one, otherwise the code's description.
func kafkaErrText(err error, msg string) string {
	if msg != "" {
		return msg
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Description
	}
	return err.Error()
}

// withTimeout bounds one admin call.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, requestTimeout)
}
