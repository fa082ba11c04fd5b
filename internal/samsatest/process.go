package samsatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyMsg is the message `samsa serve` logs once its listener accepts
// connections; the line carries the advertised address as addr.
const readyMsg = "samsa broker ready"

// Timeouts for a child broker: how long it may take to become ready, and how
// long a stop may take before the test gives up and kills it.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// binary is the samsa binary built once per test process by BuildBinary.
var binary struct {
	once sync.Once
	dir  string // temporary directory holding the binary; "" until built
	path string
	err  error
}

// BuildBinary builds ./cmd/samsa once per test process (the first caller
// pays for the build, later callers reuse it) and returns the binary's path.
// The module root is found with `go env GOMOD`, so it works from any package
// directory. Call RemoveBinary from TestMain after m.Run to delete it.
func BuildBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		binary.path, binary.err = buildBinary()
	})
	if binary.err != nil {
		t.Fatalf("build samsa: %v", binary.err)
	}
	return binary.path
}

func buildBinary() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	dir, err := os.MkdirTemp("", "samsa-bin-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	binary.dir = dir
	path := filepath.Join(dir, "samsa")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/samsa")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/samsa: %w\n%s", err, out)
	}
	return path, nil
}

// RemoveBinary deletes the binary BuildBinary made, if any. Call it from
// TestMain once every test has finished.
func RemoveBinary() {
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
}

// Process is a `samsa serve` child process. Its methods are for the test
// goroutine only. Cleanup kills it (by its PID) if it is still running and,
// when the test failed, logs everything it wrote to stderr.
type Process struct {
	t       testing.TB
	bin     string
	dataDir string
	args    []string // extra serve flags, as given to StartProcess
	addr    string   // host:port from the ready line

	cmd    *exec.Cmd
	stderr *logBuffer
	done   chan struct{} // closed once the process has exited and its stderr is drained
	err    error         // cmd.Wait's result; read only after done is closed
}

// StartProcess runs `bin serve --listen 127.0.0.1:0 --data-dir dataDir
// args...`, waits (up to 30s) for the ready line on stderr and parses the
// broker's address from it. Later flags in args override earlier ones, so
// args may carry its own --listen.
func StartProcess(t testing.TB, bin, dataDir string, args ...string) *Process {
	t.Helper()
	p := &Process{
		t:       t,
		bin:     bin,
		dataDir: dataDir,
		args:    args,
		stderr:  &logBuffer{ready: make(chan string, 1)},
		done:    make(chan struct{}),
	}
	argv := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	p.cmd = exec.Command(bin, argv...)
	p.cmd.Stderr = p.stderr
	p.cmd.Env = childEnv()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("samsa (pid %d, %s) stderr:\n%s", p.cmd.Process.Pid, strings.Join(argv, " "), p.Log())
		}
	})
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case p.addr = <-p.stderr.ready:
		return p
	case <-p.done:
		t.Fatalf("samsa exited before it was ready: %v (its stderr follows)", p.err)
	case <-timer.C:
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("samsa not ready after %v; killed it (its stderr follows)", readyTimeout)
	}
	return nil
}

// childEnv is the test's environment without SAMSA_* variables, so a
// developer's settings cannot change what the flags say.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SAMSA_") {
			env = append(env, kv)
		}
	}
	return env
}

// Addr is the broker's Kafka address (host:port) from its ready line.
func (p *Process) Addr() string { return p.addr }

// DataDir is the data directory the process was started with.
func (p *Process) DataDir() string { return p.dataDir }

// PID is the operating-system process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Log returns everything the process wrote to stderr so far.
func (p *Process) Log() string { return p.stderr.String() }

// running reports whether the process has not exited yet.
func (p *Process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit: a crash, as far as
// the broker can tell. Killing an exited process does nothing.
func (p *Process) Kill() {
	p.t.Helper()
	if !p.running() {
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("kill samsa pid %d: %v", p.PID(), err)
	}
	<-p.done
}

// Stop sends SIGTERM, waits up to 30s for the process to exit and fails the
// test unless it exited with status 0.
func (p *Process) Stop() {
	p.t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("stop samsa: %v", err)
	}
	if code := p.Wait(stopTimeout); code != 0 {
		p.t.Fatalf("samsa pid %d exited with status %d after SIGTERM: %v (its stderr follows)", p.PID(), code, p.err)
	}
}

// Signal sends sig to the process (by its PID).
func (p *Process) Signal(sig os.Signal) error {
	if !p.running() {
		return fmt.Errorf("signal samsa pid %d: %w", p.PID(), os.ErrProcessDone)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal samsa pid %d: %w", p.PID(), err)
	}
	return nil
}

// Wait waits up to timeout for the process to exit and returns its exit
// status (-1 when a signal killed it). On timeout it kills the process and
// fails the test.
func (p *Process) Wait(timeout time.Duration) int {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("samsa pid %d still running after %v; killed it (its stderr follows)", p.PID(), timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// Restart stops the process if it is still running (cleanly, with Stop) and
// starts a new one with the same binary, data directory and flags, listening
// on the same address so clients seeded with Addr reconnect by themselves.
func (p *Process) Restart() *Process {
	p.t.Helper()
	if p.running() {
		p.Stop()
	}
	args := append(append([]string(nil), p.args...), "--listen", p.addr)
	np := StartProcess(p.t, p.bin, p.dataDir, args...)
	np.args = p.args
	return np
}

// LogLine returns the first line of the process's stderr that contains every
// one of parts, or "" if there is none yet.
func (p *Process) LogLine(parts ...string) string {
	for _, line := range strings.Split(p.Log(), "\n") {
		ok := true
		for _, part := range parts {
			if !strings.Contains(line, part) {
				ok = false
				break
			}
		}
		if ok && line != "" {
			return line
		}
	}
	return ""
}

// logBuffer collects a child's stderr and reports the address of its ready
// line, in text (msg="samsa broker ready" addr=H:P) or JSON form. The exec
// package's copying goroutine writes; tests read.
type logBuffer struct {
	mu      sync.Mutex   // guards the fields below
	buf     bytes.Buffer // everything written
	scanned int          // bytes of buf already checked for the ready line
	ready   chan string  // cap 1: receives the address once
	sent    bool
}

var textAddr = regexp.MustCompile(`(?:^|\s)addr=(\S+)`)

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	for !b.sent {
		rest := b.buf.Bytes()[b.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		b.scanned += i + 1
		if addr := readyAddr(string(rest[:i])); addr != "" {
			b.ready <- addr
			b.sent = true
		}
	}
	return len(p), nil
}

// readyAddr returns the address from a ready line, "" for other lines.
func readyAddr(line string) string {
	if !strings.Contains(line, readyMsg) {
		return ""
	}
	if strings.HasPrefix(line, "{") {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == readyMsg {
			return rec.Addr
		}
		return ""
	}
	if !strings.Contains(line, `msg="`+readyMsg+`"`) {
		return ""
	}
	if m := textAddr.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
