// Package console is Samsa's web console: HTML pages and a JSON API that
// show and steer a Kafka-compatible cluster (brokers, topics, messages,
// consumer groups). It is a Kafka client like any other (franz-go kgo and
// kadm) and reads nothing from broker internals, so it works against any
// Kafka-compatible cluster, not only Samsa.
//
// Every page has a JSON endpoint behind it that returns the same data the
// page draws: /brokers and GET /api/brokers, /topics and GET /api/topics,
// /topics/{topic} and GET /api/topics/{topic}, /consumers and GET
// /api/groups, /consumers/{group} and GET /api/groups/{group}/history,
// /charts and GET /api/history. Actions are JSON requests (POST/DELETE
// under /api/...) made by a little hand-written JavaScript (static/app.js);
// each answers {"message": ...} or {"error": ...} with the broker's own
// error text. An action called with ?cli=1 does nothing and answers {"cli": ...,
// "kafka_cli": ...}: the equivalent `samsa` command and, when Apache
// Kafka's tools can say the same, the kafka-*.sh one ("copy as CLI").
//
// The console talks to one or more clusters (clusters.go): the one it
// started with and any added on the Clusters page, saved in
// Config.StateFile when it is set (state.go). Each
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
// Kafka keeps no history, so the console keeps its own: one goroutine
// (sampler.go) samples every cluster each Config.SampleInterval (end
// offsets, groups, lag) and history.go keeps Config.HistoryWindow of it:
// rates per topic, lag per group and partition, and each group's timeline
// (the differences between two samples). chart.go draws the series as
// inline SVG; static/live.js refreshes the parts of a page marked
// data-live every few seconds.
//
// Files: console.go (Config, Console, routes, rendering, errors),
// brokers.go, topics.go, topic.go, configs.go, messages.go, consumers.go,
// charts.go and clusters.go (one per page or tab: gathering through kadm
// and the handlers), tail.go (live tail), cli.go (the equivalent
// commands), state.go (the saved clusters), sampler.go and history.go
// (the samples), chart.go (SVG). Templates: layout.html, partials.html
// (the group card, the sampling line) and one file per page.
//
// Locks: Console.mu (the clusters), sampler.mu (which history is whose)
// and each history's mu are never held together.
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
