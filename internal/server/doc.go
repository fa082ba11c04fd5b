// Package server accepts Kafka client connections and turns bytes into calls.
//
// It owns the TCP listener, one reader and one writer goroutine per
// connection, frame reading (a 4-byte big-endian size then the request),
// the request header (v0/v1/v2, the latter with tagged fields), decoding of
// the body with kmsg, dispatch by API key to the handlers the broker
// registers, the ApiVersions table (built from that same registration, so
// advertised versions cannot drift from the code), and per-connection
// limits. It knows kmsg, not storage.
//
// Start reading at Server.Serve, then conn.go.
//
// Ordering: requests of one connection are handled one after another on the
// reader goroutine, in arrival order, so their effects (appends, topic
// creation) happen in request order. A handler that must wait (fsync, long
// poll) returns a Finish function instead of a response; the writer
// goroutine calls Finish functions and writes responses strictly in request
// order, so many requests are in flight per connection while responses stay
// ordered, as Kafka requires.
//
// Malformed input (a bad size, an unknown API key or version, a body kmsg
// cannot decode) closes that connection with one Warn log line and never
// affects others. A panic in a handler is recovered, logged with its stack
// and closes only that connection.
package server
