// Package group is the group coordinator: Kafka's classic group protocol
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), committed offsets
// (OffsetCommit, OffsetFetch, OffsetDelete) and group administration
// (ListGroups, DescribeGroups, DeleteGroups), made durable as records in
// the internal topic __consumer_offsets. It imports storage and kmsg (for
// Kafka's record key and value formats); it chooses no Kafka error codes:
// its sentinel errors (errors.go) are mapped by broker/errors.go.
//
// # Where to start reading
//
//   - coordinator.go: Coordinator, partitions handed over by the broker
//     (Load, Unload), the write path to __consumer_offsets and the replay.
//   - group.go: a group's state and the rebalance state machine (prepare,
//     complete the join phase, propagate assignments, session expiry).
//   - membership.go: Join, Sync, Heartbeat, Leave.
//   - offsets.go: CommitOffsets, FetchOffsets, DeleteOffsets, retention.
//   - admin.go: ListGroups, Describe, DeleteGroups.
//   - records.go: the __consumer_offsets record codec and PartitionFor.
//
// # Words
//
//	generation   the group's rebalance counter; members act in one
//	member ID    assigned by the coordinator: client ID (or instance ID) + "-" + UUID
//	instance ID  group.instance.id of a static member (KIP-345)
//	leader       the member that computes the assignment for a generation
//	pending      a member ID handed out with MEMBER_ID_REQUIRED, not yet joined
//	pending sync a member of the generation that has not sent SyncGroup yet
//	shard        one __consumer_offsets partition and the groups it owns
//
// # States (Kafka's ClassicGroupState)
//
//	Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
//	  ▲                   ▲   │                                        │
//	  │                   │   └──no member left──▶ Empty               │ leader's
//	  │                   └──join, leave, expiry, new metadata─────────┤ SyncGroup
//	  │                                                                ▼ durable
//	  └──last member leaves or expires (via a rebalance)◀────────── Stable
//	Dead: deleted, expired or unloaded (from any state)
//
// A group starts its first generation after group.initial.rebalance.delay
// (Config.InitialRebalanceDelay), extended by one delay each time another
// member joins in it, up to the rebalance timeout. Kafka's default is 3 s;
// ours is 300 ms: the consumers of one program (the lab's post office
// starts N threads together) join within milliseconds of each other, so a
// short window still gathers them into one generation, while a newcomer
// waits a tenth of the time for its first records. Later rebalances end as
// soon as every member has rejoined, or after the rebalance timeout.
//
// Session timeouts: each member has a deadline (last heartbeat, join, sync
// or commit plus its session timeout) and one timer that fires at it;
// a heartbeat only moves the deadline, the timer re-arms itself. A member
// waiting in JoinGroup or SyncGroup does not expire (the rebalance timeout
// governs it), except a member new to this rebalance, which expires after
// Config.NewMemberJoinTimeout. Timers come from Config.Clock, so tests
// drive them with a manual clock.
//
// # Durability
//
// A group lives on partition PartitionFor(group, N) of __consumer_offsets
// (Kafka's abs(javaHashCode) % N). Commits and group metadata are records
// in Kafka's own formats (records.go), appended as magic-2 batches with
// storage.Log.Append. A single write loop waits for each batch with
// WaitFlushed, in append order, and only then applies it in memory and
// answers: a commit becomes visible to OffsetFetch, and a leader's
// assignment reaches the members, once it is durable; applying in log
// order keeps memory equal to what a replay would rebuild. Replay (Load)
// reads a partition from its log start: the last record of a key wins,
// tombstones delete, groups whose last metadata has members come back
// Stable with their assignments and fresh session timers (members that
// are still alive just keep heartbeating). Until it finishes, requests for
// the partition's groups get ErrCoordinatorLoadInProgress.
//
// Retention: every Config.OffsetsRetentionCheckInterval (and after each
// load) offsets of topics that no longer exist are removed, and offsets
// older than Config.OffsetsRetention are removed from groups that have
// been empty that long (from Stable consumer groups: of topics they no
// longer subscribe to); an empty group left with no offsets is removed
// with a tombstone. Storage does not compact yet, so the partitions grow
// with every commit until that lands; a replay reads all of it.
//
// Partitions: 50 by default, as Kafka's offsets.topic.num.partitions.
// Measured on a 2-core machine creating the topic takes about 250 ms (5 ms
// a partition, mostly fsyncs), once, on the first FindCoordinator, and each
// partition holds three open files; we keep Kafka's number so that groups
// land on the partitions Kafka would pick.
//
// # Concurrency
//
// One mutex per group guards its state (group.mu); handlers, timers and the
// write loop all take it, so a group's transitions are serialised. Requests
// that must wait (JoinGroup until the join phase ends, SyncGroup until the
// assignment is durable, commits until durable) get a channel of capacity
// one that the coordinator fills exactly once; the broker waits on it in
// its Finish function, never in the handler.
//
// Lock order: group.mu → shard.mu, and group.mu → shard.wmu →
// Coordinator.appendMu; Coordinator.mu → shard.mu (Coordinator.mu is never
// held while a group is locked). timers.mu is a leaf. The write loop calls
// done functions with no lock held.
//
// Goroutines: the write loop, one replay per Load, the DeleteGroups waiter
// and timer callbacks; Close stops the timers and waits for all of them.
// Bounded queues: writes awaiting durability (Config.MaxPendingWrites),
// members and pending members per group (Config.MaxGroupSize).
package group
