package cli

// Printing consumed records: Kafka's DefaultMessageFormatter (the console
// consumer's print.* properties), a Go template, and JSON lines.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormatter prints one record.
type recordFormatter interface {
	format(w io.Writer, r *kgo.Record) error
}

// kafkaFormatter is Kafka's DefaultMessageFormatter: optional timestamp,
// partition, offset, headers and key, each followed by the key separator,
// then the value and the line separator.
type kafkaFormatter struct {
	printTimestamp, printPartition, printOffset bool
	printDelivery, printHeaders, printKey       bool
	printValue                                  bool
	keySep, lineSep, headersSep, nullLiteral    string
}

// defaultKafkaFormatter prints only the value, as Kafka does by default.
func defaultKafkaFormatter() *kafkaFormatter {
	return &kafkaFormatter{printValue: true, keySep: "\t", lineSep: "\n", headersSep: ",", nullLiteral: "null"}
}

// kafkaFormatterFromProps reads the formatter properties; like Kafka, it
// ignores properties it does not know.
func kafkaFormatterFromProps(props map[string]string) *kafkaFormatter {
	f := defaultKafkaFormatter()
	f.printTimestamp = propBool(props, "print.timestamp", f.printTimestamp)
	f.printKey = propBool(props, "print.key", f.printKey)
	f.printOffset = propBool(props, "print.offset", f.printOffset)
	f.printDelivery = propBool(props, "print.delivery", f.printDelivery)
	f.printPartition = propBool(props, "print.partition", f.printPartition)
	f.printHeaders = propBool(props, "print.headers", f.printHeaders)
	f.printValue = propBool(props, "print.value", f.printValue)
	for key, dst := range map[string]*string{
		"key.separator":     &f.keySep,
		"line.separator":    &f.lineSep,
		"headers.separator": &f.headersSep,
		"null.literal":      &f.nullLiteral,
	} {
		if v, ok := props[key]; ok {
			*dst = v
		}
	}
	return f
}

func (f *kafkaFormatter) format(w io.Writer, r *kgo.Record) error {
	var b []byte
	sep := func(more bool) {
		if more {
			b = append(b, f.keySep...)
		} else {
			b = append(b, f.lineSep...)
		}
	}
	orNull := func(v []byte) []byte {
		if v == nil {
			return []byte(f.nullLiteral)
		}
		return v
	}
	if f.printTimestamp {
		b = append(b, timestampType(r)...)
		if r.Attrs.TimestampType() >= 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		}
		sep(f.printPartition || f.printOffset || f.printDelivery || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printPartition {
		b = append(b, "Partition:"...)
		b = strconv.AppendInt(b, int64(r.Partition), 10)
		sep(f.printOffset || f.printDelivery || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printOffset {
		b = append(b, "Offset:"...)
		b = strconv.AppendInt(b, r.Offset, 10)
		sep(f.printDelivery || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printDelivery {
		b = append(b, "Delivery:NONE"...)
		sep(f.printHeaders || f.printKey || f.printValue)
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			b = append(b, "NO_HEADERS"...)
		}
		for i, h := range r.Headers {
			if i > 0 {
				b = append(b, f.headersSep...)
			}
			b = append(b, h.Key...)
			b = append(b, ':')
			b = append(b, orNull(h.Value)...)
		}
		sep(f.printKey || f.printValue)
	}
	if f.printKey {
		b = append(b, orNull(r.Key)...)
		sep(f.printValue)
	}
	if f.printValue {
		b = append(b, orNull(r.Value)...)
		b = append(b, f.lineSep...)
	}
	_, err := w.Write(b)
	return err
}

// timestampType is Kafka's name of a record's timestamp type.
func timestampType(r *kgo.Record) string {
	switch r.Attrs.TimestampType() {
	case 0:
		return "CreateTime"
	case 1:
		return "LogAppendTime"
	}
	return "NO_TIMESTAMP"
}

// templateRecord is what a --format template sees.
type templateRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Timestamp time.Time
	Headers   map[string]string
}

// templateFormatter prints each record through a text/template, adding a
// newline.
type templateFormatter struct {
	t *template.Template
}

// newTemplateFormatter parses text, e.g. "{{.Partition}}:{{.Offset}} {{.Key}}={{.Value}}".
func newTemplateFormatter(text string) (*templateFormatter, error) {
	t, err := template.New("format").Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, usagef("--format: %v", err)
	}
	return &templateFormatter{t: t}, nil
}

func (f *templateFormatter) format(w io.Writer, r *kgo.Record) error {
	tr := templateRecord{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Key: string(r.Key), Value: string(r.Value), Timestamp: r.Timestamp,
		Headers: make(map[string]string, len(r.Headers)),
	}
	for _, h := range r.Headers {
		tr.Headers[h.Key] = string(h.Value)
	}
	if err := f.t.Execute(w, tr); err != nil {
		return fmt.Errorf("format record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// jsonHeader is one header in JSON output.
type jsonHeader struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

// jsonOutRecord is one line of `samsa consume --output json`. Key and
// value are strings when they are UTF-8, otherwise base64 in the _base64
// fields; null is null.
type jsonOutRecord struct {
	Topic       string       `json:"topic"`
	Partition   int32        `json:"partition"`
	Offset      int64        `json:"offset"`
	Timestamp   string       `json:"timestamp"`
	Key         *string      `json:"key"`
	KeyBase64   string       `json:"key_base64,omitempty"`
	Value       *string      `json:"value"`
	ValueBase64 string       `json:"value_base64,omitempty"`
	Headers     []jsonHeader `json:"headers"`
}

// jsonFormatter prints one JSON object per line.
type jsonFormatter struct{}

func (jsonFormatter) format(w io.Writer, r *kgo.Record) error {
	out := jsonOutRecord{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Timestamp: r.Timestamp.UTC().Format(time.RFC3339Nano),
		Headers:   make([]jsonHeader, 0, len(r.Headers)),
	}
	out.Key, out.KeyBase64 = jsonText(r.Key)
	out.Value, out.ValueBase64 = jsonText(r.Value)
	for _, h := range r.Headers {
		jh := jsonHeader{Key: h.Key}
		if h.Value != nil {
			s := string(h.Value)
			jh.Value = &s
		}
		out.Headers = append(out.Headers, jh)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// jsonText is b as a JSON string if it is UTF-8, else as base64.
func jsonText(b []byte) (*string, string) {
	if b == nil {
		return nil, ""
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}
