package server

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/broker"
)

// testAPIs serves every kmsg key at every version, so the fuzzer explores
// all header and body shapes.
func testAPIs() []*broker.API {
	apis := make([]*broker.API, apiTableSize)
	for key := range int16(apiTableSize) {
		if r := kmsg.RequestForKey(key); r != nil {
			apis[key] = &broker.API{Key: key, MinVersion: 0, MaxVersion: r.MaxVersion()}
		}
	}
	return apis
}

func TestParseHeaderVersions(t *testing.T) {
	apis := testAPIs()
	meta := kmsg.NewPtrMetadataRequest()
	for _, v := range []int16{0, 8, 9, 12} { // v9+ is flexible: header v2 with tags
		meta.Version = v
		b := binary.BigEndian.AppendUint16(nil, 3)
		b = binary.BigEndian.AppendUint16(b, uint16(v))
		b = binary.BigEndian.AppendUint32(b, 77)
		b = binary.BigEndian.AppendUint16(b, 3)
		b = append(b, "cli"...)
		if meta.IsFlexible() {
			b = append(b, 1, 5, 2, 'x', 'y') // one unknown tagged field
		}
		b = meta.AppendTo(b)
		h, rest, err := parseHeader(b, apis)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if h.key != 3 || h.version != v || h.corr != 77 || h.clientID != "cli" {
			t.Fatalf("v%d: header %+v", v, h)
		}
		got := kmsg.NewPtrMetadataRequest()
		got.Version = v
		if err := got.ReadFrom(rest); err != nil {
			t.Fatalf("v%d body: %v", v, err)
		}
	}
}

// FuzzParseHeader feeds arbitrary frames to the header parser and, when the
// header parses, to kmsg's decoder, as a connection does. Properties: no
// panic; a parsed header names a registered API at a served version (or
// ApiVersions); the remaining body is a suffix of the input.
func FuzzParseHeader(f *testing.F) {
	apis := testAPIs()
	seed := func(req kmsg.Request, v int16) []byte {
		req.SetVersion(v)
		b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
		b = binary.BigEndian.AppendUint16(b, uint16(v))
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = append(b, 'c')
		if req.IsFlexible() {
			b = append(b, 0)
		}
		return req.AppendTo(b)
	}
	f.Add(seed(kmsg.NewPtrMetadataRequest(), 12))
	f.Add(seed(kmsg.NewPtrProduceRequest(), 9))
	f.Add(seed(kmsg.NewPtrFetchRequest(), 13))
	f.Add(seed(kmsg.NewPtrApiVersionsRequest(), 3))
	f.Add([]byte{0, 18, 0, 9, 0, 0, 0, 1, 0xff, 0xff})
	f.Add([]byte{0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, body []byte) {
		h, rest, err := parseHeader(body, apis)
		if err != nil {
			return
		}
		api := apis[h.key]
		if api == nil || h.version < api.MinVersion || (h.version > api.MaxVersion && h.key != apiVersionsKey) {
			t.Fatalf("accepted header for unserved api %d v%d", h.key, h.version)
		}
		if len(rest) > len(body) || string(body[len(body)-len(rest):]) != string(rest) {
			t.Fatal("rest is not a suffix of the frame")
		}
		if h.key == apiVersionsKey && h.version > api.MaxVersion {
			return
		}
		req := kmsg.RequestForKey(h.key)
		req.SetVersion(h.version)
		_ = req.ReadFrom(rest) // must not panic
	})
}
