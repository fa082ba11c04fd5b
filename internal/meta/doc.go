// Package meta holds the cluster metadata — cluster id, controller,
// brokers, topics (name, topic ID, partitions with leader, leader epoch,
// replicas and ISR), per-topic config overrides, cluster-wide broker config
// overrides and the producer-ID (pid) allocator — as a state machine
// replicated with hashicorp/raft. It imports nothing of ours.
//
// # Where to start reading
//
//   - state.go: the State a broker reads, and the sentinel errors.
//   - fsm.go: the commands and apply, the pure, deterministic transition
//     function (old State + command -> new State + result), and the
//     snapshot format.
//   - raft.go: the raft wiring: stores, bootstrap, the raft.FSM adapter,
//     leadership handling, and how a call becomes a raft.Apply.
//   - store.go: Store, the API the broker calls.
//   - logstore.go: the durable raft log and stable store.
//
// # One code path for one node and many
//
// A single broker is a one-voter raft cluster. On first start Open
// bootstraps a configuration whose only voter is Config.NodeID, reached
// over raft's in-memory transport; the cluster issue swaps in
// raft.NewTCPTransport and a voter list, and with it revisits the raft
// timeouts in Config (tuned so one voter elects itself in 50–100 ms).
//
// Each time this node becomes raft leader, its watchLeader goroutine waits
// for a barrier (every earlier entry applied), records itself as
// controller (State.ControllerID) if the log says otherwise, and on a new
// cluster writes a random cluster id. Open returns after the first such
// takeover, so a returned Store is controller and its State is current.
//
// # How the broker reads state
//
// Store.State returns the current *State: an immutable value, never
// modified after publication (that includes its topics, partitions,
// slices and maps, which readers must not modify either). Any goroutine
// may hold and read it without locks; call State again for newer
// metadata. Store.Changes returns a channel closed at the next change
// (broadcast: re-call it after it fires); Store.Watch returns a state and
// the channel for the change after it, with no gap between them.
//
// Changes go through the Store methods, each one raft.Apply of a JSON
// command tagged with its op. The FSM validates it against the state and
// either publishes a new State or returns an error wrapping a sentinel
// (ErrTopicExists, ErrUnknownTopic, ErrInvalidPartitions, ...), which
// reaches the caller through ApplyFuture.Response. A node that is not the
// raft leader returns ErrNotController. Callers that need randomness (topic
// IDs: NewUUID) choose it before the call, so every node applies the same
// bytes to the same result. The FSM keeps the state consistent (partitions
// numbered 0..n-1, leader and ISR within the replicas, unique names and
// topic IDs, disjoint pid blocks) but leaves policy to the broker: topic
// name rules, config keys and values, and whether replicas are registered
// brokers are not checked here.
//
// # On disk: <data>/meta/
//
//	raft.log        the raft log: append-only records, fsynced per write
//	raft.log.tmp    only during a rewrite of raft.log (removed at Open)
//	stable.json     raft's current term and vote; replaced atomically
//	stable.json.tmp only during a write of stable.json (removed at Open)
//	snapshots/      raft.FileSnapshotStore: <term>-<index>-<ms>/{meta.json,state.bin}
//
// Every record in raft.log is framed the same way (integers big-endian):
//
//	+-----------+-----------+---------------------+
//	| len  u32  | crc  u32  | payload (len bytes) |
//	+-----------+-----------+---------------------+
//
// crc is CRC-32C (Castagnoli) of the payload alone. The payload's first
// byte is its kind:
//
//	entry (kind 1):
//	+----+-----------+----------+---------+-----------------+----------+------+----------+------------+
//	| 01 | index u64 | term u64 | type u8 | appended_at i64 | dlen u32 | data | elen u32 | extensions |
//	+----+-----------+----------+---------+-----------------+----------+------+----------+------------+
//
//	delete range (kind 2):
//	+----+---------+---------+
//	| 02 | min u64 | max u64 |   entries min..max (inclusive) are gone
//	+----+---------+---------+
//
// appended_at is Unix nanoseconds, 0 for none. Replaying the records in
// order rebuilds the log, which is held in memory in full (metadata is low
// volume). Entries are contiguous; raft deletes only a prefix (compaction
// after a snapshot) or a suffix (conflicting entries). A short or
// checksum-failing last record is a torn write: Open cuts it off and logs
// how many bytes it dropped. Damage before the last record is a
// *CorruptionError (file and offset) and Open fails. When deleted entries
// are more than half the file (and over 1 MiB), raft.log is rewritten with
// only the live entries into raft.log.tmp, fsynced, and renamed over it.
//
// A snapshot's state.bin is one JSON document {"version":1,"state":{...}},
// the whole State; byID is rebuilt on restore. Raft takes one every
// SnapshotThreshold changes (and on Store.Snapshot) and keeps
// TrailingLogs entries behind it.
//
// # Concurrency
//
// Raft applies commands, takes snapshots and restores them from its one
// FSM goroutine, which alone publishes States. Store.mu guards the change
// channel and the closed flag; logStore.mu and stableStore.mu guard their
// stores. No lock is held while taking another.
package meta
