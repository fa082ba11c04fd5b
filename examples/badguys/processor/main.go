// Command processor is the worker half of the Kafka lab's bad-guys service
// (task 4). It is a consumer in the group bad-guy-processors: start several
// and Kafka splits the topic's partitions between them, so each request is
// worked on by one processor.
//
// For each request on bad-guy-requests it
//
//  1. counts the attempt in the database (a second attempt is a redelivery:
//     an earlier processor took the request and stopped before finishing);
//  2. works --work-time (the lab's "few seconds of thinking");
//  3. decides a verdict per character with the rule in verdict;
//  4. in one database transaction stores the result and marks the request
//     done, unless it is done already (then it logs the redelivery and
//     changes nothing);
//  5. only then commits the message's offset to Kafka.
//
// A crash between 1 and 5 means the offset is not committed, so the request
// is delivered again, to this processor after a restart or to another one
// after the group rebalances: at-least-once delivery. Step 4 makes the
// second processing harmless: the verdict rule is deterministic and the
// result is written once. A message that cannot be parsed is copied to
// bad-guy-requests.dlq with the reason in the header "reason" and committed,
// so one bad message cannot stop the line.
//
//	go run ./examples/badguys/processor --db bad-guy.db --work-time 3s
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

func main() {
	host, _ := os.Hostname()
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	dbPath := flag.String("db", "bad-guy.db", "SQLite database file shared with the api")
	topic := flag.String("topic", "bad-guy-requests", "topic to consume requests from")
	dlq := flag.String("dlq", "bad-guy-requests.dlq", "dead-letter topic for messages that cannot be parsed")
	group := flag.String("group", "bad-guy-processors", "consumer group")
	workTime := flag.Duration("work-time", 3*time.Second, "time spent on each request")
	session := flag.Duration("session-timeout", 10*time.Second, "how long the group waits for a silent processor before giving its partitions to others")
	name := flag.String("name", fmt.Sprintf("%s-%d", host, os.Getpid()), "name of this processor in logs and results")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("processor", *name)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &processor{log: log, name: *name, workTime: *workTime, dlq: *dlq}
	if err := p.run(ctx, *brokers, *dbPath, *topic, *group, *session); err != nil {
		log.Error("processor stopped", "err", err)
		os.Exit(1)
	}
	log.Info("processor stopped")
}

// processor works one request at a time; its fields are set before run and
// only read after.
type processor struct {
	log      *slog.Logger
	name     string
	workTime time.Duration
	dlq      string
	db       *sql.DB
	kafka    *kgo.Client
}

func (p *processor) run(ctx context.Context, brokers, dbPath, topic, group string, session time.Duration) error {
	db, err := openDB(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	p.db = db

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ClientID(p.name), // the console and kafka-consumer-groups show it per member
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), // we commit after the database transaction
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(session),
		kgo.HeartbeatInterval(session/3),
		kgo.AllowAutoTopicCreation(), // the dead-letter topic
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close() // leaves the group, so others take over at once
	defer cl.AllowRebalance()
	p.kafka = cl
	p.log.Info("processor started", "topic", topic, "group", group, "work_time", p.workTime)

	for {
		// One record at a time: a rebalance waits at most one request.
		fs := cl.PollRecords(ctx, 1)
		if ctx.Err() != nil {
			return nil
		}
		var fetchErr error
		fs.EachError(func(t string, part int32, err error) {
			fetchErr = errors.Join(fetchErr, fmt.Errorf("fetch %s/%d: %w", t, part, err))
		})
		if fetchErr != nil {
			return fetchErr
		}
		for _, rec := range fs.Records() {
			if err := p.handle(ctx, rec); err != nil {
				if ctx.Err() != nil {
					// Stopped mid-request: no commit, the request will be
					// delivered again.
					p.log.Info("stopping mid-request; it will be redelivered", "partition", rec.Partition, "offset", rec.Offset)
					return nil
				}
				return err
			}
			// The result is in the database: commit even if we are being
			// stopped right now, or the request is delivered again for nothing.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := cl.CommitRecords(cctx, rec)
			cancel()
			if err != nil {
				return fmt.Errorf("commit %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
			}
		}
		cl.AllowRebalance()
	}
}

// openDB opens the shared database (the same tables as the api creates).
// _txlock=immediate: a transaction takes the write lock when it begins, so
// concurrent processors queue on the busy timeout instead of failing.
func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	const schema = `
CREATE TABLE IF NOT EXISTS requests (
	request_id TEXT PRIMARY KEY,
	story      TEXT NOT NULL,
	characters TEXT NOT NULL,
	status     TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL DEFAULT (datetime('now')),
	updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS results (
	request_id   TEXT PRIMARY KEY REFERENCES requests(request_id),
	bad_guys     TEXT NOT NULL,
	processed_by TEXT NOT NULL,
	processed_at TEXT NOT NULL DEFAULT (datetime('now'))
);`
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create tables in %s: %w", path, err)
	}
	return db, nil
}

// request is the message on bad-guy-requests.
type request struct {
	RequestID  string   `json:"request_id"`
	Story      string   `json:"story"`
	Characters []string `json:"characters"`
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// parse decodes and checks a message; the error is the dead-letter reason.
func parse(value []byte) (request, error) {
	var req request
	if err := json.Unmarshal(value, &req); err != nil {
		return req, fmt.Errorf("not a JSON request: %w", err)
	}
	switch {
	case !uuidRE.MatchString(req.RequestID):
		return req, fmt.Errorf("request_id %q is not a UUID", req.RequestID)
	case strings.TrimSpace(req.Story) == "":
		return req, errors.New("story is empty")
	case len(req.Characters) == 0:
		return req, errors.New("characters is empty")
	}
	for _, c := range req.Characters {
		if strings.TrimSpace(c) == "" {
			return req, errors.New("characters has an empty name")
		}
	}
	return req, nil
}

// handle processes one message. It returns an error only when the message
// must not be committed.
func (p *processor) handle(ctx context.Context, rec *kgo.Record) error {
	req, err := parse(rec.Value)
	if err != nil {
		return p.deadLetter(ctx, rec, err.Error())
	}
	log := p.log.With("request_id", req.RequestID, "partition", rec.Partition, "offset", rec.Offset)

	attempt, status, err := p.start(ctx, req)
	if err != nil {
		return err
	}
	if status == "done" {
		log.Info("redelivery: request already done, nothing to do", "attempt", attempt)
		return nil
	}
	if attempt > 1 {
		log.Info("redelivery: an earlier attempt did not finish, processing it again", "attempt", attempt)
	}
	log.Info("processing request", "characters", len(req.Characters), "attempt", attempt)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(p.workTime):
	}

	verdicts := make(map[string]string, len(req.Characters))
	for _, c := range req.Characters {
		verdicts[c] = verdict(req.Story, c)
	}
	done, err := p.finish(ctx, req.RequestID, verdicts)
	if err != nil {
		return err
	}
	if !done {
		log.Info("redelivery: another processor finished the request first; result kept", "attempt", attempt)
		return nil
	}
	log.Info("processed request", "bad_guys", verdicts)
	return nil
}

// start counts an attempt on the request and returns the attempt number and
// the request's status. A request the api never stored (a student produced
// it by hand) is stored now.
func (p *processor) start(ctx context.Context, req request) (attempt int, status string, err error) {
	chars, _ := json.Marshal(req.Characters) // []string always marshals
	err = p.db.QueryRowContext(ctx, `
INSERT INTO requests (request_id, story, characters, status, attempts) VALUES (?, ?, ?, 'in_progress', 1)
ON CONFLICT (request_id) DO UPDATE SET attempts = attempts + 1
RETURNING attempts, status`, req.RequestID, req.Story, string(chars)).Scan(&attempt, &status)
	if err != nil {
		return 0, "", fmt.Errorf("count attempt on %s: %w", req.RequestID, err)
	}
	return attempt, status, nil
}

// finish stores the verdicts and marks the request done in one transaction.
// It reports false, and changes nothing, if the request was done already.
func (p *processor) finish(ctx context.Context, id string, verdicts map[string]string) (bool, error) {
	badGuys, _ := json.Marshal(verdicts) // map[string]string always marshals
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin transaction for %s: %w", id, err)
	}
	defer tx.Rollback() // after Commit: does nothing
	res, err := tx.ExecContext(ctx, `UPDATE requests SET status = 'done', updated_at = datetime('now') WHERE request_id = ? AND status != 'done'`, id)
	if err != nil {
		return false, fmt.Errorf("mark %s done: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO results (request_id, bad_guys, processed_by) VALUES (?, ?, ?)`, id, string(badGuys), p.name); err != nil {
		return false, fmt.Errorf("store result of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit result of %s: %w", id, err)
	}
	return true, nil
}

// deadLetter copies a message that cannot be processed to the dead-letter
// topic, with why in the header "reason" and where it came from in
// "original.topic", "original.partition" and "original.offset".
func (p *processor) deadLetter(ctx context.Context, rec *kgo.Record, reason string) error {
	dl := &kgo.Record{
		Topic: p.dlq,
		Key:   rec.Key,
		Value: rec.Value,
		Headers: append(append([]kgo.RecordHeader(nil), rec.Headers...),
			kgo.RecordHeader{Key: "reason", Value: []byte(reason)},
			kgo.RecordHeader{Key: "original.topic", Value: []byte(rec.Topic)},
			kgo.RecordHeader{Key: "original.partition", Value: []byte(strconv.Itoa(int(rec.Partition)))},
			kgo.RecordHeader{Key: "original.offset", Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		),
	}
	if err := p.kafka.ProduceSync(ctx, dl).FirstErr(); err != nil {
		return fmt.Errorf("dead-letter %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	p.log.Warn("message sent to the dead-letter topic", "dlq", p.dlq, "partition", rec.Partition, "offset", rec.Offset, "reason", reason)
	return nil
}

// villainWords make a name sound bad: each one found in a name adds to its
// score.
var villainWords = []string{"darth", "lord", "dark", "evil", "doctor", "dr.", "joker", "voldemort", "sauron", "vader", "emperor", "count", "baron", "king", "queen", "witch", "sith"}

// verdict is the rule that decides whether a character is a bad guy. It is
// deterministic, so a redelivered request gets the same answer:
//
//   - every villain word in the name (Darth, Lord, Evil, ...) adds 40;
//   - a name the story mentions adds 10 (suspicious!);
//   - fate adds 0-59: a hash of the story and the name, so the same name can
//     be a hero in one story and a villain in another.
//
// A score of 90 or more is ULTIMATE_BAD_GUY, 50 or more BAD_GUY, the rest
// NOT_BAD_GUY.
func verdict(story, name string) string {
	lname := strings.ToLower(name)
	score := 0
	for _, w := range villainWords {
		if strings.Contains(lname, w) {
			score += 40
		}
	}
	if strings.Contains(strings.ToLower(story), lname) {
		score += 10
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(story) + "\x00" + lname))
	score += int(h.Sum32() % 60)
	switch {
	case score >= 90:
		return "ULTIMATE_BAD_GUY"
	case score >= 50:
		return "BAD_GUY"
	default:
		return "NOT_BAD_GUY"
	}
}
