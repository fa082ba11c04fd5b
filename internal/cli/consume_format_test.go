package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaFormatterPrintsLikeDefaultMessageFormatter(t *testing.T) {
	rec := &kgo.Record{
		Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v"),
		Timestamp: time.UnixMilli(1700000000123),
		Headers:   []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b"}},
	}
	noKey := &kgo.Record{Partition: 0, Offset: 1, Value: []byte("v"), Timestamp: time.UnixMilli(5)}
	tests := []struct {
		name  string
		props map[string]string
		rec   *kgo.Record
		want  string
	}{
		{"default: value only", nil, rec, "v\n"},
		{"print.key", map[string]string{"print.key": "true"}, rec, "k\tv\n"},
		{"null key", map[string]string{"print.key": "true"}, noKey, "null\tv\n"},
		{"null literal", map[string]string{"print.key": "true", "null.literal": "-"}, noKey, "-\tv\n"},
		{"everything", map[string]string{"print.timestamp": "true", "print.partition": "true", "print.offset": "true", "print.headers": "true", "print.key": "true"}, rec,
			"CreateTime:1700000000123\tPartition:2\tOffset:41\ta:1,b:null\tk\tv\n"},
		{"no headers", map[string]string{"print.headers": "true"}, noKey, "NO_HEADERS\tv\n"},
		{"separators", map[string]string{"print.key": "true", "key.separator": " => ", "line.separator": ";"}, rec, "k => v;"},
		{"key without value", map[string]string{"print.key": "true", "print.value": "false"}, rec, "k\n"},
		{"offset last", map[string]string{"print.offset": "true", "print.value": "false"}, rec, "Offset:41\n"},
		{"unknown property ignored", map[string]string{"print.epoch": "true"}, rec, "v\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := kafkaFormatterFromProps(tt.props).format(&b, tt.rec); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestJSONFormatterEncodesBinaryAsBase64(t *testing.T) {
	var b bytes.Buffer
	rec := &kgo.Record{Topic: "t", Key: []byte{0xff, 0x00}, Value: []byte("ok"), Timestamp: time.UnixMilli(0)}
	if err := (jsonFormatter{}).format(&b, rec); err != nil {
		t.Fatal(err)
	}
	want := `{"topic":"t","partition":0,"offset":0,"timestamp":"1970-01-01T00:00:00Z","key":null,"key_base64":"/wA=","value":"ok","headers":[]}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
}

func TestTemplateFormatter(t *testing.T) {
	f, err := newTemplateFormatter(`{{.Topic}}/{{.Partition}}@{{.Offset}} {{.Key}}={{.Value}} {{index .Headers "h"}}`)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rec := &kgo.Record{Topic: "t", Partition: 1, Offset: 9, Key: []byte("k"), Value: []byte("v"), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}}
	if err := f.format(&b, rec); err != nil {
		t.Fatal(err)
	}
	if b.String() != "t/1@9 k=v x\n" {
		t.Errorf("got %q", b.String())
	}
	if _, err := newTemplateFormatter("{{.Nope"); ExitCode(err) != exitUsage {
		t.Errorf("bad template: %v, want a usage error", err)
	}
}
