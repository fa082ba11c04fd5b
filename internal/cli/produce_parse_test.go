package cli

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recString prints a record's key, headers and value, with <nil> for null.
func recString(r *kgo.Record) string {
	show := func(b []byte) string {
		if b == nil {
			return "<nil>"
		}
		return fmt.Sprintf("%q", b)
	}
	var hs bytes.Buffer
	for _, h := range r.Headers {
		fmt.Fprintf(&hs, "%s=%s ", h.Key, show(h.Value))
	}
	return fmt.Sprintf("key=%s headers=[%s] value=%s", show(r.Key), hs.String(), show(r.Value))
}

func TestLineFormatParsesKafkaReaderProperties(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		line    string
		want    string
		wantErr string
	}{
		{"value only", nil, "hello\tworld", `key=<nil> headers=[] value="hello\tworld"`, ""},
		{"empty line", nil, "", `key=<nil> headers=[] value=""`, ""},
		{"tab key", map[string]string{"parse.key": "true"}, "k\tv\tw", `key="k" headers=[] value="v\tw"`, ""},
		{"colon key", map[string]string{"parse.key": "TRUE", "key.separator": ":"}, "alice:one", `key="alice" headers=[] value="one"`, ""},
		{"multi-char separator", map[string]string{"parse.key": "true", "key.separator": "::"}, "a::b:c", `key="a" headers=[] value="b:c"`, ""},
		{"empty key", map[string]string{"parse.key": "true", "key.separator": ":"}, ":v", `key="" headers=[] value="v"`, ""},
		{"missing separator", map[string]string{"parse.key": "true", "key.separator": ":"}, "novalue", "", "No key separator found on line number 7: 'novalue'"},
		{"missing separator ignored", map[string]string{"parse.key": "true", "key.separator": ":", "ignore.error": "true"}, "novalue", `key=<nil> headers=[] value="novalue"`, ""},
		{"parse.key false", map[string]string{"parse.key": "false", "key.separator": ":"}, "a:b", `key=<nil> headers=[] value="a:b"`, ""},
		{"null marker", map[string]string{"parse.key": "true", "key.separator": ":", "null.marker": "NULL"}, "NULL:NULL", `key=<nil> headers=[] value=<nil>`, ""},
		{"headers", map[string]string{"parse.headers": "true", "parse.key": "true"}, "h1:v1,h2\tk\tv", `key="k" headers=[h1="v1" h2=<nil> ] value="v"`, ""},
		{"headers custom", map[string]string{"parse.headers": "true", "headers.delimiter": "|", "headers.separator": ";", "headers.key.separator": "="}, "a=1;b=2|v", `key=<nil> headers=[a="1" b="2" ] value="v"`, ""},
		{"headers missing delimiter", map[string]string{"parse.headers": "true"}, "v", "", "No headers delimiter found on line number 7: 'v'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := lineFormatFromProps(tt.props)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := f.parse([]byte(tt.line), 7)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := recString(rec); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLineFormatRejectsUnknownAndEmptyProperties(t *testing.T) {
	for _, props := range []map[string]string{{"parse.value": "true"}, {"key.separator": ""}} {
		if _, err := lineFormatFromProps(props); ExitCode(err) != exitUsage {
			t.Errorf("props %v: err %v, want a usage error", props, err)
		}
	}
}

func TestLineFormatDoesNotAliasTheInput(t *testing.T) {
	f, _ := lineFormatFromProps(map[string]string{"parse.key": "true", "key.separator": ":"})
	line := []byte("k:v")
	rec, err := f.parse(line, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(line, "xxx")
	if string(rec.Key) != "k" || string(rec.Value) != "v" {
		t.Errorf("record changed with its input line: %s", recString(rec))
	}
}

func TestParseJSONRecord(t *testing.T) {
	tests := []struct {
		line, want, wantErr string
	}{
		{`{"value":"hi"}`, `key=<nil> headers=[] value="hi"`, ""},
		{`{"key":"k","value":{"a": [1, 2]}}`, `key="k" headers=[] value="{\"a\":[1,2]}"`, ""},
		{`{"key":7,"value":null}`, `key="7" headers=[] value=<nil>`, ""},
		{`{"value":"v","headers":{"b":"2","a":"1","n":null}}`, `key=<nil> headers=[a="1" b="2" n=<nil> ] value="v"`, ""},
		{`{"value":"v","headers":[{"key":"x","value":"1"},{"key":"x","value":"2"}]}`, `key=<nil> headers=[x="1" x="2" ] value="v"`, ""},
		{`{"value":"v","headers":"nope"}`, "", "line 3: headers:"},
		{`{"valu":"v"}`, "", "line 3: not a JSON record"},
		{`plain text`, "", "line 3: not a JSON record"},
	}
	for _, tt := range tests {
		rec, err := parseJSONRecord([]byte(tt.line), 3)
		if tt.wantErr != "" {
			if err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte(tt.wantErr)) {
				t.Errorf("%s: err %v, want prefix %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		if got := recString(rec); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.line, got, tt.want)
		}
	}
}
