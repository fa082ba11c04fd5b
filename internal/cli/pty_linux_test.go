package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// ptyProc is a command running on a pseudo-terminal, as in a shell
// window: its stdin, stdout and stderr are the terminal, it leads its own
// session with the terminal as controlling tty, so typing Ctrl-C sends it
// SIGINT.
type ptyProc struct {
	*proc
	master *os.File
	copied chan struct{} // closed when everything the child wrote is in stdout
}

// startPTY runs program on a new pseudo-terminal. Everything it writes is
// collected in stdout (the terminal mixes stdout and stderr).
func startPTY(t *testing.T, program string, args ...string) *ptyProc {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no pseudo-terminals in CI: %v", err)
		}
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		master.Close()
		t.Fatalf("pty number: %v", err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open pty slave: %v", err)
	}
	p := &proc{t: t, stdout: &samsatest.Buffer{}, stderr: &samsatest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(program, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		slave.Close()
		master.Close()
		t.Fatalf("start %s on a pty: %v", program, err)
	}
	slave.Close() // the child has its own copies
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// Reading fails with EIO once the child has exited and closed
		// the terminal; that ends the copy.
		if _, err := io.Copy(p.stdout, master); err != nil && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
			t.Logf("read pty: %v", err)
		}
	}()
	// Registered before watch, so it runs after watch's cleanup has
	// stopped the child.
	t.Cleanup(func() {
		master.Close()
		<-copied
	})
	p.watch()
	return &ptyProc{proc: p, master: master, copied: copied}
}

// wait waits for the child to exit, then until everything it wrote to
// the terminal has been read into stdout, and returns its exit code.
func (p *ptyProc) wait() int {
	p.t.Helper()
	code := p.proc.wait()
	select {
	case <-p.copied:
	case <-time.After(cmdTimeout):
		p.t.Fatalf("%v: terminal output not drained after %v", p.cmd.Args, cmdTimeout)
	}
	return code
}

// typeText writes s to the terminal as if typed.
func (p *ptyProc) typeText(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("type %q: %v", s, err)
	}
}
