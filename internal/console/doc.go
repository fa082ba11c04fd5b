// Package console is Samsa's web console: HTML pages and a JSON API that
// show and steer a Kafka-compatible cluster (brokers, topics, messages,
// consumer groups). It is a Kafka client like any other (franz-go kgo and
// kadm) and reads nothing from broker internals, so it works against any
// Kafka-compatible cluster, not only Samsa.
//
// Every page has a JSON endpoint behind it that returns the same data the
// page draws: /brokers and GET /api/brokers, /topics and GET /api/topics,
// /topics/{topic} and GET /api/topics/{topic}, /consumers and GET
// /api/groups. Actions are JSON requests (POST/DELETE under /api/...) made
// by a little hand-written JavaScript (static/app.js); each answers
// {"message": ...} or {"error": ...} with the broker's own error text. An
// action called with ?cli=1 does nothing and answers {"cli": ...}: the
// equivalent `samsa` command ("copy as CLI command").
//
// The console talks to one or more clusters (clusters.go): the one it
// started with and any added on the Clusters page, kept in memory. Each
// request works against the cluster chosen by ?cluster=NAME (remembered in
// a cookie) or the cookie, else the startup one; ServeHTTP puts it in the
// request's context and the gathering code reads it with clusterOf.
// GET /api/topics/{topic}/tail streams new records as Server-Sent Events
// (tail.go), bounded by Config.TailDuration.
//
// Pages are html/template files in templates/ (one per page, plus
// layout.html); CSS and JS are in static/. Both are embedded with embed.FS,
// so the console needs no build step and no network beyond the cluster.
//
// Files: console.go (Config, Console, routes, rendering, errors),
// brokers.go, topics.go, topic.go, messages.go, consumers.go and
// clusters.go (one per page: gathering through kadm and the handlers),
// tail.go (live tail), cli.go (the equivalent commands).
//
// Every admin call runs under Config.RequestTimeout. When no broker
// answers, pages say "cluster unreachable" and the API answers 503; the
// page polls /api/health and reloads itself when the cluster is back.
//
// May import: franz-go (kgo, kadm, kmsg, kerr) and the standard library.
// Nothing of ours.
//
// Start reading at console.go (New, routes), then the page you care about.
package console
