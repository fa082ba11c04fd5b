package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// buildExample builds ./examples/<pkg> into dir and returns the binary.
func buildExample(t *testing.T, dir, pkg string) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, "./examples/"+pkg)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", pkg, err, out)
	}
	return bin
}

// child is an example program running as a process.
type child struct {
	name string
	cmd  *exec.Cmd
	log  *samsatest.Buffer
	done chan struct{} // closed when it has exited
}

// startChild starts bin with args; cleanup kills it if it still runs and
// logs its stderr when the test failed.
func startChild(t *testing.T, name, bin string, args ...string) *child {
	t.Helper()
	c := &child{name: name, cmd: exec.Command(bin, args...), log: &samsatest.Buffer{}, done: make(chan struct{})}
	c.cmd.Stderr = c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("%s (pid %d) stderr:\n%s", name, c.cmd.Process.Pid, clip(c.log.String()))
		}
	})
	return c
}

// kill sends SIGKILL (by pid) and waits for the exit.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop sends SIGTERM and fails unless it exits with status 0 within 30s.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30s after SIGTERM", c.name)
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with status %d after SIGTERM", c.name, code)
	}
}

// count returns how many lines of its log contain every part.
func (c *child) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(c.log.String(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			n++
		}
	}
	return n
}

// badGuysLab is a broker, the api and the processors of the bad-guys service.
type badGuysLab struct {
	t         *testing.T
	broker    *samsatest.Broker
	api       string // base URL
	apiBin    string
	procBin   string
	db        string
	procs     []*child
	processed int // processors started so far, for names
}

func startBadGuysLab(t *testing.T) *badGuysLab {
	t.Helper()
	dir := t.TempDir()
	lab := &badGuysLab{
		t: t,
		broker: samsatest.Start(t, func(c *broker.Config) {
			c.Group.MinSessionTimeout = 500 * time.Millisecond
			c.Group.InitialRebalanceDelay = 100 * time.Millisecond
		}),
		apiBin:  buildExample(t, dir, "badguys/api"),
		procBin: buildExample(t, dir, "badguys/processor"),
		db:      filepath.Join(dir, "bad-guy.db"),
	}
	api := startChild(t, "api", lab.apiBin, "--brokers", lab.broker.Addr, "--db", lab.db, "--listen", "127.0.0.1:0")
	addrRE := regexp.MustCompile(`msg="api listening" addr=(\S+)`)
	samsatest.Eventually(t, 30*time.Second, "the api's listening line", func() bool {
		select {
		case <-api.done:
			t.Fatalf("api exited: %s", api.log.String())
		default:
		}
		if m := addrRE.FindStringSubmatch(api.log.String()); m != nil {
			lab.api = "http://" + m[1]
			return true
		}
		return false
	})
	return lab
}

// startProcessor starts one more processor.
func (l *badGuysLab) startProcessor(workTime string) *child {
	l.processed++
	name := fmt.Sprintf("proc-%d", l.processed)
	p := startChild(l.t, name, l.procBin, "--brokers", l.broker.Addr, "--db", l.db,
		"--work-time", workTime, "--session-timeout", "1s", "--name", name)
	l.procs = append(l.procs, p)
	return p
}

// post sends body to POST /bad-guys and returns the status and JSON answer.
func (l *badGuysLab) post(body string) (int, map[string]any) {
	l.t.Helper()
	resp, err := http.Post(l.api+"/bad-guys", "application/json", strings.NewReader(body))
	if err != nil {
		l.t.Fatalf("POST /bad-guys: %v", err)
	}
	return decodeAnswer(l.t, resp)
}

// get asks GET /bad-guys?request_id=id.
func (l *badGuysLab) get(id string) (int, map[string]any) {
	l.t.Helper()
	resp, err := http.Get(l.api + "/bad-guys?request_id=" + id)
	if err != nil {
		l.t.Fatalf("GET /bad-guys: %v", err)
	}
	return decodeAnswer(l.t, resp)
}

func decodeAnswer(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, out
}

// submit posts a valid request and returns its id.
func (l *badGuysLab) submit(story string, chars []string) string {
	l.t.Helper()
	body, _ := json.Marshal(map[string]any{"story": story, "characters": chars})
	code, ans := l.post(string(body))
	id, _ := ans["request_id"].(string)
	if code != http.StatusAccepted || ans["status"] != "in_progress" || id == "" {
		l.t.Fatalf("POST %s: %d %v, want 202 with a request_id and in_progress", body, code, ans)
	}
	return id
}

// waitDone polls until every id is done and returns the verdicts by id.
func (l *badGuysLab) waitDone(ids []string) map[string]map[string]string {
	l.t.Helper()
	out := make(map[string]map[string]string)
	samsatest.Eventually(l.t, 60*time.Second, fmt.Sprintf("%d requests done", len(ids)), func() bool {
		for _, id := range ids {
			if _, ok := out[id]; ok {
				continue
			}
			code, ans := l.get(id)
			if code != http.StatusOK {
				l.t.Fatalf("GET %s: %d %v", id, code, ans)
			}
			if ans["status"] != "done" {
				return false
			}
			raw, _ := json.Marshal(ans["bad_guys"])
			var v map[string]string
			if err := json.Unmarshal(raw, &v); err != nil {
				l.t.Fatalf("GET %s: bad_guys %s: %v", id, raw, err)
			}
			out[id] = v
		}
		return true
	})
	return out
}

// processedCount is how many processors logged finishing request id.
func (l *badGuysLab) processedCount(id string) int {
	n := 0
	for _, p := range l.procs {
		n += p.count(`msg="processed request"`, "request_id="+id)
	}
	return n
}

var stories = []string{
	"In a galaxy far, far away, Darth Vader hunts the rebels.",
	"A boy wizard goes to school and Lord Voldemort returns.",
	"Gotham sleeps while the Joker plans a heist.",
	"Frodo carries a ring to a mountain.",
}

var casts = [][]string{
	{"Darth Vader", "Luke Skywalker", "Yoda"},
	{"Harry Potter", "Lord Voldemort", "Severus Snape", "Hermione Granger"},
	{"Batman", "The Joker", "Alfred"},
	{"Frodo", "Sauron", "Gollum", "Samwise"},
}

// TestBadGuysLab is the lab's task 4 end to end: the api and processors as
// processes against a broker, over HTTP and Kafka, with a crash and a poison
// message.
func TestBadGuysLab(t *testing.T) {
	lab := startBadGuysLab(t)

	t.Run("bad requests", func(t *testing.T) {
		tests := []struct {
			name, body string
			want       string // in the error message
		}{
			{"not JSON", `story please`, "JSON object"},
			{"JSON list", `["Yoda"]`, "JSON object"},
			{"missing story", `{"characters": ["Yoda"]}`, `missing "story"`},
			{"story not a string", `{"story": 7, "characters": ["Yoda"]}`, `"story" must be a string`},
			{"empty story", `{"story": "  ", "characters": ["Yoda"]}`, `"story" must not be empty`},
			{"missing characters", `{"story": "s"}`, `missing "characters"`},
			{"characters not a list", `{"story": "s", "characters": "Yoda"}`, "list of names"},
			{"empty characters", `{"story": "s", "characters": []}`, "must not be empty"},
			{"non-string character", `{"story": "s", "characters": ["Yoda", 3]}`, `"characters"[1] must be a string`},
			{"empty character", `{"story": "s", "characters": [""]}`, `"characters"[0] must not be empty`},
			{"oversized body", `{"story": "` + strings.Repeat("x", 70<<10) + `", "characters": ["Yoda"]}`, "larger than"},
		}
		for _, tt := range tests {
			code, ans := lab.post(tt.body)
			msg, _ := ans["error"].(string)
			if code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
				t.Errorf("%s: %d %v, want 400 with an error containing %q", tt.name, code, ans, tt.want)
			}
		}
		if code, ans := lab.get("550e8400-e29b-41d4-a716-446655440000"); code != http.StatusNotFound || ans["error"] == nil {
			t.Errorf("GET unknown id: %d %v, want 404 with an error", code, ans)
		}
		for _, id := range []string{"42", "not-a-uuid", ""} {
			if code, ans := lab.get(id); code != http.StatusBadRequest || ans["error"] == nil {
				t.Errorf("GET id %q: %d %v, want 400 with an error", id, code, ans)
			}
		}
	})

	// Accepted while no processor runs: intake does not wait for processing.
	early := lab.submit(stories[0], casts[0])
	if code, ans := lab.get(early); code != http.StatusOK || ans["status"] != "in_progress" || ans["bad_guys"] != nil || ans["created_at"] == nil {
		t.Fatalf("GET %s before any processor: %d %v, want 200 in_progress without bad_guys", early, code, ans)
	}

	for range 3 {
		lab.startProcessor("200ms")
	}
	ids := []string{early}
	storyOf := map[string]int{early: 0}
	for i := 1; i < 50; i++ {
		id := lab.submit(stories[i%len(stories)], casts[i%len(casts)])
		ids = append(ids, id)
		storyOf[id] = i % len(stories)
	}
	verdicts := lab.waitDone(ids)

	// Each request has one verdict per character, and the rule is
	// deterministic: one story and name, one verdict.
	byStoryName := make(map[string]string)
	for _, id := range ids {
		s := storyOf[id]
		if len(verdicts[id]) != len(casts[s]) {
			t.Errorf("request %s: verdicts %v, want one for each of %v", id, verdicts[id], casts[s])
		}
		for _, name := range casts[s] {
			v := verdicts[id][name]
			if v != "ULTIMATE_BAD_GUY" && v != "BAD_GUY" && v != "NOT_BAD_GUY" {
				t.Errorf("request %s: verdict for %s is %q", id, name, v)
			}
			k := stories[s] + "|" + name
			if prev, ok := byStoryName[k]; ok && prev != v {
				t.Errorf("%s in story %d: verdicts %s and %s, want one", name, s, prev, v)
			}
			byStoryName[k] = v
		}
	}
	// Each request processed exactly once: one processed line across all
	// processors, one result row.
	active := 0
	for _, p := range lab.procs {
		if p.count(`msg="processed request"`) > 0 {
			active++
		}
	}
	for _, id := range ids {
		if n := lab.processedCount(id); n != 1 {
			t.Errorf("request %s processed %d times, want once", id, n)
		}
	}
	if active < 2 {
		t.Errorf("%d of 3 processors did any work, want the group to share it", active)
	}
	db, err := sql.Open("sqlite", "file:"+lab.db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	resultRows := func(id string) int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM results WHERE request_id = ?`, id).Scan(&n); err != nil {
			t.Fatalf("count results of %s: %v", id, err)
		}
		return n
	}
	for _, id := range ids {
		if n := resultRows(id); n != 1 {
			t.Errorf("request %s has %d result rows, want 1", id, n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Crash: stop the fast processors, start a slow one, kill -9 it while it
	// works on a request, start another: the request is redelivered and
	// completed once with the same verdicts as before.
	for _, p := range lab.procs {
		p.stop(t)
	}
	slow := lab.startProcessor("1h")
	crashed := lab.submit(stories[0], casts[0])
	samsatest.Eventually(t, 30*time.Second, "the slow processor to take the request", func() bool {
		return slow.count(`msg="processing request"`, "request_id="+crashed) > 0
	})
	slow.kill()
	if code, ans := lab.get(crashed); code != http.StatusOK || ans["status"] != "in_progress" {
		t.Fatalf("GET %s after the crash: %d %v, want in_progress", crashed, code, ans)
	}
	next := lab.startProcessor("200ms")
	got := lab.waitDone([]string{crashed})[crashed]
	for name, v := range verdicts[early] {
		if got[name] != v {
			t.Errorf("redelivered request: %s is %s, want %s as for the same story before", name, got[name], v)
		}
	}
	if n := next.count("redelivery", "request_id="+crashed, "attempt=2"); n != 1 {
		t.Errorf("the new processor logged %d redelivery lines for %s, want 1", n, crashed)
	}
	if n := lab.processedCount(crashed); n != 1 {
		t.Errorf("crashed request processed %d times, want once", n)
	}
	if n := resultRows(crashed); n != 1 {
		t.Errorf("crashed request has %d result rows, want 1", n)
	}

	// Poison: garbage on the topic goes to the dead-letter topic with a
	// reason, and the next request is still processed.
	cl := lab.broker.Client()
	poison := &kgo.Record{Topic: "bad-guy-requests", Key: []byte("poison"), Value: []byte("this is not a request")}
	if err := cl.ProduceSync(samsatest.Context(t, 10*time.Second), poison).FirstErr(); err != nil {
		t.Fatalf("produce poison: %v", err)
	}
	after := lab.submit(stories[1], casts[1])
	lab.waitDone([]string{after})
	dlq := lab.broker.Client(kgo.ConsumeTopics("bad-guy-requests.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := samsatest.Context(t, 30*time.Second)
	var dead *kgo.Record
	for dead == nil {
		fs := dlq.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no record on bad-guy-requests.dlq within 30s")
		}
		if recs := fs.Records(); len(recs) > 0 {
			dead = recs[0]
		}
	}
	headers := make(map[string]string)
	for _, h := range dead.Headers {
		headers[h.Key] = string(h.Value)
	}
	if string(dead.Value) != string(poison.Value) || string(dead.Key) != "poison" || !strings.Contains(headers["reason"], "not a JSON request") || headers["original.topic"] != "bad-guy-requests" {
		t.Errorf("dead letter key %q value %q headers %v, want the poison message with a reason", dead.Key, dead.Value, headers)
	}
	next.stop(t)
	if os.Getenv("SAMSA_TEST_LOG") == "1" {
		t.Logf("processor log:\n%s", next.log.String())
	}
}
