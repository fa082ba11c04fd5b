package meta

import (
	"errors"
	"slices"
	"sort"
)

// Sentinel errors. Validation errors raised inside the FSM travel back to
// the caller through raft's ApplyFuture.Response and keep their identity, so
// callers branch on them with errors.Is.
var (
	// ErrTopicExists: CreateTopic named a topic (or topic ID) that exists.
	ErrTopicExists = errors.New("topic already exists")
	// ErrUnknownTopic: the named topic does not exist.
	ErrUnknownTopic = errors.New("unknown topic")
	// ErrInvalidTopic: the topic name is empty or its ID is all zero.
	ErrInvalidTopic = errors.New("invalid topic")
	// ErrInvalidPartitions: a partition list is empty, out of order, or has a
	// bad replica assignment, or CreatePartitions would not grow the topic.
	ErrInvalidPartitions = errors.New("invalid partitions")
	// ErrInvalidBroker: a broker registration has a negative ID or no host.
	ErrInvalidBroker = errors.New("invalid broker")
	// ErrInvalidProducerIDCount: AllocateProducerIDs was asked for n <= 0
	// IDs, or for more than remain.
	ErrInvalidProducerIDCount = errors.New("invalid producer id count")
	// ErrNotController: this node is not the raft leader, so it cannot
	// change metadata.
	ErrNotController = errors.New("not the controller")
	// ErrClosed: the Store has been closed.
	ErrClosed = errors.New("meta store closed")
)

// NoLeader is the Partition.Leader and State.ControllerID value meaning
// "none", as in Kafka.
const NoLeader int32 = -1

// Broker is one registered broker and the address clients reach it at.
type Broker struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
	Rack string `json:"rack,omitempty"`
}

// Partition is one partition's assignment. Leader is NoLeader when no
// replica leads. LeaderEpoch grows each time the leader changes.
type Partition struct {
	ID          int32   `json:"id"`
	Leader      int32   `json:"leader"`
	LeaderEpoch int32   `json:"leader_epoch"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
}

// Topic is one topic. Partitions[i].ID == i. Configs holds only the
// overrides set on this topic (nil when there are none); defaults live with
// the broker.
type Topic struct {
	Name       string            `json:"name"`
	ID         [16]byte          `json:"id"`
	Partitions []Partition       `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
	Internal   bool              `json:"internal,omitempty"`
}

// State is one immutable snapshot of the cluster metadata. It is never
// modified after the Store publishes it, so any goroutine may read it without
// locks; that includes the *Topic values and the slices and maps inside
// them, which readers must not modify either. A change produces a new State
// that shares the unchanged topics with the old one.
type State struct {
	// ClusterID is Kafka's cluster id: 16 random bytes, base64url without
	// padding (22 characters). Empty only before the first leader sets it.
	ClusterID string `json:"cluster_id"`
	// ControllerID is the node that leads the raft group, as last recorded
	// in the log; NoLeader before the first election.
	ControllerID int32 `json:"controller_id"`
	// Brokers is sorted by ID.
	Brokers []Broker `json:"brokers"`
	// Topics is keyed by name.
	Topics map[string]*Topic `json:"topics"`
	// BrokerConfigs holds the cluster-wide dynamic broker config overrides.
	BrokerConfigs map[string]string `json:"broker_configs,omitempty"`
	// NextProducerID is the producer-ID high-water mark: the first ID the
	// next AllocateProducerIDs hands out. IDs below it were handed out.
	NextProducerID int64 `json:"next_producer_id"`

	// byID indexes Topics by topic ID; rebuilt with Topics, never exported.
	byID map[[16]byte]*Topic
}

// emptyState returns the state of a cluster nobody has written to yet.
func emptyState() *State {
	return &State{
		ControllerID: NoLeader,
		Topics:       map[string]*Topic{},
		byID:         map[[16]byte]*Topic{},
	}
}

// Topic returns the named topic, or nil.
func (s *State) Topic(name string) *Topic {
	return s.Topics[name]
}

// TopicByID returns the topic with the given topic ID, or nil.
func (s *State) TopicByID(id [16]byte) *Topic {
	return s.byID[id]
}

// Broker returns the registered broker with the given ID.
func (s *State) Broker(id int32) (Broker, bool) {
	i, ok := sort.Find(len(s.Brokers), func(i int) int {
		switch {
		case id < s.Brokers[i].ID:
			return -1
		case id > s.Brokers[i].ID:
			return 1
		}
		return 0
	})
	if !ok {
		return Broker{}, false
	}
	return s.Brokers[i], true
}

// TopicNames returns the names of all topics, sorted.
func (s *State) TopicNames() []string {
	names := make([]string, 0, len(s.Topics))
	for name := range s.Topics {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// clone returns a shallow copy of s whose top-level maps and slices may be
// modified; the topics themselves are still shared and must be replaced,
// not modified.
func (s *State) clone() *State {
	n := *s
	n.Brokers = slices.Clone(s.Brokers)
	n.Topics = make(map[string]*Topic, len(s.Topics)+1)
	for k, v := range s.Topics {
		n.Topics[k] = v
	}
	n.byID = make(map[[16]byte]*Topic, len(s.byID)+1)
	for k, v := range s.byID {
		n.byID[k] = v
	}
	n.BrokerConfigs = cloneConfigs(s.BrokerConfigs)
	return &n
}

// clone returns a deep copy of t.
func (t *Topic) clone() *Topic {
	n := *t
	n.Partitions = make([]Partition, len(t.Partitions))
	for i, p := range t.Partitions {
		n.Partitions[i] = p.clone()
	}
	n.Configs = cloneConfigs(t.Configs)
	return &n
}

// clone returns a deep copy of p.
func (p Partition) clone() Partition {
	p.Replicas = slices.Clone(p.Replicas)
	p.ISR = slices.Clone(p.ISR)
	return p
}

// cloneConfigs copies a config map; an empty or nil map becomes nil so that
// states compare equal however they were reached.
func cloneConfigs(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}
