// Package storage is the partition log: record batch validation, segments,
// offset and time indexes, append, read, group commit, crash recovery,
// retention and idempotent producer state. It imports nothing of ours.
//
// Start reading at Manager (manager.go) and Log (log.go). The on-disk
// format and the locking rules are below; recovery is in recovery.go.
package storage
