package broker

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request is what a handler sees besides the decoded kmsg request.
type Request struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string // "" when the client sent null
	Remote        net.Addr
	ConnID        uint64
	// Scratch returns a buffer of length n that stays valid until this
	// request's response has been written; the server recycles it then.
	// Hot paths (fetch reads) use it instead of allocating.
	Scratch func(n int) []byte
}

// Finish completes a deferred response on the writer goroutine. It returns
// nil when no response must be sent. ctx is cancelled when the connection
// closes or the server shuts down: a waiting handler then answers at once
// with what it has.
type Finish func(ctx context.Context) kmsg.Response

// HandlerFunc handles one decoded request. It returns either a response, or
// a Finish function (and a nil response) when the answer depends on slow work,
// or neither when the request gets no response (Produce with acks=0).
type HandlerFunc func(ctx context.Context, r *Request, req kmsg.Request) (kmsg.Response, Finish)

// API is one registered Kafka API: its key, the versions served and the
// handler. ApiVersions advertises exactly these ranges.
type API struct {
	Key        int16
	MinVersion int16
	MaxVersion int16
	Handle     HandlerFunc
}
