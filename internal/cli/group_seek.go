package cli

// `samsa group seek GROUP`: reset a group's committed offsets (to the
// earliest or latest offset, a time, a shift, or an explicit offset). As
// Kafka's --reset-offsets, it only previews unless --execute is given, and
// refuses while the group has live members. The planning here also serves
// kafka-consumer-groups --reset-offsets.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// errGroupActive: the group has live members, so its offsets stay.
var errGroupActive = errors.New("group has live members")

// resetKind is where a reset moves offsets to.
type resetKind int

const (
	resetEarliest resetKind = iota
	resetLatest
	resetToOffset // offset
	resetShiftBy  // committed + offset
	resetToTime   // the first offset at or after at
	resetCurrent  // the committed offset (end without one)
)

// resetScenario is one reset: its kind and its argument.
type resetScenario struct {
	kind   resetKind
	offset int64     // resetToOffset: the offset; resetShiftBy: the shift
	at     time.Time // resetToTime
}

// resetScope selects partitions: those the group has committed offsets for
// (no topics), or the listed topics ("t" for all partitions of t, "t:0,2"
// for some).
type resetScope struct {
	topics []string
}

// resetRow is one partition of a reset plan.
type resetRow struct {
	Group     string `json:"group"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Current   int64  `json:"current"` // committed before; -1 for none
	New       int64  `json:"new"`
}

// scopePartitions resolves a scope to partitions, with the committed
// offsets of the group.
func scopePartitions(ctx context.Context, adm *kadm.Client, scope resetScope, committed kadm.OffsetResponses) ([]topicPartition, error) {
	var out []topicPartition
	if len(scope.topics) == 0 {
		committed.Each(func(o kadm.OffsetResponse) {
			if o.At >= 0 {
				out = append(out, topicPartition{o.Topic, o.Partition})
			}
		})
	}
	for _, arg := range scope.topics {
		topic, parts, hasParts := strings.Cut(arg, ":")
		td, err := topicDetail(ctx, adm, topic)
		if err != nil {
			return nil, err
		}
		if !hasParts {
			for _, p := range td.Partitions.Numbers() {
				out = append(out, topicPartition{topic, p})
			}
			continue
		}
		for _, ps := range strings.Split(parts, ",") {
			p, err := strconv.ParseInt(strings.TrimSpace(ps), 10, 32)
			if err != nil {
				return nil, usagef("Invalid partition '%s' specified in topic arg '%s'", ps, arg)
			}
			if _, ok := td.Partitions[int32(p)]; !ok {
				return nil, fmt.Errorf("topic %q has no partition %d (it has %d); see: samsa topic describe %s", topic, p, len(td.Partitions), topic)
			}
			out = append(out, topicPartition{topic, int32(p)})
		}
	}
	slices.SortFunc(out, comparePartitions)
	return slices.Compact(out), nil
}

// planReset computes the new offsets of group for scope and scenario,
// without changing anything.
func planReset(ctx context.Context, adm *kadm.Client, group string, scope resetScope, sc resetScenario) ([]resetRow, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %q: %w", group, err)
	}
	if err := committed.Error(); err != nil {
		return nil, fmt.Errorf("fetch offsets of group %q: %w", group, err)
	}
	tps, err := scopePartitions(ctx, adm, scope, committed)
	if err != nil {
		return nil, err
	}
	var topics []string
	for _, tp := range tps {
		if !slices.Contains(topics, tp.Topic) {
			topics = append(topics, tp.Topic)
		}
	}
	offs, err := listPartitionOffsets(ctx, adm, topics...)
	if err != nil {
		return nil, err
	}
	var atTime kadm.ListedOffsets
	if sc.kind == resetToTime && len(topics) > 0 {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, sc.at.UnixMilli(), topics...); err != nil {
			return nil, fmt.Errorf("list offsets at %s: %w", sc.at.Format(time.RFC3339), err)
		}
	}
	rows := make([]resetRow, 0, len(tps))
	for _, tp := range tps {
		se, ok := offs[tp.Topic][tp.Partition]
		if !ok {
			return nil, fmt.Errorf("no offsets for %s partition %d: has it a leader? see: samsa topic describe %s", tp.Topic, tp.Partition, tp.Topic)
		}
		start, end := se[0], se[1]
		r := resetRow{Group: group, Topic: tp.Topic, Partition: tp.Partition, Current: -1}
		if o, ok := committed.Lookup(tp.Topic, tp.Partition); ok && o.At >= 0 {
			r.Current = o.At
		}
		switch sc.kind {
		case resetEarliest:
			r.New = start
		case resetLatest:
			r.New = end
		case resetToOffset:
			r.New = sc.offset
		case resetShiftBy:
			if r.Current < 0 {
				return nil, fmt.Errorf("%s partition %d has no committed offset to shift from; use --to-earliest, --to-latest or --to-offset", tp.Topic, tp.Partition)
			}
			r.New = r.Current + sc.offset
		case resetToTime:
			r.New = end
			if lo, ok := atTime.Lookup(tp.Topic, tp.Partition); ok && lo.Err == nil && lo.Offset >= 0 {
				r.New = lo.Offset
			}
		case resetCurrent:
			r.New = r.Current
			if r.New < 0 {
				r.New = end
			}
		}
		r.New = min(max(r.New, start), end)
		rows = append(rows, r)
	}
	return rows, nil
}

// executeReset commits the plan's offsets for group, after checking that
// the group has no live members.
func executeReset(ctx context.Context, adm *kadm.Client, group string, rows []resetRow) error {
	os := make(kadm.Offsets)
	for _, r := range rows {
		os.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.New, LeaderEpoch: -1})
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.CommitOffsets(ctx, group, os)
	if err != nil {
		return fmt.Errorf("commit offsets of group %q: %w", group, err)
	}
	if err := rs.Error(); err != nil {
		return fmt.Errorf("commit offsets of group %q: %w", group, err)
	}
	return nil
}

// checkInactive fails with errGroupActive unless group has no live
// members; kafkaText selects Kafka's wording.
func checkInactive(ctx context.Context, adm *kadm.Client, group string, kafkaText bool) error {
	state, inactive, err := groupInactive(ctx, adm, group)
	if err != nil || inactive {
		return err
	}
	if kafkaText {
		return hintf(errGroupActive, "Error: Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, state)
	}
	return hintf(errGroupActive, "group %q is %s: offsets can only be reset while no consumer is in the group; stop its consumers first (see: samsa group describe %s)", group, state, group)
}

// parseDateTime reads a --to-datetime value: Kafka's
// 'YYYY-MM-DDTHH:mm:SS.sss' with an optional zone (local time without
// one), or RFC 3339.
func parseDateTime(s string) (time.Time, error) {
	zoned := []string{
		"2006-01-02T15:04:05.000Z07:00",
		"2006-01-02T15:04:05.000Z0700",
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05Z0700",
		time.RFC3339Nano,
	}
	local := []string{
		"2006-01-02T15:04:05.000",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
	}
	for _, l := range zoned {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range local {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("datetime %q: use YYYY-MM-DDTHH:mm:SS.sss, optionally with a zone (Z or +01:00)", s)
}

// parseDuration reads a --by-duration value: ISO-8601 as Kafka takes it
// (PnDTnHnMnS, e.g. P1DT2H) or Go (26h, 90m).
func parseDuration(s string) (time.Duration, error) {
	isoDuration := regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	if m := isoDuration.FindStringSubmatch(strings.ToUpper(s)); m != nil && s != "P" && !strings.HasSuffix(strings.ToUpper(s), "T") {
		var d time.Duration
		units := []time.Duration{24 * time.Hour, time.Hour, time.Minute}
		for i, u := range units {
			if m[i+1] != "" {
				n, _ := strconv.ParseInt(m[i+1], 10, 64)
				d += time.Duration(n) * u
			}
		}
		if m[4] != "" {
			f, _ := strconv.ParseFloat(m[4], 64)
			d += time.Duration(f * float64(time.Second))
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("duration %q: use PnDTnHnMnS (e.g. P1DT2H) or a Go duration (e.g. 26h)", s)
	}
	return d, nil
}

func newGroupSeekCmd(g *globalOptions) *cobra.Command {
	var (
		to       string
		shiftBy  int64
		byDur    string
		topics   []string
		execute  bool
		explicit bool // --dry-run
	)
	cmd := &cobra.Command{
		Use:   "seek GROUP",
		Short: "Reset a group's committed offsets (a dry run unless --execute)",
		Long: "Move a group's committed offsets, as kafka-consumer-groups --reset-offsets does:\n" +
			"  --to earliest | latest | OFFSET | DATETIME (2024-05-01T12:00:00.000, RFC 3339)\n" +
			"  --shift-by N   (relative to the committed offset; negative goes back)\n" +
			"  --by-duration D (the first offset at or after now minus D: 1h, P1DT2H)\n" +
			"Without --topic, every partition the group has committed offsets for. It shows the\n" +
			"plan and changes nothing unless --execute is given, and refuses while the group has\n" +
			"live members (stop its consumers first).",
		Example: "  samsa group seek mailroom --to earliest\n" +
			"  samsa group seek mailroom --to earliest --topic post.office --execute\n" +
			"  samsa group seek mailroom --shift-by -10 --topic post.office:0,1 --execute",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := g.resolve()
			if err != nil {
				return err
			}
			group := args[0]
			fs := cmd.Flags()
			n := 0
			for _, f := range []string{"to", "shift-by", "by-duration"} {
				if fs.Changed(f) {
					n++
				}
			}
			if n != 1 {
				return usagef("give exactly one of --to, --shift-by or --by-duration")
			}
			if execute && explicit {
				return usagef("--execute and --dry-run cannot be used together")
			}
			var sc resetScenario
			switch {
			case fs.Changed("shift-by"):
				sc = resetScenario{kind: resetShiftBy, offset: shiftBy}
			case fs.Changed("by-duration"):
				d, err := parseDuration(byDur)
				if err != nil {
					return err
				}
				sc = resetScenario{kind: resetToTime, at: time.Now().Add(-d)}
			case to == "earliest":
				sc = resetScenario{kind: resetEarliest}
			case to == "latest":
				sc = resetScenario{kind: resetLatest}
			default:
				if off, err := strconv.ParseInt(to, 10, 64); err == nil {
					if off < 0 {
						return usagef("--to %d: offsets are >= 0", off)
					}
					sc = resetScenario{kind: resetToOffset, offset: off}
				} else {
					at, err := parseDateTime(to)
					if err != nil {
						return usagef("--to %q: use earliest, latest, an offset or a datetime (2024-05-01T12:00:00.000)", to)
					}
					sc = resetScenario{kind: resetToTime, at: at}
				}
			}
			ctx := cmd.Context()
			adm, err := conn.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			if err := checkInactive(ctx, adm, group, false); err != nil {
				return err
			}
			rows, err := planReset(ctx, adm, group, resetScope{topics: topics}, sc)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return fmt.Errorf("group %q has no committed offsets to reset; name the partitions with --topic TOPIC[:P,P]", group)
			}
			if execute {
				if err := executeReset(ctx, adm, group, rows); err != nil {
					return err
				}
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					Executed bool       `json:"executed"`
					Offsets  []resetRow `json:"offsets"`
				}{execute, rows})
			}
			t := newTable("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET")
			for _, r := range rows {
				t.add(r.Group, r.Topic, r.Partition, offsetOrDash(r.Current), r.New)
			}
			if err := t.write(cmd.OutOrStdout()); err != nil {
				return err
			}
			if !execute {
				fmt.Fprintln(cmd.ErrOrStderr(), "Dry run: nothing changed. Add --execute to commit these offsets.")
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "earliest, latest, an offset, or a datetime")
	fs.Int64Var(&shiftBy, "shift-by", 0, "move each committed offset by N (negative: back)")
	fs.StringVar(&byDur, "by-duration", "", "to the first offset at or after now minus this (1h, P1DT2H)")
	fs.StringArrayVar(&topics, "topic", nil, "TOPIC or TOPIC:P,P to reset (repeatable; default: all committed partitions)")
	fs.BoolVar(&execute, "execute", false, "commit the new offsets (default: only show them)")
	fs.BoolVar(&explicit, "dry-run", false, "only show the new offsets (the default)")
	return cmd
}
