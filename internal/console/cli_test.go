package console

import (
	"testing"
	"time"
)

func TestCLICommands(t *testing.T) {
	local := &cluster{brokers: []string{"127.0.0.1:9092"}}
	other := &cluster{brokers: []string{"kafka-1:9092", "kafka-2:9092"}}
	p1 := int32(1)
	for _, tc := range []struct{ got, want string }{
		{local.cliCreateTopic(createTopicRequest{Name: "post.office"}), "samsa topic create post.office"},
		{local.cliCreateTopic(createTopicRequest{Name: "o", Partitions: 5, RF: 1, Configs: map[string]string{"retention.ms": "1", "cleanup.policy": "compact,delete"}}),
			"samsa topic create o --partitions 5 --replication-factor 1 --config cleanup.policy=compact,delete --config retention.ms=1"},
		{other.cliCommand([]string{"topic", "delete"}, "x"), "samsa topic delete x --brokers kafka-1:9092,kafka-2:9092"},
		{other.cliCommand([]string{"topic", "alter"}, "-dash", "--partitions", "5"), "samsa topic alter --partitions 5 --brokers kafka-1:9092,kafka-2:9092 -- -dash"},
		{local.cliProduce("t", produceRequest{Value: "v"}), `echo '{"value":"v"}' | samsa produce t --format json`},
		{local.cliProduce("t", produceRequest{Key: "k", Value: "a b", Headers: []Header{{"h", "1"}}, Partition: &p1}),
			`echo '{"key":"k","value":"a b","headers":{"h":"1"}}' | samsa produce t --format json --partition 1`},
		// JSON escapes (\n) that echo in dash or zsh would expand: printf.
		{local.cliProduce("t", produceRequest{Value: "two\nlines"}), `printf '%s\n' '{"value":"two\nlines"}' | samsa produce t --format json`},
		{local.cliReset("g", resetRequest{To: "latest"}, time.Time{}), "samsa group seek g --to latest --execute"},
		{local.cliReset("g", resetRequest{To: "timestamp", Topic: "t"}, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
			"samsa group seek g --to 2024-05-01T12:00:00Z --topic t --execute"},
		{local.cliAlterConfigs("post.office", configsRequest{Set: map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact,delete"}, Delete: []string{"max.message.bytes"}}),
			"samsa topic alter post.office --config cleanup.policy=compact,delete --config retention.ms=3600000 --delete-config max.message.bytes"},
		{other.cliAlterConfigs("t", configsRequest{Delete: []string{"a", "b"}}), "samsa topic alter t --delete-config a --delete-config b --brokers kafka-1:9092,kafka-2:9092"},
		{local.cliAlterConfigs("t", configsRequest{Set: map[string]string{"k": "it's"}}), `samsa topic alter t --config 'k=it'\''s'`},
		{shellQuote(""), "''"},
		{shellQuote("it's"), `'it'\''s'`},
		{shellQuote("a;rm -rf /"), "'a;rm -rf /'"},
		{shellQuote("=ls"), "'=ls'"},
		{shellQuote("a=b"), "a=b"},
		{shellQuote("$HOME"), "'$HOME'"},
		{printLine("plain"), "echo plain"},
		{printLine("-n"), `printf '%s\n' -n`},
		{printLine(`C:\temp`), `printf '%s\n' 'C:\temp'`},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

func TestCLIKafkaTopicsCommands(t *testing.T) {
	local := &cluster{brokers: []string{"127.0.0.1:9092"}}
	other := &cluster{brokers: []string{"kafka-1:9092", "kafka-2:9092"}}
	const kt = "kafka-topics.sh --bootstrap-server 127.0.0.1:9092 "
	for _, tc := range []struct {
		name, got, want string
	}{
		{"create, broker defaults", local.kafkaCreateTopic(createTopicRequest{Name: "post.office"}), kt + "--create --topic post.office"},
		{"create with every flag", local.kafkaCreateTopic(createTopicRequest{Name: "o", Partitions: 5, RF: 1, Configs: map[string]string{"retention.ms": "1", "cleanup.policy": "compact,delete"}}),
			kt + "--create --topic o --partitions 5 --replication-factor 1 --config cleanup.policy=compact,delete --config retention.ms=1"},
		{"create, only replication factor", other.kafkaCreateTopic(createTopicRequest{Name: "o", RF: 3}),
			"kafka-topics.sh --bootstrap-server kafka-1:9092,kafka-2:9092 --create --topic o --replication-factor 3"},
		{"create, value with a space", local.kafkaCreateTopic(createTopicRequest{Name: "o", Configs: map[string]string{"k": "a b"}}), kt + "--create --topic o --config 'k=a b'"},
		{"create, value with '=' is split by --config", local.kafkaCreateTopic(createTopicRequest{Name: "o", Configs: map[string]string{"k": "a=b"}}), ""},
		{"create, empty value", local.kafkaCreateTopic(createTopicRequest{Name: "o", Configs: map[string]string{"k": ""}}), ""},
		{"create, value trimmed by Kafka", local.kafkaCreateTopic(createTopicRequest{Name: "o", Configs: map[string]string{"k": " 1"}}), ""},
		{"delete: the topic regex matches only the topic", local.kafkaDeleteTopic("post.office"), kt + `--delete --topic 'post\.office'`},
		{"delete on another cluster", other.kafkaDeleteTopic("orders"), "kafka-topics.sh --bootstrap-server kafka-1:9092,kafka-2:9092 --delete --topic orders"},
		{"partitions", local.kafkaPartitions("orders", 6), kt + "--alter --topic orders --partitions 6"},
		{"partitions, dotted name", local.kafkaPartitions("a.b", 2), kt + `--alter --topic 'a\.b' --partitions 2`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestCLIKafkaProducerCommands(t *testing.T) {
	local := &cluster{brokers: []string{"127.0.0.1:9092"}}
	other := &cluster{brokers: []string{"kafka-1:9092", "kafka-2:9092"}}
	const kp = " | kafka-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic t"
	const withKey = " --property parse.key=true --property key.separator=:"
	const withHeaders = " --property parse.headers=true"
	p0 := int32(0)
	for _, tc := range []struct {
		name string
		req  produceRequest
		want string // "": Kafka's console producer cannot send this record
	}{
		{"value only", produceRequest{Value: "v"}, "echo v" + kp},
		{"empty value", produceRequest{}, "echo ''" + kp},
		{"key and value", produceRequest{Key: "KEY", Value: "VALUE"}, "echo KEY:VALUE" + kp + withKey},
		{"quoted", produceRequest{Key: "k", Value: `{"to": "it's me"}`}, `echo 'k:{"to": "it'\''s me"}'` + kp + withKey},
		{"separator in the value is kept", produceRequest{Key: "k", Value: "12:30"}, "echo k:12:30" + kp + withKey},
		{"backslash: printf", produceRequest{Value: `a\tb`}, `printf '%s\n' 'a\tb'` + kp},
		{"leading dash: printf", produceRequest{Value: "-e"}, `printf '%s\n' -e` + kp},
		{"headers and key", produceRequest{Key: "k", Value: "hello world", Headers: []Header{{"h1", "v1"}, {"h2", "12:30"}}},
			`printf '%s\t%s\t%s\n' h1:v1,h2:12:30 k 'hello world'` + kp + " --property parse.key=true" + withHeaders},
		{"headers, no key", produceRequest{Value: "v", Headers: []Header{{"trace", ""}}},
			`printf '%s\t%s\n' trace: v` + kp + withHeaders},
		{"headers: ':' in the key is fine (the key separator is a tab)", produceRequest{Key: "a:b", Value: "v", Headers: []Header{{"h", "1"}}},
			`printf '%s\t%s\t%s\n' h:1 a:b v` + kp + " --property parse.key=true" + withHeaders},
		{"explicit partition", produceRequest{Value: "v", Partition: &p0}, ""},
		{"newline in the value", produceRequest{Value: "a\nb"}, ""},
		{"carriage return in the key", produceRequest{Key: "a\rb", Value: "v"}, ""},
		{"NUL in the value", produceRequest{Value: "a\x00b"}, ""},
		{"key separator in the key", produceRequest{Key: "a:b", Value: "v"}, ""},
		{"tab in the key with headers", produceRequest{Key: "a\tb", Value: "v", Headers: []Header{{"h", "1"}}}, ""},
		{"header key separator in a header key", produceRequest{Value: "v", Headers: []Header{{"a:b", "1"}}}, ""},
		{"header separator in a header value", produceRequest{Value: "v", Headers: []Header{{"h", "1,2"}}}, ""},
		{"headers delimiter in a header value", produceRequest{Value: "v", Headers: []Header{{"h", "1\t2"}}}, ""},
		{"newline in a header", produceRequest{Value: "v", Headers: []Header{{"h", "1\n2"}}}, ""},
	} {
		if got := local.kafkaProduce("t", tc.req); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got, want := other.kafkaProduce("post.office", produceRequest{Value: "v"}), "echo v | kafka-console-producer.sh --bootstrap-server kafka-1:9092,kafka-2:9092 --topic post.office"; got != want {
		t.Errorf("other cluster:\ngot  %s\nwant %s", got, want)
	}
}

func TestCLIKafkaConsumerGroupsCommands(t *testing.T) {
	local := &cluster{brokers: []string{"127.0.0.1:9092"}}
	const kg = "kafka-consumer-groups.sh --bootstrap-server 127.0.0.1:9092 "
	cest := time.FixedZone("CEST", 2*3600)
	for _, tc := range []struct {
		name, got, want string
	}{
		{"earliest, all topics", local.kafkaReset("mailroom", resetRequest{To: "earliest"}, time.Time{}),
			kg + "--group mailroom --reset-offsets --to-earliest --all-topics --execute"},
		{"latest, one topic", local.kafkaReset("mailroom", resetRequest{To: "latest", Topic: "post.office"}, time.Time{}),
			kg + "--group mailroom --reset-offsets --to-latest --topic post.office --execute"},
		{"datetime in UTC with milliseconds", local.kafkaReset("g", resetRequest{To: "timestamp", Timestamp: "x"}, time.Date(2024, 5, 1, 14, 0, 0, 123456789, cest)),
			kg + "--group g --reset-offsets --to-datetime 2024-05-01T12:00:00.123Z --all-topics --execute"},
		{"quoted group", local.kafkaReset("my group", resetRequest{To: "earliest"}, time.Time{}),
			kg + "--group 'my group' --reset-offsets --to-earliest --all-topics --execute"},
		{"unknown target", local.kafkaReset("g", resetRequest{To: "tomorrow"}, time.Time{}), ""},
		{"delete", local.kafkaDeleteGroup("mailroom"), kg + "--delete --group mailroom"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestCLIKafkaConfigsCommands(t *testing.T) {
	local := &cluster{brokers: []string{"127.0.0.1:9092"}}
	const kc = "kafka-configs.sh --bootstrap-server 127.0.0.1:9092 --entity-type topics --entity-name post.office --alter"
	for _, tc := range []struct {
		name string
		req  configsRequest
		want string
	}{
		{"set one", configsRequest{Set: map[string]string{"retention.ms": "3600000"}}, kc + " --add-config retention.ms=3600000"},
		{"set two, delete two", configsRequest{Set: map[string]string{"retention.ms": "1", "segment.ms": "2"}, Delete: []string{"cleanup.policy", "max.message.bytes"}},
			kc + " --add-config retention.ms=1,segment.ms=2 --delete-config cleanup.policy,max.message.bytes"},
		{"delete only", configsRequest{Delete: []string{"cleanup.policy"}}, kc + " --delete-config cleanup.policy"},
		{"a list value is bracketed", configsRequest{Set: map[string]string{"cleanup.policy": "compact,delete"}}, kc + " --add-config 'cleanup.policy=[compact,delete]'"},
		{"'=' in a value is bracketed", configsRequest{Set: map[string]string{"k": "a=b"}}, kc + " --add-config 'k=[a=b]'"},
		{"empty value", configsRequest{Set: map[string]string{"k": ""}}, kc + " --add-config k="},
		{"value with a space", configsRequest{Set: map[string]string{"k": "a b"}}, kc + " --add-config 'k=a b'"},
		{"bracket in a value", configsRequest{Set: map[string]string{"k": "[x]"}}, ""},
		{"value trimmed by Kafka", configsRequest{Set: map[string]string{"k": "x "}}, ""},
		{"newline in a value", configsRequest{Set: map[string]string{"k": "a\nb"}}, ""},
		{"',' in a key", configsRequest{Set: map[string]string{"a,b": "1"}}, ""},
		{"'=' in a deleted key", configsRequest{Delete: []string{"a=b"}}, ""},
	} {
		if got := local.kafkaAlterConfigs("post.office", tc.req); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestConfigsRequestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      configsRequest
		want    configsRequest
		wantErr bool
	}{
		{"set and delete", configsRequest{Set: map[string]string{" retention.ms ": "1"}, Delete: []string{"b", "a", "b"}},
			configsRequest{Set: map[string]string{"retention.ms": "1"}, Delete: []string{"a", "b"}}, false},
		{"nothing", configsRequest{}, configsRequest{}, true},
		{"empty maps", configsRequest{Set: map[string]string{}, Delete: []string{}}, configsRequest{}, true},
		{"empty key to set", configsRequest{Set: map[string]string{" ": "1"}}, configsRequest{}, true},
		{"empty key to delete", configsRequest{Delete: []string{""}}, configsRequest{}, true},
		{"same key twice after trimming", configsRequest{Set: map[string]string{"a": "1", "a ": "2"}}, configsRequest{}, true},
		{"set and deleted", configsRequest{Set: map[string]string{"a": "1"}, Delete: []string{"a"}}, configsRequest{}, true},
	} {
		req := tc.in
		err := req.check()
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			if status(err) != 400 {
				t.Errorf("%s: status %d, want 400", tc.name, status(err))
			}
			continue
		}
		if len(req.Set) != len(tc.want.Set) || len(req.Delete) != len(tc.want.Delete) {
			t.Errorf("%s: got %+v, want %+v", tc.name, req, tc.want)
			continue
		}
		for k, v := range tc.want.Set {
			if req.Set[k] != v {
				t.Errorf("%s: set %s = %q, want %q", tc.name, k, req.Set[k], v)
			}
		}
		for i, k := range tc.want.Delete {
			if req.Delete[i] != k {
				t.Errorf("%s: delete = %v, want %v", tc.name, req.Delete, tc.want.Delete)
			}
		}
	}
}
