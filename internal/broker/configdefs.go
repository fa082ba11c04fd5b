package broker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// configDef describes one topic config: its type, Kafka's default, the
// broker config it falls back to, and how to check a value.
type configDef struct {
	name   string
	broker string // broker-level synonym ("" = none)
	typ    kmsg.ConfigType
	def    string
	check  func(string) error
	doc    string
}

// topicConfigs lists the topic configs we accept, in Kafka's order. Those
// that storage acts on are mapped in logConfig; the rest are stored and
// described so tools round-trip them (see the package doc of what is served).
var topicConfigs = []configDef{
	{"cleanup.policy", "log.cleanup.policy", kmsg.ConfigTypeList, "delete", oneOfList("delete", "compact"), "The retention policy: delete old segments, compact by key (compaction is not yet performed: a compacted topic keeps everything), or both."},
	{"compression.type", "compression.type", kmsg.ConfigTypeString, "producer", oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), "Final compression type; only 'producer' (keep what the producer sent) is applied."},
	{"delete.retention.ms", "log.cleaner.delete.retention.ms", kmsg.ConfigTypeLong, "86400000", atLeast(0), "How long delete tombstones are kept for compacted topics."},
	{"file.delete.delay.ms", "log.segment.delete.delay.ms", kmsg.ConfigTypeLong, "60000", atLeast(0), "Time to wait before deleting a file from the filesystem."},
	{"flush.messages", "log.flush.interval.messages", kmsg.ConfigTypeLong, "9223372036854775807", atLeast(1), "Accepted for compatibility; Samsa's flush policy is broker-wide."},
	{"flush.ms", "log.flush.interval.ms", kmsg.ConfigTypeLong, "9223372036854775807", atLeast(0), "Accepted for compatibility; Samsa's flush policy is broker-wide."},
	{"index.interval.bytes", "log.index.interval.bytes", kmsg.ConfigTypeInt, "4096", intAtLeast(0), "How often (in bytes) an offset index entry is added."},
	{"max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", kmsg.ConfigTypeLong, "9223372036854775807", atLeast(1), "Maximum time a message remains ineligible for compaction."},
	{"max.message.bytes", "message.max.bytes", kmsg.ConfigTypeInt, "1048588", intAtLeast(0), "The largest record batch size allowed."},
	{"message.downconversion.enable", "log.message.downconversion.enable", kmsg.ConfigTypeBoolean, "true", isBool, "Whether old fetch versions get down-converted records."},
	{"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", kmsg.ConfigTypeLong, "9223372036854775807", atLeast(0), "Allowed timestamp lead over the broker time (CreateTime)."},
	{"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", kmsg.ConfigTypeLong, "9223372036854775807", atLeast(0), "Allowed timestamp lag behind the broker time (CreateTime)."},
	{"message.timestamp.type", "log.message.timestamp.type", kmsg.ConfigTypeString, "CreateTime", oneOf("CreateTime", "LogAppendTime"), "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime)."},
	{"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", kmsg.ConfigTypeDouble, "0.5", isRatio, "Dirty ratio above which the log is compacted."},
	{"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", kmsg.ConfigTypeLong, "0", atLeast(0), "Minimum time a message remains uncompacted."},
	{"min.insync.replicas", "min.insync.replicas", kmsg.ConfigTypeInt, "1", intAtLeast(1), "Minimum in-sync replicas for acks=all."},
	{"preallocate", "log.preallocate", kmsg.ConfigTypeBoolean, "false", isBool, "Accepted for compatibility; storage decides preallocation itself."},
	{"retention.bytes", "log.retention.bytes", kmsg.ConfigTypeLong, "-1", atLeast(-1), "Maximum size of a partition before old segments are deleted; -1 for no limit."},
	{"retention.ms", "log.retention.ms", kmsg.ConfigTypeLong, "604800000", atLeast(-1), "Maximum age of a segment before it is deleted; -1 for no limit."},
	{"segment.bytes", "log.segment.bytes", kmsg.ConfigTypeInt, "1073741824", intAtLeast(1024), "Segment file size."},
	{"segment.index.bytes", "log.index.size.max.bytes", kmsg.ConfigTypeInt, "10485760", intAtLeast(4), "Maximum size of an offset index."},
	{"segment.jitter.ms", "log.roll.jitter.ms", kmsg.ConfigTypeLong, "0", atLeast(0), "Random jitter subtracted from segment.ms."},
	{"segment.ms", "log.roll.ms", kmsg.ConfigTypeLong, "604800000", atLeast(1), "Time after which a segment is rolled even if not full."},
	{"unclean.leader.election.enable", "unclean.leader.election.enable", kmsg.ConfigTypeBoolean, "false", isBool, "Whether an out-of-sync replica may become leader."},
}

var topicConfigByName = func() map[string]*configDef {
	m := make(map[string]*configDef, len(topicConfigs))
	for i := range topicConfigs {
		m[topicConfigs[i].name] = &topicConfigs[i]
	}
	return m
}()

// brokerConfigs lists broker configs we describe. dynamic marks those
// AlterConfigs may change at run time (cluster-wide log defaults, as in
// Kafka); the others are read-only.
var brokerConfigs = []struct {
	name    string
	typ     kmsg.ConfigType
	dynamic bool
}{
	{"auto.create.topics.enable", kmsg.ConfigTypeBoolean, false},
	{"broker.id", kmsg.ConfigTypeInt, false},
	{"default.replication.factor", kmsg.ConfigTypeInt, false},
	{"log.dirs", kmsg.ConfigTypeString, false},
	{"log.flush.policy", kmsg.ConfigTypeString, false},
	{"log.retention.check.interval.ms", kmsg.ConfigTypeLong, false},
	{"num.partitions", kmsg.ConfigTypeInt, false},
}

// brokerDynamic reports whether a broker config can be altered at run time,
// and its definition when it is a topic config's synonym.
func brokerDynamic(name string) (*configDef, bool) {
	for i := range topicConfigs {
		if topicConfigs[i].broker == name {
			return &topicConfigs[i], true
		}
	}
	return nil, false
}

// staticBrokerConfigs are the broker configs as set at start (flags).
func (b *Broker) staticBrokerConfigs() map[string]string {
	c := b.cfg
	tsType := "CreateTime"
	if c.Log.TimestampType == storage.LogAppendTime {
		tsType = "LogAppendTime"
	}
	flush := "durable"
	if c.Flush == storage.FlushOS {
		flush = "os"
	}
	return map[string]string{
		"auto.create.topics.enable":       strconv.FormatBool(c.AutoCreateTopics),
		"broker.id":                       strconv.Itoa(int(c.NodeID)),
		"default.replication.factor":      strconv.Itoa(int(c.DefaultReplicationFactor)),
		"log.dirs":                        c.DataDir,
		"log.flush.policy":                flush,
		"log.retention.check.interval.ms": strconv.FormatInt(c.RetentionCheckInterval.Milliseconds(), 10),
		"num.partitions":                  strconv.Itoa(int(c.DefaultPartitions)),
		"log.segment.bytes":               strconv.FormatInt(c.Log.SegmentBytes, 10),
		"log.roll.ms":                     strconv.FormatInt(c.Log.SegmentAge.Milliseconds(), 10),
		"log.retention.bytes":             strconv.FormatInt(c.Log.RetentionBytes, 10),
		"log.retention.ms":                durationMs(c.Log.RetentionAge),
		"log.index.interval.bytes":        strconv.Itoa(c.Log.IndexIntervalBytes),
		"message.max.bytes":               strconv.Itoa(c.Log.MaxMessageBytes),
		"log.message.timestamp.type":      tsType,
	}
}

func durationMs(d time.Duration) string {
	if d < 0 {
		return "-1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// parseLong parses a validated long config value.
func parseLong(s string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v
}

func msDuration(ms int64) time.Duration {
	if ms < 0 {
		return -1
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

func atLeast(min int64) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a valid long", s)
		}
		if v < min {
			return fmt.Errorf("value %d must be at least %d", v, min)
		}
		return nil
	}
}

func intAtLeast(min int64) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return fmt.Errorf("%q is not a valid int", s)
		}
		if v < min {
			return fmt.Errorf("value %d must be at least %d", v, min)
		}
		return nil
	}
}

func oneOf(allowed ...string) func(string) error {
	return func(s string) error {
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return fmt.Errorf("%q must be one of %s", s, strings.Join(allowed, ", "))
	}
}

func oneOfList(allowed ...string) func(string) error {
	one := oneOf(allowed...)
	return func(s string) error {
		for _, part := range strings.Split(s, ",") {
			if err := one(strings.TrimSpace(part)); err != nil {
				return err
			}
		}
		return nil
	}
}

func isBool(s string) error {
	if s != "true" && s != "false" {
		return fmt.Errorf("%q must be true or false", s)
	}
	return nil
}

func isRatio(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return fmt.Errorf("%q must be a number between 0 and 1", s)
	}
	return nil
}
