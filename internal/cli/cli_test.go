package cli

// Helpers for the tests that run the samsa binary as a user would: under
// its own name or under Kafka's script names (symbolic links in a
// temporary directory), against a broker started in the test process.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	samsatest.RemoveBinary()
	os.Exit(code)
}

// cmdTimeout bounds every command a test runs to completion.
const cmdTimeout = 60 * time.Second

// scriptDir links Kafka's script names to the samsa binary in a temporary
// directory and returns the directory.
func scriptDir(t *testing.T) string {
	t.Helper()
	bin := samsatest.BuildBinary(t)
	dir := t.TempDir()
	for _, name := range kafkaScriptNames() {
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// result is what a finished command printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// runIn runs program (a path) with args and stdin, with the environment
// cleared of SAMSA_* plus env, and waits for it.
func runIn(t *testing.T, env []string, stdin string, program string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
	default:
		t.Fatalf("run %s %v: %v", program, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %v; stderr:\n%s", program, args, cmdTimeout, errb.String())
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// samsa runs the samsa binary.
func samsa(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, nil, stdin, samsatest.BuildBinary(t), args...)
}

// script runs one of Kafka's scripts (by its link in dir).
func script(t *testing.T, dir, name, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, nil, stdin, filepath.Join(dir, name), args...)
}

// cleanEnv is the test's environment without SAMSA_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SAMSA_") {
			env = append(env, kv)
		}
	}
	return env
}

// mustOK fails the test unless r exited 0.
func mustOK(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

// proc is a command running in the background, such as a console
// consumer. Cleanup kills it (by its PID) if the test did not wait for it.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *samsatest.Buffer
	done           chan struct{} // closed when the process has exited
	err            error         // Wait's result; read after done
}

// start runs program in the background.
func start(t *testing.T, program string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stdout: &samsatest.Buffer{}, stderr: &samsatest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(program, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", program, err)
	}
	p.watch()
	return p
}

// watch waits for the process in the background and registers cleanup.
func (p *proc) watch() {
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	p.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if p.t.Failed() {
			p.t.Logf("%v stdout:\n%s\nstderr:\n%s", p.cmd.Args, p.stdout, p.stderr)
		}
	})
}

// interrupt sends SIGINT, as Ctrl-C in a shell does.
func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatalf("interrupt %v: %v", p.cmd.Args, err)
	}
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(cmdTimeout):
		p.t.Fatalf("%v still running after %v", p.cmd.Args, cmdTimeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// produceValues produces values (no key) to topic and waits for the acks.
func produceValues(t *testing.T, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	ctx := samsatest.Context(t, 30*time.Second)
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
}

// lines splits output into lines, without the trailing empty one.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
