// Package broker turns decoded Kafka requests into calls on storage and meta
// and builds the responses.
//
// One file per API family: produce.go, fetch.go, metadata.go, listoffsets.go,
// topics.go (CreateTopics, DeleteTopics, CreatePartitions), configs.go
// (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs), records.go
// (DeleteRecords), producerid.go (InitProducerId), cluster.go
// (DescribeCluster, DescribeLogDirs), groups.go (FindCoordinator and the
// consumer-group APIs, answered by internal/group), msgset.go (the old
// magic 0/1 message sets of Produce v0–v2 and Fetch v0–v3). Each file opens with the API key and
// the versions served; APIs() returns the same registration the server
// advertises through ApiVersions. errors.go is the one place that maps our
// errors to Kafka error codes.
//
// Start reading at broker.go (Broker, Open, reconcile), then produce.go and
// fetch.go for the hot paths.
//
// Words: hwm is the high watermark (the offset below which records are
// visible to consumers; on one node it is the flushed offset under the
// durable flush policy and the log end offset otherwise), leo the log end
// offset, pid a producer ID.
//
// Imports: group, txn, meta, storage, kmsg, kerr. The server imports this
// package for the handler types in api.go.
// Lock order: Broker.mu before partition.mu.
package broker
