package cli

// Turning input lines into records: Kafka's console producer line format
// (parse.key, key.separator, parse.headers ...) and samsa's JSON format.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lineFormat is Kafka's LineMessageReader: a line is
// [headers<headers.delimiter>][key<key.separator>]value.
type lineFormat struct {
	parseKey      bool
	keySep        string // key.separator; default "\t"
	parseHeaders  bool
	headersDelim  string  // between the headers and the rest; default "\t"
	headersSep    string  // between headers; default ","
	headerKeySep  string  // between a header's key and value; default ":"
	ignoreError   bool    // a line without a separator becomes the whole value
	nullMarker    *string // a key, value or header value equal to it is null; nil for none
	staticHeaders []kgo.RecordHeader
}

// defaultLineFormat is Kafka's default: the whole line is the value.
func defaultLineFormat() lineFormat {
	return lineFormat{keySep: "\t", headersDelim: "\t", headersSep: ",", headerKeySep: ":"}
}

// lineFormatFromProps reads Kafka's reader properties.
func lineFormatFromProps(props map[string]string) (lineFormat, error) {
	f := defaultLineFormat()
	for k, v := range props {
		switch k {
		case "parse.key":
			f.parseKey = propBool(props, k, false)
		case "key.separator":
			f.keySep = v
		case "parse.headers":
			f.parseHeaders = propBool(props, k, false)
		case "headers.delimiter":
			f.headersDelim = v
		case "headers.separator":
			f.headersSep = v
		case "headers.key.separator":
			f.headerKeySep = v
		case "ignore.error":
			f.ignoreError = propBool(props, k, false)
		case "null.marker":
			f.nullMarker = &v
		default:
			return f, usagef("--property %s: not supported; use parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error or null.marker", k)
		}
	}
	for name, sep := range map[string]string{"key.separator": f.keySep, "headers.delimiter": f.headersDelim, "headers.separator": f.headersSep, "headers.key.separator": f.headerKeySep} {
		if sep == "" {
			return f, usagef("--property %s: must not be empty", name)
		}
	}
	return f, nil
}

// nullable returns nil for the null marker, else b.
func (f *lineFormat) nullable(b []byte) []byte {
	if f.nullMarker != nil && string(b) == *f.nullMarker {
		return nil
	}
	return b
}

// parse turns line number n (1-based) into a record.
func (f *lineFormat) parse(line []byte, n int) (*kgo.Record, error) {
	rec := &kgo.Record{Headers: append([]kgo.RecordHeader(nil), f.staticHeaders...)}
	rest := line
	if f.parseHeaders {
		i := bytes.Index(rest, []byte(f.headersDelim))
		switch {
		case i >= 0:
			rec.Headers = append(rec.Headers, f.headers(rest[:i])...)
			rest = rest[i+len(f.headersDelim):]
		case !f.ignoreError:
			return nil, kafkaErrorf("No headers delimiter found on line number %d: '%s'", n, line)
		}
	}
	if f.parseKey {
		i := bytes.Index(rest, []byte(f.keySep))
		switch {
		case i >= 0:
			rec.Key = f.nullable(clone(rest[:i]))
			rest = rest[i+len(f.keySep):]
		case !f.ignoreError:
			return nil, kafkaErrorf("No key separator found on line number %d: '%s'", n, line)
		}
	}
	rec.Value = f.nullable(clone(rest))
	return rec, nil
}

// headers parses "k1:v1,k2:v2"; a header without the key separator has a
// null value.
func (f *lineFormat) headers(b []byte) []kgo.RecordHeader {
	if len(b) == 0 {
		return nil
	}
	var hs []kgo.RecordHeader
	for _, h := range strings.Split(string(b), f.headersSep) {
		k, v, ok := strings.Cut(h, f.headerKeySep)
		hdr := kgo.RecordHeader{Key: k}
		if ok {
			hdr.Value = f.nullable([]byte(v))
		}
		hs = append(hs, hdr)
	}
	return hs
}

// clone copies b so the record does not alias the read buffer; a nil
// stays nil and an empty slice stays empty.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// jsonRecord is one line of `samsa produce --format json`.
type jsonRecord struct {
	Key     json.RawMessage `json:"key"`
	Value   json.RawMessage `json:"value"`
	Headers json.RawMessage `json:"headers"`
}

// parseJSONRecord turns a JSON object line into a record. key and value
// may be strings (their text is sent), null or any other JSON value (sent
// as compact JSON); headers an object of strings or an array of
// {"key","value"} objects.
func parseJSONRecord(line []byte, n int) (*kgo.Record, error) {
	var jr jsonRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jr); err != nil {
		return nil, fmt.Errorf("line %d: not a JSON record ({\"key\":...,\"value\":...,\"headers\":{...}}): %w", n, err)
	}
	rec := &kgo.Record{}
	var err error
	if rec.Key, err = jsonBytes(jr.Key); err != nil {
		return nil, fmt.Errorf("line %d: key: %w", n, err)
	}
	if rec.Value, err = jsonBytes(jr.Value); err != nil {
		return nil, fmt.Errorf("line %d: value: %w", n, err)
	}
	if len(jr.Headers) > 0 && string(jr.Headers) != "null" {
		var obj map[string]*string
		var arr []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		}
		switch {
		case json.Unmarshal(jr.Headers, &obj) == nil:
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				h := kgo.RecordHeader{Key: k}
				if v := obj[k]; v != nil {
					h.Value = []byte(*v)
				}
				rec.Headers = append(rec.Headers, h)
			}
		case json.Unmarshal(jr.Headers, &arr) == nil:
			for _, a := range arr {
				h := kgo.RecordHeader{Key: a.Key}
				if a.Value != nil {
					h.Value = []byte(*a.Value)
				}
				rec.Headers = append(rec.Headers, h)
			}
		default:
			return nil, fmt.Errorf("line %d: headers: use {\"name\":\"value\",...} or [{\"key\":\"name\",\"value\":\"value\"},...]", n)
		}
	}
	return rec, nil
}

// jsonBytes is the record bytes for a JSON key or value: a string's text,
// nil for null or absent, compact JSON otherwise.
func jsonBytes(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
