package server

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// header is a decoded request header (v0, v1 or v2).
type header struct {
	key      int16
	version  int16
	corr     int32
	clientID string
}

var errShortHeader = errors.New("request header truncated")

// parseHeader decodes the request header at the start of body and returns
// the remaining bytes. Whether the header carries tagged fields (v2) depends
// on whether the request at that version is flexible, so the API must be
// known and the version served (ApiVersions excepted: any version is read,
// and a too-new one answered with v0).
func parseHeader(body []byte, apis []*broker.API) (header, []byte, error) {
	var h header
	if len(body) < 8 {
		return h, nil, errShortHeader
	}
	h.key = int16(binary.BigEndian.Uint16(body[0:]))
	h.version = int16(binary.BigEndian.Uint16(body[2:]))
	h.corr = int32(binary.BigEndian.Uint32(body[4:]))
	rest := body[8:]
	if h.key < 0 || int(h.key) >= len(apis) || apis[h.key] == nil {
		return h, nil, fmt.Errorf("unsupported api key %d (%s)", h.key, kmsg.NameForKey(h.key))
	}
	api := apis[h.key]
	if h.version < api.MinVersion || (h.version > api.MaxVersion && h.key != apiVersionsKey) {
		return h, nil, fmt.Errorf("unsupported %s version %d (we serve %d-%d)", kmsg.NameForKey(h.key), h.version, api.MinVersion, api.MaxVersion)
	}
	// Client ID: nullable int16-length string in every header version >= 1.
	if len(rest) < 2 {
		return h, nil, errShortHeader
	}
	n := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if n > 0 {
		if len(rest) < int(n) {
			return h, nil, errShortHeader
		}
		h.clientID = string(rest[:n])
		rest = rest[n:]
	} else if n < -1 {
		return h, nil, fmt.Errorf("bad client id length %d", n)
	}
	if h.key == apiVersionsKey && h.version > api.MaxVersion {
		return h, rest, nil // body is not parsed
	}
	probe := kmsg.RequestForKey(h.key)
	probe.SetVersion(h.version)
	if probe.IsFlexible() {
		var err error
		if rest, err = skipTags(rest); err != nil {
			return h, nil, fmt.Errorf("request header tags: %w", err)
		}
	}
	return h, rest, nil
}

// skipTags skips a tagged-field section (uvarint count, then uvarint tag,
// uvarint size and size bytes per field).
func skipTags(b []byte) ([]byte, error) {
	num, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errShortHeader
	}
	b = b[n:]
	for range num {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, errShortHeader
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < size {
			return nil, errShortHeader
		}
		b = b[n+int(size):]
	}
	return b, nil
}
