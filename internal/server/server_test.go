package server_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// frame builds a request frame with a v1 header (or v2 when flexible).
func frame(req kmsg.Request, corr int32, clientID string) []byte {
	var b []byte
	b = append(b, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	b = append(b, clientID...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func readResponse(t *testing.T, c net.Conn) (corr int32, body []byte, err error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return 0, nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, nil, err
	}
	return int32(binary.BigEndian.Uint32(buf)), buf[4:], nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectClosed asserts the broker closed the connection.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	if _, _, err := readResponse(t, c); err == nil {
		t.Fatal("connection still answers after bad input")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection left open after bad input")
	}
}

func TestApiVersionsAdvertisesServedRanges(t *testing.T) {
	b := samsatest.Start(t)
	c := dial(t, b.Addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	c.Write(frame(req, 7, "t"))
	corr, body, err := readResponse(t, c)
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	if err := resp.ReadFrom(body); err != nil || corr != 7 {
		t.Fatalf("decode: %v corr %d", err, corr)
	}
	got := map[int16][2]int16{}
	for _, k := range resp.ApiKeys {
		got[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	for key, want := range map[int16][2]int16{18: {0, 4}, 3: {0, 12}} {
		if got[key] != want {
			t.Errorf("api %d: got %v want %v", key, got[key], want)
		}
	}
}

func TestApiVersionsTooNewFallsBackToV0(t *testing.T) {
	b := samsatest.Start(t)
	c := dial(t, b.Addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 5 // newer than we serve (v4)
	c.Write(frame(req, 9, "t"))
	corr, body, err := readResponse(t, c)
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil || corr != 9 {
		t.Fatalf("decode v0: %v", err)
	}
	if resp.ErrorCode != 35 || len(resp.ApiKeys) == 0 {
		t.Fatalf("want UNSUPPORTED_VERSION with the table, got code %d and %d keys", resp.ErrorCode, len(resp.ApiKeys))
	}
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	b := samsatest.Start(t)
	good := dial(t, b.Addr)
	cases := map[string][]byte{
		"negative size":   {0xff, 0xff, 0xff, 0xff},
		"oversized frame": {0x7f, 0xff, 0xff, 0xff},
		"unknown api key": append([]byte{0, 0, 0, 10}, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff),
		"truncated body": func() []byte {
			f := frame(kmsg.NewPtrMetadataRequest(), 1, "x")
			f = append(f[:len(f)-1:len(f)-1], 0xff, 0xff, 0xff)
			return f
		}(),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			c := dial(t, b.Addr)
			c.Write(bad)
			expectClosed(t, c)
		})
	}
	unsupported := kmsg.NewPtrProduceRequest()
	unsupported.Version = 13 // above what we serve
	c := dial(t, b.Addr)
	c.Write(frame(unsupported, 1, "x"))
	expectClosed(t, c)

	// The other connection and the broker are fine.
	good.Write(frame(kmsg.NewPtrMetadataRequest(), 42, "good"))
	if corr, _, err := readResponse(t, good); err != nil || corr != 42 {
		t.Fatalf("healthy connection: corr %d err %v", corr, err)
	}
}

func TestResponsesComeInRequestOrder(t *testing.T) {
	b := samsatest.Start(t)
	c := dial(t, b.Addr)
	// A long-polling fetch first, then quick requests: answers stay in order.
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 11
	fetch.MaxWaitMillis = 300
	fetch.MinBytes = 1
	var out []byte
	out = append(out, frame(fetch, 1, "x")...)
	for i := int32(2); i <= 5; i++ {
		out = append(out, frame(kmsg.NewPtrMetadataRequest(), i, "x")...)
	}
	c.Write(out)
	for want := int32(1); want <= 5; want++ {
		corr, _, err := readResponse(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if corr != want {
			t.Fatalf("response %d came for request %d", corr, want)
		}
	}
}
