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
		{other.cliCommand("topic", "delete", "x"), "samsa topic delete x --brokers kafka-1:9092,kafka-2:9092"},
		{local.cliProduce("t", produceRequest{Value: "v"}), `echo '{"value":"v"}' | samsa produce t --format json`},
		{local.cliProduce("t", produceRequest{Key: "k", Value: "a b", Headers: []Header{{"h", "1"}}, Partition: &p1}),
			`echo '{"key":"k","value":"a b","headers":{"h":"1"}}' | samsa produce t --format json --partition 1`},
		{local.cliReset("g", resetRequest{To: "latest"}, time.Time{}), "samsa group seek g --to latest --execute"},
		{shellQuote(""), "''"},
		{shellQuote("it's"), `'it'\''s'`},
		{shellQuote("a;rm -rf /"), "'a;rm -rf /'"},
		{shellQuote("$HOME"), "'$HOME'"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}
