package meta

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestRaftLoggerLevelsAndArgs(t *testing.T) {
	var buf bytes.Buffer
	l := newRaftLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	for _, tc := range []struct {
		name string
		log  func()
		want string // "" means nothing is written at Info
	}{
		{"info becomes debug", func() { l.Info("entering leader state") }, ""},
		{"warn stays warn", func() { l.Warn("failed to contact", "server-id", 2) }, `level=WARN msg="failed to contact" component=raft server-id=2`},
		{"election start is info", func() { l.Warn(electionStart) }, `level=INFO msg="heartbeat timeout reached, starting election" component=raft`},
		{"error with format and name", func() {
			l.Named("snapshot").With("k", 1).Error("failed", "servers", hclog.Fmt("%d-%s", 3, "x"))
		}, `level=ERROR msg="snapshot: failed" component=raft k=1 servers=3-x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			tc.log()
			if got := strings.TrimSpace(buf.String()); (tc.want == "" && got != "") || !strings.Contains(got, tc.want) {
				t.Errorf("wrote %q, want %q", got, tc.want)
			}
		})
	}
	if l.IsDebug() || !l.IsWarn() || l.GetLevel() != hclog.Warn {
		t.Errorf("IsDebug %v IsWarn %v GetLevel %v", l.IsDebug(), l.IsWarn(), l.GetLevel())
	}
}
