package cli

// kafka-consumer-groups.sh: Kafka's ConsumerGroupCommand. --list,
// --describe (offsets, --members, --state), --delete, --reset-offsets
// (a dry run unless --execute; refused while the group has live members)
// and --delete-offsets, with Kafka's column layouts; messages and errors go
// to stderr and failures exit 1.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// optionalNoValue is what --state and --type hold when given without a
// value.
const optionalNoValue = "\x00"

// kafkaGroupsOptions are kafka-consumer-groups' flags.
type kafkaGroupsOptions struct {
	server                                    string
	groups                                    []string
	allGroups                                 bool
	topics                                    []string
	allTopics                                 bool
	list, describe, delete, reset, delOffsets bool
	timeoutMs                                 int64
	dryRun, execute                           bool
	toOffset, shiftBy                         int64
	toDatetime, byDuration                    string
	toEarliest, toLatest, toCurrent           bool
	members, offsets                          bool
	state, groupType                          string
}

func newKafkaConsumerGroupsCmd() *cobra.Command {
	o := &kafkaGroupsOptions{}
	cmd := newKafkaCmd("kafka-consumer-groups", "Kafka's kafka-consumer-groups.sh: list, describe, delete groups and reset their offsets")
	cmd.Long = "This tool helps to list all consumer groups, describe a consumer group, delete consumer\n" +
		"group info, or reset consumer group offsets (Kafka's kafka-consumer-groups.sh, answered\n" +
		"by samsa)."
	cmd.Example = "  kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group mailroom\n" +
		"  kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group mailroom --topic post.office --to-earliest --execute"
	// --state and --type take an optional value that may follow as its
	// own word; RunE picks it up.
	cmd.Args = cobra.ArbitraryArgs
	fs := cmd.Flags()
	fs.StringVar(&o.server, "bootstrap-server", "", "the server(s) to connect to (default: $"+brokersEnv+" or "+defaultBrokers+")")
	fs.StringArrayVar(&o.groups, "group", nil, "the consumer group to act on (repeatable)")
	fs.BoolVar(&o.allGroups, "all-groups", false, "apply to all consumer groups")
	fs.StringArrayVar(&o.topics, "topic", nil, "topic (or topic:0,1,2) to reset or delete offsets of (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "reset offsets of all topics the group has committed offsets for")
	fs.BoolVar(&o.list, "list", false, "list all consumer groups")
	fs.BoolVar(&o.describe, "describe", false, "describe a group: offsets and lag, --members or --state")
	fs.BoolVar(&o.delete, "delete", false, "delete groups")
	fs.BoolVar(&o.reset, "reset-offsets", false, "reset offsets of a group (a dry run unless --execute)")
	fs.BoolVar(&o.delOffsets, "delete-offsets", false, "delete committed offsets of a group for --topic")
	fs.Int64Var(&o.timeoutMs, "timeout", 5000, "accepted for compatibility; samsa bounds each request by itself")
	fs.BoolVar(&o.dryRun, "dry-run", false, "only show the new offsets (the default)")
	fs.BoolVar(&o.execute, "execute", false, "commit the new offsets")
	fs.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	fs.Int64Var(&o.shiftBy, "shift-by", 0, "reset by shifting the committed offset by n (negative: back)")
	fs.StringVar(&o.toDatetime, "to-datetime", "", "reset to the offset at this time: YYYY-MM-DDTHH:mm:SS.sss")
	fs.StringVar(&o.byDuration, "by-duration", "", "reset to the offset at now minus this: PnDTnHnMnS")
	fs.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the earliest offset")
	fs.BoolVar(&o.toLatest, "to-latest", false, "reset to the latest offset")
	fs.BoolVar(&o.toCurrent, "to-current", false, "reset to the committed offset")
	fs.BoolVar(&o.members, "members", false, "with --describe: the members")
	fs.BoolVar(&o.offsets, "offsets", false, "with --describe: partitions with offsets and lag (the default)")
	fs.StringVar(&o.state, "state", "", "with --describe: the group's state; with --list: states, optionally only these (stable,empty)")
	fs.Lookup("state").NoOptDefVal = optionalNoValue
	fs.StringVar(&o.groupType, "type", "", "with --list: group types, optionally only these (classic,consumer)")
	fs.Lookup("type").NoOptDefVal = optionalNoValue
	un := &unsupportedFlags{fs: fs}
	un.add(false, "command-config", "from-file", "validate-regex")
	un.add(true, "export", "verbose")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := un.check(); err != nil {
			return err
		}
		if err := o.takeOptionalValue(cmd, args); err != nil {
			return err
		}
		if err := o.check(cmd); err != nil {
			return err
		}
		ctx := cmd.Context()
		adm, err := kafkaAdmin(ctx, o.server)
		if err != nil {
			return err
		}
		defer adm.Close()
		out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
		if o.list {
			return o.runList(ctx, adm, out)
		}
		groups := o.groups
		if o.allGroups {
			lgs, err := listGroups(ctx, adm)
			if err != nil {
				return err
			}
			groups = nil
			for _, lg := range lgs {
				groups = append(groups, lg.Group)
			}
		}
		slices.Sort(groups)
		groups = slices.Compact(groups)
		switch {
		case o.describe:
			return o.runDescribe(ctx, adm, groups, out, errw)
		case o.delete:
			return o.runDelete(ctx, adm, groups, out, errw)
		case o.reset:
			sc, err := o.scenario(cmd)
			if err != nil {
				return err
			}
			return o.runReset(ctx, adm, groups, sc, out, errw)
		}
		return o.runDeleteOffsets(ctx, adm, out, errw)
	}
	return cmd
}

// takeOptionalValue gives --state or --type a value written as its own
// word (`--list --state stable`), as Kafka's parser does.
func (o *kafkaGroupsOptions) takeOptionalValue(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if len(args) == 1 && !strings.HasPrefix(args[0], "-") {
		switch {
		case cmd.Flags().Changed("state") && o.state == optionalNoValue:
			o.state = args[0]
			return nil
		case cmd.Flags().Changed("type") && o.groupType == optionalNoValue:
			o.groupType = args[0]
			return nil
		}
	}
	return usagef("unexpected argument %q: kafka-consumer-groups takes only flags", args[0])
}

// check validates the flag combination as ConsumerGroupCommandOptions does.
func (o *kafkaGroupsOptions) check(cmd *cobra.Command) error {
	fs := cmd.Flags()
	actions := 0
	for _, a := range []bool{o.list, o.describe, o.delete, o.reset, o.delOffsets} {
		if a {
			actions++
		}
	}
	if actions != 1 {
		return usagef("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets, --validate-regex")
	}
	needGroup := func(action string) error {
		if len(o.groups) == 0 && !o.allGroups {
			return usagef("Option [%s] takes one of these options: [all-groups], [group]", action)
		}
		return nil
	}
	if (o.members || o.offsets) && !o.describe {
		return usagef("Options --members and --offsets work only with --describe")
	}
	if fs.Changed("state") && !o.describe && !o.list {
		return usagef("Option --state works only with --describe and --list")
	}
	if fs.Changed("type") && !o.list {
		return usagef("Option --type works only with --list")
	}
	switch {
	case o.describe:
		if err := needGroup("describe"); err != nil {
			return err
		}
		n := 0
		for _, b := range []bool{o.members, o.offsets, fs.Changed("state")} {
			if b {
				n++
			}
		}
		if n > 1 {
			return usagef("Option [describe] takes at most one of these options: [members], [offsets], [state]")
		}
		if fs.Changed("state") && o.state != optionalNoValue {
			return usagef("Option [describe] does not take a value for [state]")
		}
	case o.delete:
		if err := needGroup("delete"); err != nil {
			return err
		}
		if len(o.topics) > 0 {
			return usagef("The consumer does not support topic-specific offset deletion from a consumer group.")
		}
	case o.delOffsets:
		if len(o.groups) != 1 || len(o.topics) == 0 {
			return usagef("Option [delete-offsets] takes the following options: [group], [topic]")
		}
	case o.reset:
		if o.dryRun && o.execute {
			return usagef("Option [reset-offsets] only accepts one of [execute] and [dry-run]")
		}
		if err := needGroup("reset-offsets"); err != nil {
			return err
		}
		if !o.allTopics && len(o.topics) == 0 {
			return usagef("One of the reset scopes should be defined: --all-topics, --topic.")
		}
		if o.allTopics && len(o.topics) > 0 {
			return usagef("Option [reset-offsets] takes only one of [all-topics], [topic]")
		}
		n := 0
		for _, f := range []string{"to-offset", "shift-by", "to-datetime", "by-duration", "to-earliest", "to-latest", "to-current"} {
			if fs.Changed(f) {
				n++
			}
		}
		if n != 1 {
			return usagef("Option [reset-offsets] requires exactly one of the following scenarios: [to-offset], [shift-by], [to-datetime], [by-duration], [to-earliest], [to-latest], [to-current]")
		}
	}
	return nil
}

// printKafkaError prints ConsumerGroupCommand's "\nError: msg".
func printKafkaError(w io.Writer, msg string) {
	fmt.Fprintf(w, "\nError: %s\n", msg)
}

func (o *kafkaGroupsOptions) runList(ctx context.Context, adm *kadm.Client, out io.Writer) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	lgs, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	includeState, includeType := o.state != "", o.groupType != ""
	wanted := func(filter, v string) bool {
		if filter == "" || filter == optionalNoValue {
			return true
		}
		for _, f := range strings.Split(filter, ",") {
			if strings.EqualFold(strings.TrimSpace(f), v) {
				return true
			}
		}
		return false
	}
	var rows []kadm.ListedGroup
	for _, lg := range lgs {
		if wanted(o.state, lg.State) && wanted(o.groupType, groupTypeName(lg.GroupType)) {
			rows = append(rows, lg)
		}
	}
	slices.SortFunc(rows, func(a, b kadm.ListedGroup) int { return strings.Compare(a.Group, b.Group) })
	if !includeState && !includeType {
		for _, r := range rows {
			fmt.Fprintln(out, r.Group)
		}
		return nil
	}
	width := 15
	for _, r := range rows {
		width = max(width, len(r.Group))
	}
	format := fmt.Sprintf("%%-%ds", width+10)
	header := []any{"GROUP"}
	if includeType {
		format += " %-20s"
		header = append(header, "TYPE")
	}
	if includeState {
		format += " %-20s"
		header = append(header, "STATE")
	}
	format += "\n"
	fmt.Fprintf(out, format, header...)
	for _, r := range rows {
		cells := []any{r.Group}
		if includeType {
			cells = append(cells, groupTypeName(r.GroupType))
		}
		if includeState {
			cells = append(cells, orUnknown(r.State))
		}
		fmt.Fprintf(out, format, cells...)
	}
	return nil
}

// groupTypeName prints a ListGroups group type as Kafka's GroupType does.
func groupTypeName(t string) string {
	switch strings.ToLower(t) {
	case "classic":
		return "Classic"
	case "consumer":
		return "Consumer"
	case "share":
		return "Share"
	case "streams":
		return "Streams"
	}
	return "Unknown"
}

// orUnknown prints "Unknown" for an empty state.
func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// announceState prints what ConsumerGroupCommand prints about a group's
// state before its table; it returns false for a group that does not
// exist.
func announceState(errw io.Writer, v *groupView) {
	switch v.State {
	case "Empty":
		fmt.Fprintf(errw, "\nConsumer group '%s' has no active members.\n", v.Group)
	case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		fmt.Fprintf(errw, "\nWarning: Consumer group '%s' is rebalancing.\n", v.Group)
	}
}

func (o *kafkaGroupsOptions) runDescribe(ctx context.Context, adm *kadm.Client, groups []string, out, errw io.Writer) error {
	failed := false
	for _, group := range groups {
		v, err := describeGroup(ctx, adm, group)
		if errors.Is(err, errGroupNotFound) {
			printKafkaError(errw, fmt.Sprintf("Consumer group '%s' does not exist.", group))
			failed = true
			continue
		}
		if err != nil {
			return err
		}
		announceState(errw, v)
		switch {
		case o.members:
			writeKafkaMembers(out, v)
		case o.state != "":
			writeKafkaState(out, v)
		default:
			writeKafkaOffsets(out, v)
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// writeKafkaOffsets prints ConsumerGroupCommand's offsets table: a blank
// line, the header, one line per partition, each column padded as Kafka
// pads it.
func writeKafkaOffsets(w io.Writer, v *groupView) {
	if len(v.Offsets) == 0 {
		return
	}
	gl, tl, cl, hl := 15, 15, 15, 15
	for _, r := range v.Offsets {
		gl = max(gl, len(v.Group))
		tl = max(tl, len(r.Topic))
		cl = max(cl, len(orDash(r.MemberID)))
		hl = max(hl, len(orDash(r.Host)))
	}
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-10s %%-15s %%-15s %%-15s %%-%ds %%-%ds %%s", gl, tl, cl, hl)
	fmt.Fprintf(w, format, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range v.Offsets {
		fmt.Fprintf(w, format, v.Group, r.Topic, fmt.Sprint(r.Partition), offsetOrDash(r.Committed), offsetOrDash(r.EndOffset),
			offsetOrDash(r.Lag), orDash(r.MemberID), orDash(r.Host), orDash(r.ClientID))
	}
	fmt.Fprintln(w)
}

// writeKafkaMembers prints ConsumerGroupCommand's --members table.
func writeKafkaMembers(w io.Writer, v *groupView) {
	gl, cl, il, hl, kl := 15, 15, 17, 15, 15
	withInstance := false
	for _, m := range v.Members {
		gl = max(gl, len(v.Group))
		cl = max(cl, len(m.MemberID))
		il = max(il, len(m.InstanceID))
		hl = max(hl, len(m.Host))
		kl = max(kl, len(m.ClientID))
		withInstance = withInstance || m.InstanceID != ""
	}
	var format string
	if withInstance {
		format = fmt.Sprintf("%%-%ds %%-%ds %%-%ds %%-%ds %%-%ds %%-15s ", gl, cl, il, hl, kl)
		fmt.Fprintf(w, "\n"+format+"\n", "GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	} else {
		format = fmt.Sprintf("%%-%ds %%-%ds %%-%ds %%-%ds %%-15s ", gl, cl, hl, kl)
		fmt.Fprintf(w, "\n"+format+"\n", "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	}
	for _, m := range v.Members {
		n := fmt.Sprint(len(m.Assigned))
		if withInstance {
			fmt.Fprintf(w, format+"\n", v.Group, m.MemberID, m.InstanceID, m.Host, m.ClientID, n)
		} else {
			fmt.Fprintf(w, format+"\n", v.Group, m.MemberID, m.Host, m.ClientID, n)
		}
	}
}

// writeKafkaState prints ConsumerGroupCommand's --state table.
func writeKafkaState(w io.Writer, v *groupView) {
	coord := fmt.Sprintf("%s:%d  (%d)", v.Coordinator.Host, v.Coordinator.Port, v.Coordinator.NodeID)
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-20s %%-20s %%s", max(15, len(v.Group)), max(25, len(coord)))
	fmt.Fprintf(w, format, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
	fmt.Fprintf(w, format, v.Group, coord, orDash(v.Protocol), v.State, fmt.Sprint(len(v.Members)))
	fmt.Fprintln(w)
}

func (o *kafkaGroupsOptions) runDelete(ctx context.Context, adm *kadm.Client, groups []string, out, errw io.Writer) error {
	results, err := deleteGroups(ctx, adm, groups...)
	if err != nil {
		return err
	}
	var ok, failed []string
	for _, g := range groups {
		if results[g] == nil {
			ok = append(ok, "'"+g+"'")
		} else {
			failed = append(failed, g)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(out, "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(ok, ", "))
		return nil
	}
	printKafkaError(errw, "Deletion of some consumer groups failed:")
	for _, g := range failed {
		fmt.Fprintf(errw, "* Group '%s' could not be deleted due to: %v\n", g, results[g])
	}
	if len(ok) > 0 {
		fmt.Fprintf(out, "\nThese consumer groups were deleted successfully: %s\n", strings.Join(ok, ", "))
	}
	return errReported
}

// scenario turns the reset flags into a resetScenario.
func (o *kafkaGroupsOptions) scenario(cmd *cobra.Command) (resetScenario, error) {
	fs := cmd.Flags()
	switch {
	case fs.Changed("to-offset"):
		return resetScenario{kind: resetToOffset, offset: o.toOffset}, nil
	case fs.Changed("shift-by"):
		return resetScenario{kind: resetShiftBy, offset: o.shiftBy}, nil
	case fs.Changed("to-datetime"):
		at, err := parseDateTime(o.toDatetime)
		if err != nil {
			return resetScenario{}, err
		}
		return resetScenario{kind: resetToTime, at: at}, nil
	case fs.Changed("by-duration"):
		d, err := parseDuration(o.byDuration)
		if err != nil {
			return resetScenario{}, err
		}
		return resetScenario{kind: resetToTime, at: time.Now().Add(-d)}, nil
	case o.toEarliest:
		return resetScenario{kind: resetEarliest}, nil
	case o.toLatest:
		return resetScenario{kind: resetLatest}, nil
	}
	return resetScenario{kind: resetCurrent}, nil
}

func (o *kafkaGroupsOptions) runReset(ctx context.Context, adm *kadm.Client, groups []string, sc resetScenario, out, errw io.Writer) error {
	if !o.dryRun && !o.execute {
		// Kafka's text, missing space after "missing." included.
		fmt.Fprintln(errw, "WARN: No action will be performed as the --execute option is missing."+
			"In a future major release, the default behavior of this command will be to prompt the user before "+
			"executing the reset rather than doing a dry run. You should add the --dry-run option explicitly "+
			"if you are scripting this command and want to keep the current default behavior without prompting.")
	}
	scope := resetScope{topics: o.topics}
	var rows []resetRow
	failed := false
	for _, group := range groups {
		err := checkInactive(ctx, adm, group, true)
		if errors.Is(err, errGroupActive) {
			fmt.Fprintln(errw)
			fmt.Fprintln(errw, err)
			failed = true
			continue
		}
		if err != nil {
			return err
		}
		plan, err := planReset(ctx, adm, group, scope, sc)
		if err != nil {
			return err
		}
		if o.execute && len(plan) > 0 {
			if err := executeReset(ctx, adm, group, plan); err != nil {
				return err
			}
		}
		rows = append(rows, plan...)
	}
	writeKafkaResetPlan(out, rows)
	if failed {
		return errReported
	}
	return nil
}

// writeKafkaResetPlan prints the GROUP TOPIC PARTITION NEW-OFFSET table of
// --reset-offsets as Kafka's GroupOffsetsResetter does.
func writeKafkaResetPlan(w io.Writer, rows []resetRow) {
	if len(rows) == 0 {
		return
	}
	gl, tl := 15, 15
	for _, r := range rows {
		gl = max(gl, len(r.Group))
		tl = max(tl, len(r.Topic))
	}
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-10s %%s", gl, tl)
	fmt.Fprintf(w, format, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	for _, r := range rows {
		fmt.Fprintf(w, format, r.Group, r.Topic, fmt.Sprint(r.Partition), fmt.Sprint(r.New))
	}
	fmt.Fprintln(w)
}

func (o *kafkaGroupsOptions) runDeleteOffsets(ctx context.Context, adm *kadm.Client, out, errw io.Writer) error {
	group := o.groups[0]
	tps, err := scopePartitions(ctx, adm, resetScope{topics: o.topics}, nil)
	if err != nil {
		return err
	}
	set := make(kadm.TopicsSet)
	for _, tp := range tps {
		set.Add(tp.Topic, tp.Partition)
	}
	rctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.DeleteOffsets(rctx, group, set)
	if err != nil {
		printKafkaError(errw, kafkaErrText(err, ""))
		return errReported
	}
	tps = tps[:0]
	for t, ps := range rs {
		for p := range ps {
			tps = append(tps, topicPartition{t, p})
		}
	}
	slices.SortFunc(tps, comparePartitions)
	partErr := false
	for _, tp := range tps {
		if rs[tp.Topic][tp.Partition] != nil {
			partErr = true
		}
	}
	if partErr {
		printKafkaError(errw, "Encountered some partition-level error, see the follow-up details.")
	} else {
		fmt.Fprintf(out, "Request succeeded for deleting offsets from group %s.\n", group)
	}
	tl := 15
	for _, tp := range tps {
		tl = max(tl, len(tp.Topic))
	}
	format := fmt.Sprintf("\n%%-%ds %%-10s %%-15s", tl)
	fmt.Fprintf(out, format, "TOPIC", "PARTITION", "STATUS")
	for _, tp := range tps {
		status := "Successful"
		if perr := rs[tp.Topic][tp.Partition]; perr != nil {
			status = "Error: " + kafkaErrText(perr, "")
		}
		fmt.Fprintf(out, format, tp.Topic, fmt.Sprint(tp.Partition), status)
	}
	fmt.Fprintln(out)
	if partErr {
		return errReported
	}
	return nil
}
