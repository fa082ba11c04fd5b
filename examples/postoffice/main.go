// Command postoffice is the Kafka lab's post-office program (tasks 1–3): one
// producer sends a random letter per second to the topic post.office, and N
// consumers print every letter they receive:
//
//	Consumer 0: {"to": "Steve Jobs", "from": "KFYbPZO@gmail.com", "message": "..."} (key: None)
//
// The --mode flag picks the lab task:
//
//   - independent (task 1): every consumer is in a group of its own, so every
//     consumer receives every letter;
//   - group (task 2): all consumers share one group, so each letter is
//     received once; with 5 partitions at most 5 consumers are active and the
//     others wait to take over;
//   - keyed (task 3): like group, but each letter is keyed by its recipient,
//     so all letters to one person land on one partition and one consumer.
//
// A group that never consumed the topic starts with the letters produced
// after the program started; a group that did goes on where it left off. Ctrl-C stops the producer and the
// consumers cleanly; group members leave their group on the way out.
//
// It is a plain Kafka client (franz-go) and runs against Samsa or Apache
// Kafka alike:
//
//	go run ./examples/postoffice --mode group --consumers 7
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// config is what the flags say.
type config struct {
	mode       string  // independent, group or keyed
	consumers  int     // how many consumers to run
	brokers    string  // comma-separated seed brokers
	topic      string  // topic the letters go to
	group      string  // group of group and keyed mode; independent mode uses group-<run>-<i>
	rate       float64 // letters per second
	partitions int     // partitions of the topic if it has to be created
	count      int     // stop producing after this many letters; 0 = until Ctrl-C
}

func main() {
	cfg := config{}
	flag.StringVar(&cfg.mode, "mode", "independent", "lab task: independent (1), group (2) or keyed (3)")
	flag.IntVar(&cfg.consumers, "consumers", 3, "number of consumers")
	flag.StringVar(&cfg.brokers, "brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	flag.StringVar(&cfg.topic, "topic", "post.office", "topic to produce to and consume from")
	flag.StringVar(&cfg.group, "group", "post-office", "consumer group of the group and keyed modes")
	flag.Float64Var(&cfg.rate, "rate", 1, "letters produced per second")
	flag.IntVar(&cfg.partitions, "partitions", 5, "partitions of the topic, if it does not exist yet")
	flag.IntVar(&cfg.count, "count", 0, "stop producing after this many letters (0: until Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the program at once
		fmt.Println("SIGINT received. Stopping threads...")
	}()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "postoffice:", err)
		os.Exit(1)
	}
}

// validate checks the flags before anything connects.
func (c config) validate() error {
	switch {
	case c.mode != "independent" && c.mode != "group" && c.mode != "keyed":
		return fmt.Errorf("mode %q: want independent, group or keyed", c.mode)
	case c.consumers < 1:
		return fmt.Errorf("consumers %d: want at least 1", c.consumers)
	case c.rate <= 0:
		return fmt.Errorf("rate %v: want more than 0 letters per second", c.rate)
	case c.partitions < 1:
		return fmt.Errorf("partitions %d: want at least 1", c.partitions)
	case c.count < 0:
		return fmt.Errorf("count %d: want 0 (no limit) or more", c.count)
	}
	return nil
}

// run creates the topic if needed, then runs the producer and the consumers
// until ctx ends. Consumer output goes to out, what goes wrong to errOut.
func run(ctx context.Context, cfg config, out, errOut io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	seeds := strings.Split(cfg.brokers, ",")
	if err := ensureTopic(ctx, seeds, cfg.topic, cfg.partitions); err != nil {
		return err
	}
	runID := fmt.Sprintf("%06d", rand.IntN(1000000))
	groups := make([]string, cfg.consumers)
	for i := range groups {
		groups[i] = cfg.group
		if cfg.mode == "independent" {
			groups[i] = fmt.Sprintf("%s-%s-%d", cfg.group, runID, i)
		}
	}
	if err := startAtEnd(ctx, seeds, cfg.topic, groups); err != nil {
		return err
	}
	p := &printer{w: out, errw: errOut}

	var consumers []*kgo.Client
	defer func() {
		for _, cl := range consumers {
			cl.Close() // leaves the group
		}
		if cfg.mode == "independent" {
			// Each run of task 1 makes its own groups: remove them, so
			// they do not pile up on the console's Consumers page.
			dropGroups(seeds, groups)
		}
	}()
	for i := range cfg.consumers {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(seeds...),
			kgo.ConsumerGroup(groups[i]),
			kgo.ConsumeTopics(cfg.topic),
			// The name the console and kafka-consumer-groups show for
			// this member: "Consumer i" of the process with this pid.
			kgo.ClientID(fmt.Sprintf("consumer-%d-pid%d", i, os.Getpid())),
			// A rebalance waits until the letters we polled are printed,
			// and autocommit commits them before partitions move on, so
			// a letter is not printed twice by two members of one group.
			kgo.BlockRebalanceOnPoll(),
			// range, the default of Kafka's and librdkafka's consumers, so
			// these consumers and postoffice.py's can share a group.
			kgo.Balancers(kgo.RangeBalancer()),
		)
		if err != nil {
			return fmt.Errorf("consumer %d: %w", i, err)
		}
		consumers = append(consumers, cl)
	}

	// A producer that fails for good ends the whole program, with its error.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.consumers+1)
	for i, cl := range consumers {
		wg.Go(func() {
			if err := consume(ctx, i, cl, p); err != nil {
				errs <- err
			}
		})
	}
	wg.Go(func() {
		if err := produce(ctx, seeds, cfg); err != nil {
			p.errorf("%v: stopping\n", err)
			errs <- err
			cancel()
		}
	})
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// collect drains a closed error channel.
func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// ensureTopic creates the topic unless it exists.
func ensureTopic(ctx context.Context, seeds []string, topic string, partitions int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// startAtEnd commits the topic's current end offsets for every group that
// has no committed offset yet, so a new group starts with the letters
// produced from now on (and an old one where it left off). It runs before
// the producer starts, so no letter can slip between "now" and the start.
func startAtEnd(ctx context.Context, seeds []string, topic string, groups []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	for _, group := range slices.Compact(slices.Clone(groups)) {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = committed.Error()
		}
		if err != nil {
			return fmt.Errorf("committed offsets of group %s: %w", group, err)
		}
		fresh := kadm.Offsets{}
		ends.Each(func(o kadm.ListedOffset) {
			if c, ok := committed.Lookup(topic, o.Partition); !ok || c.At < 0 {
				fresh.Add(kadm.Offset{Topic: topic, Partition: o.Partition, At: o.Offset, LeaderEpoch: -1})
			}
		})
		if len(fresh) == 0 {
			continue
		}
		resp, err := adm.CommitOffsets(ctx, group, fresh)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("start group %s at the end of %s: %w", group, topic, err)
		}
	}
	return nil
}

// produce sends cfg.rate letters per second until ctx ends (or cfg.count
// letters were sent). It prints nothing, like the lab's producer thread.
func produce(ctx context.Context, seeds []string, cfg config) error {
	// Letters with a key go to the partition of the key's murmur2 hash (as
	// every Kafka client does); letters without one go round robin, so they
	// spread over the partitions one by one — like librdkafka's default for
	// keyless records in the lab's Python program. (franz-go's own default
	// would stick to one partition for 64 KiB of letters at a time.)
	partitioner := kgo.RoundRobinPartitioner()
	if cfg.mode == "keyed" {
		partitioner = kgo.StickyKeyPartitioner(nil)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(cfg.topic), kgo.RecordPartitioner(partitioner))
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer cl.Close()
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer tick.Stop()
	for sent := 0; cfg.count == 0 || sent < cfg.count; sent++ {
		l := randomLetter()
		rec := &kgo.Record{Value: l.encode()}
		if cfg.mode == "keyed" {
			rec.Key = []byte(l.To)
		}
		// Wait for the ack, or for Ctrl-C: with the broker down a record
		// waits for it indefinitely, and Close fails it.
		acked := make(chan error, 1)
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { acked <- err })
		select {
		case <-ctx.Done():
			return nil
		case err := <-acked:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("produce to %s: %w", cfg.topic, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// consume prints every letter consumer i receives until ctx ends.
func consume(ctx context.Context, i int, cl *kgo.Client, p *printer) error {
	defer cl.AllowRebalance()
	lastErr := ""
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		// Fetch errors are the broker going away or the group
		// rebalancing: the client retries by itself, so say what happened
		// (once, not on every poll) and keep polling. Only a closed
		// client ends the loop.
		var fatal error
		fs.EachError(func(topic string, partition int32, e error) {
			if errors.Is(e, kgo.ErrClientClosed) {
				fatal = e
				return
			}
			where := "" // group errors come without a partition
			if topic != "" {
				where = fmt.Sprintf(" %s/%d:", topic, partition)
			}
			if msg := e.Error(); msg != lastErr {
				lastErr = msg
				p.errorf("Consumer %d:%s %v (retrying)\n", i, where, e)
			}
		})
		if fs.Err() == nil {
			lastErr = "" // the next outage is reported again
		}
		if fatal != nil {
			return fmt.Errorf("consumer %d: %w", i, fatal)
		}
		fs.EachRecord(func(r *kgo.Record) {
			key := "None"
			if r.Key != nil {
				key = string(r.Key)
			}
			p.printf("Consumer %d: %s (key: %s)\n", i, r.Value, key)
		})
		cl.AllowRebalance()
	}
}

// printer serialises the consumers' lines; mu guards w and errw.
type printer struct {
	mu   sync.Mutex
	w    io.Writer // the letters
	errw io.Writer // what went wrong
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// errorf writes a line to stderr, not between the letters.
func (p *printer) errorf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.errw, format, args...)
}

// letter is one event on post.office.
type letter struct {
	To      string `json:"to"`
	From    string `json:"from"`
	Message string `json:"message"`
}

// encode writes the letter as Python's json.dumps does, so the Go and the
// Python program print the same lines.
func (l letter) encode() []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s) // a string always marshals
		return string(b)
	}
	return []byte(fmt.Sprintf(`{"to": %s, "from": %s, "message": %s}`, q(l.To), q(l.From), q(l.Message)))
}

var famous = []string{
	"Alan Turing", "Ada Lovelace", "Steve Jobs", "Grace Hopper", "Linus Torvalds",
	"Margaret Hamilton", "Dennis Ritchie", "Barbara Liskov", "Ken Thompson", "Edsger Dijkstra",
}

var messages = []string{
	"You are my role model",
	"We will have affordable prices, right?",
	"Thank you for the compiler",
	"Can I borrow your notes on lambda calculus?",
	"Is the log really the database?",
	"Please sign my copy of your paper",
	"I found a bug; it was a moth",
	"When is the next release?",
}

var domains = []string{"gmail.com", "yahoo.com", "outlook.com", "stud.acs.upb.ro"}

// randomLetter picks a recipient and a message and makes up a sender.
func randomLetter() letter {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var user [7]byte
	for i := range user {
		user[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return letter{
		To:      famous[rand.IntN(len(famous))],
		From:    string(user[:]) + "@" + domains[rand.IntN(len(domains))],
		Message: messages[rand.IntN(len(messages))],
	}
}

// dropGroups deletes groups (left by their members just before); a
// failure only means they stay until the broker expires them.
func dropGroups(seeds, groups []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	kadm.NewClient(cl).DeleteGroups(ctx, groups...)
}
