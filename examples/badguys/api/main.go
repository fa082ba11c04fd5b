// Command api is the HTTP half of the Kafka lab's bad-guys service (task 4).
// It accepts work and hands it to the processors through a topic, so a
// request is answered at once however slow or busy the processors are:
//
//	POST /bad-guys  {"story": "...", "characters": ["Darth Vader", "Yoda"]}
//	  -> 202 {"request_id": "<uuid>", "status": "in_progress"}
//	GET  /bad-guys?request_id=<uuid>
//	  -> 200 the stored request; once a processor is done with it,
//	     "status": "done" and "bad_guys": {name: verdict}
//
// POST checks the body (400 with a message when it is not a JSON object with
// a non-empty "story" string and a non-empty "characters" list of non-empty
// strings, or when it is larger than 64 KiB), stores the request as
// in_progress in SQLite, and publishes it to bad-guy-requests keyed by its
// id with acks=all. Only then does it answer 202: an accepted request is on
// disk in the database and in the log. GET answers 404 for an unknown id and
// 400 for one that is not a UUID.
//
// At start it creates the topic if it is missing (the lab's init step). The
// database file is shared with the processors: WAL mode lets them read while
// one writes, and a busy timeout makes writers wait for each other.
//
//	go run ./examples/badguys/api --db bad-guy.db
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Limits on what a client may send.
const (
	maxBodyBytes     = 64 << 10
	maxCharacters    = 100
	maxCharacterName = 200
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	dbPath := flag.String("db", "bad-guy.db", "SQLite database file shared with the processors")
	listen := flag.String("listen", "127.0.0.1:5000", "HTTP listen address")
	topic := flag.String("topic", "bad-guy-requests", "topic the requests are published to")
	partitions := flag.Int("partitions", 3, "partitions of the topic, if it has to be created")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *brokers, *dbPath, *listen, *topic, *partitions); err != nil {
		log.Error("api stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, brokers, dbPath, listen, topic string, partitions int) error {
	db, err := openDB(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if err := createTopic(ctx, cl, topic, partitions); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	a := &api{db: db, kafka: cl, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bad-guys", a.submit)
	mux.HandleFunc("GET /bad-guys", a.get)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("api listening", "addr", ln.Addr().String(), "topic", topic, "db", dbPath)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("api stopped")
	return nil
}

// openDB opens the shared database and creates the tables if needed. The
// processors create the same tables, so either may start first.
func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	const schema = `
CREATE TABLE IF NOT EXISTS requests (
	request_id TEXT PRIMARY KEY,
	story      TEXT NOT NULL,
	characters TEXT NOT NULL, -- JSON list of names
	status     TEXT NOT NULL, -- in_progress or done
	attempts   INTEGER NOT NULL DEFAULT 0, -- times a processor started on it
	created_at TEXT NOT NULL DEFAULT (datetime('now')),
	updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS results (
	request_id   TEXT PRIMARY KEY REFERENCES requests(request_id),
	bad_guys     TEXT NOT NULL, -- JSON object: name -> verdict
	processed_by TEXT NOT NULL,
	processed_at TEXT NOT NULL DEFAULT (datetime('now'))
);`
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create tables in %s: %w", path, err)
	}
	return db, nil
}

// createTopic creates the requests topic unless it exists.
func createTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int) error {
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// api holds what the handlers share; all of it is safe for concurrent use.
type api struct {
	db    *sql.DB
	kafka *kgo.Client
	log   *slog.Logger
}

// request is the message on bad-guy-requests.
type request struct {
	RequestID  string   `json:"request_id"`
	Story      string   `json:"story"`
	Characters []string `json:"characters"`
}

// submit is POST /bad-guys.
func (a *api) submit(w http.ResponseWriter, r *http.Request) {
	req, msg := parseBody(w, r)
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
		return
	}
	req.RequestID = newUUID()
	chars, _ := json.Marshal(req.Characters) // a []string always marshals
	if _, err := a.db.ExecContext(r.Context(),
		`INSERT INTO requests (request_id, story, characters, status) VALUES (?, ?, ?, 'in_progress')`,
		req.RequestID, req.Story, string(chars)); err != nil {
		a.log.Error("store request", "request_id", req.RequestID, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot store the request"})
		return
	}
	value, _ := json.Marshal(req) // strings only: always marshals
	rec := &kgo.Record{Key: []byte(req.RequestID), Value: value}
	if err := a.kafka.ProduceSync(r.Context(), rec).FirstErr(); err != nil {
		// Not published means not accepted: forget it, the client may retry.
		a.log.Error("publish request", "request_id", req.RequestID, "err", err)
		if _, derr := a.db.ExecContext(context.WithoutCancel(r.Context()), `DELETE FROM requests WHERE request_id = ?`, req.RequestID); derr != nil {
			a.log.Error("forget unpublished request", "request_id", req.RequestID, "err", derr)
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "cannot publish the request; try again"})
		return
	}
	a.log.Debug("accepted request", "request_id", req.RequestID, "partition", rec.Partition, "offset", rec.Offset)
	writeJSON(w, http.StatusAccepted, map[string]string{"request_id": req.RequestID, "status": "in_progress"})
}

// parseBody decodes and checks a POST body; msg is the 400 message, "" if
// the body is good.
func parseBody(w http.ResponseWriter, r *http.Request) (req request, msg string) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, fmt.Sprintf("body is larger than %d bytes", maxBodyBytes)
		}
		return req, "body must be a JSON object with \"story\" and \"characters\""
	}
	if dec.More() {
		return req, "body must hold one JSON object"
	}
	raw, ok := body["story"]
	if !ok {
		return req, "missing \"story\""
	}
	if json.Unmarshal(raw, &req.Story) != nil {
		return req, "\"story\" must be a string"
	}
	if strings.TrimSpace(req.Story) == "" {
		return req, "\"story\" must not be empty"
	}
	raw, ok = body["characters"]
	if !ok {
		return req, "missing \"characters\""
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || list == nil {
		return req, "\"characters\" must be a list of names"
	}
	if len(list) == 0 {
		return req, "\"characters\" must not be empty"
	}
	if len(list) > maxCharacters {
		return req, fmt.Sprintf("\"characters\" has %d names, at most %d allowed", len(list), maxCharacters)
	}
	seen := make(map[string]bool)
	for i, item := range list {
		var name string
		if json.Unmarshal(item, &name) != nil {
			return req, fmt.Sprintf("\"characters\"[%d] must be a string", i)
		}
		switch name = strings.TrimSpace(name); {
		case name == "":
			return req, fmt.Sprintf("\"characters\"[%d] must not be empty", i)
		case len(name) > maxCharacterName:
			return req, fmt.Sprintf("\"characters\"[%d] is longer than %d bytes", i, maxCharacterName)
		case seen[name]:
			return req, fmt.Sprintf("\"characters\" names %q twice", name)
		}
		seen[name] = true
		req.Characters = append(req.Characters, name)
	}
	return req, ""
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// get is GET /bad-guys?request_id=.
func (a *api) get(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.URL.Query().Get("request_id"))
	if !uuidRE.MatchString(id) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "request_id must be a UUID like 550e8400-e29b-41d4-a716-446655440000"})
		return
	}
	var (
		story, chars, status, created, updated string
		badGuys                                sql.NullString
	)
	err := a.db.QueryRowContext(r.Context(), `
SELECT q.story, q.characters, q.status, q.created_at, q.updated_at, r.bad_guys
FROM requests q LEFT JOIN results r ON r.request_id = q.request_id
WHERE q.request_id = ?`, id).Scan(&story, &chars, &status, &created, &updated, &badGuys)
	if errors.Is(err, sql.ErrNoRows) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no request with id " + id})
		return
	}
	if err != nil {
		a.log.Error("read request", "request_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot read the request"})
		return
	}
	resp := map[string]any{
		"request_id": id,
		"story":      story,
		"characters": json.RawMessage(chars),
		"status":     status,
		"created_at": created,
		"updated_at": updated,
	}
	if status == "done" && badGuys.Valid {
		resp["bad_guys"] = json.RawMessage(badGuys.String)
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the client may be gone; nothing to do about it
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
