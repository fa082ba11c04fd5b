package meta

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// raftLogger passes hashicorp/raft's hclog output to our slog logger. Raft
// narrates every election and snapshot at Info, and a single node starting
// up is not news, so its Info and below become Debug; its Warn and Error
// keep their level, except electionStart. Every line carries
// component=raft.
//
// It holds no mutable state: With and Named return new values.
type raftLogger struct {
	logger *slog.Logger
	name   string
	args   []any
}

var _ hclog.Logger = (*raftLogger)(nil)

func newRaftLogger(l *slog.Logger) *raftLogger {
	return &raftLogger{logger: l.With("component", "raft")}
}

// electionStart is raft's Warn when a follower hears from no leader. On a
// single voter it is every start, so it is logged as the lifecycle event
// it is, at Info.
const electionStart = "heartbeat timeout reached, starting election"

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelDebug
}

// Log emits one line; hclog's args are alternating keys and values like
// slog's.
func (l *raftLogger) Log(level hclog.Level, msg string, args ...any) {
	lv := slogLevel(level)
	if msg == electionStart {
		lv = slog.LevelInfo
	}
	ctx := context.Background()
	if !l.logger.Enabled(ctx, lv) {
		return
	}
	if l.name != "" {
		msg = l.name + ": " + msg
	}
	all := make([]any, 0, len(l.args)+len(args))
	all = append(all, l.args...)
	for i, a := range args {
		// hclog lets values be hclog.Format (printf-style); render them.
		if f, ok := a.(hclog.Format); ok && i%2 == 1 && len(f) > 0 {
			if s, ok := f[0].(string); ok {
				a = fmt.Sprintf(s, f[1:]...)
			}
		}
		all = append(all, a)
	}
	l.logger.Log(ctx, lv, msg, all...)
}

func (l *raftLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *raftLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *raftLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *raftLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *raftLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *raftLogger) enabled(level hclog.Level) bool {
	return l.logger.Enabled(context.Background(), slogLevel(level))
}

func (l *raftLogger) IsTrace() bool { return l.enabled(hclog.Trace) }
func (l *raftLogger) IsDebug() bool { return l.enabled(hclog.Debug) }
func (l *raftLogger) IsInfo() bool  { return l.enabled(hclog.Info) }
func (l *raftLogger) IsWarn() bool  { return l.enabled(hclog.Warn) }
func (l *raftLogger) IsError() bool { return l.enabled(hclog.Error) }

func (l *raftLogger) ImpliedArgs() []any { return append([]any(nil), l.args...) }

func (l *raftLogger) With(args ...any) hclog.Logger {
	n := *l
	n.args = append(append([]any(nil), l.args...), args...)
	return &n
}

func (l *raftLogger) Name() string { return l.name }

func (l *raftLogger) Named(name string) hclog.Logger {
	n := *l
	if n.name != "" {
		name = n.name + "." + name
	}
	n.name = name
	return &n
}

func (l *raftLogger) ResetNamed(name string) hclog.Logger {
	n := *l
	n.name = name
	return &n
}

// SetLevel does nothing: the slog handler decides what is emitted.
func (l *raftLogger) SetLevel(hclog.Level) {}

// GetLevel reports the most verbose hclog level the handler emits.
func (l *raftLogger) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Warn, hclog.Error} {
		if l.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

func (l *raftLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *raftLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return stdWriter{l}
}

// stdWriter turns lines written through the standard library's log
// package into Warn lines (raft only uses it for transport errors).
type stdWriter struct{ l *raftLogger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}
