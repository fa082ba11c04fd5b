package cli

import (
	"errors"
	"testing"
	"time"
)

func TestParseDateTimeAcceptsKafkasFormats(t *testing.T) {
	utc := time.Date(2024, 5, 1, 12, 30, 45, 123e6, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-05-01T12:30:45.123Z", utc},
		{"2024-05-01T12:30:45.123+02:00", utc.Add(-2 * time.Hour)},
		{"2024-05-01T12:30:45.123+0200", utc.Add(-2 * time.Hour)},
		{"2024-05-01T12:30:45Z", utc.Truncate(time.Second)},
		{"2024-05-01T12:30:45.123", time.Date(2024, 5, 1, 12, 30, 45, 123e6, time.Local)},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.Local)},
	}
	for _, tt := range tests {
		got, err := parseDateTime(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseDateTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseDateTime("yesterday"); ExitCode(err) != exitUsage {
		t.Errorf("parseDateTime(yesterday) err = %v, want a usage error", err)
	}
}

func TestParseDurationAcceptsISOAndGo(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"PT1H", time.Hour},
		{"P1DT2H", 26 * time.Hour},
		{"PT30M", 30 * time.Minute},
		{"PT1.5S", 1500 * time.Millisecond},
		{"P2D", 48 * time.Hour},
		{"pt10m", 10 * time.Minute},
		{"90m", 90 * time.Minute},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"P", "PT", "-1h", "soon"} {
		if _, err := parseDuration(bad); ExitCode(err) != exitUsage {
			t.Errorf("parseDuration(%q) err = %v, want a usage error", bad, err)
		}
	}
}

func TestAssignmentStringGroupsByTopic(t *testing.T) {
	got := assignmentString([]topicPartition{{"a", 0}, {"a", 2}, {"b", 1}})
	if got != "a:0,2;b:1" {
		t.Errorf("got %q", got)
	}
	if assignmentString(nil) != "" {
		t.Error("empty assignment not empty")
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usagef("bad flag"), 2},
		{errors.Join(errors.New("x"), usagef("bad")), 2},
		{errors.New(`unknown command "x" for "samsa"`), 2},
		{topicNotFound("t"), 1},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if !errors.Is(topicNotFound("t"), errTopicNotFound) {
		t.Error("topicNotFound is not errTopicNotFound")
	}
}
