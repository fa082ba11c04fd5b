package meta

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
)

// op names one kind of command. The names are written into the raft log, so
// they never change meaning; a new behaviour gets a new op.
type op string

// The commands the FSM understands.
const (
	opSetClusterID        op = "set_cluster_id"
	opSetController       op = "set_controller"
	opRegisterBroker      op = "register_broker"
	opCreateTopic         op = "create_topic"
	opDeleteTopic         op = "delete_topic"
	opCreatePartitions    op = "create_partitions"
	opAlterTopicConfigs   op = "alter_topic_configs"
	opReplaceTopicConfigs op = "replace_topic_configs"
	opAlterBrokerConfigs  op = "alter_broker_configs"
	opAllocateProducerIDs op = "allocate_producer_ids"
)

// snapshotFormatVersion is written at the head of every snapshot.
const snapshotFormatVersion = 1

// command is one metadata change as written into the raft log: a JSON
// object tagged with its op. Only the fields the op uses are set.
type command struct {
	Op         op                `json:"op"`
	ClusterID  string            `json:"cluster_id,omitempty"`
	NodeID     int32             `json:"node_id,omitempty"`
	Broker     *Broker           `json:"broker,omitempty"`
	Topic      *Topic            `json:"topic,omitempty"`
	Name       string            `json:"name,omitempty"`
	Partitions []Partition       `json:"partitions,omitempty"`
	Set        map[string]string `json:"set,omitempty"`
	Delete     []string          `json:"delete,omitempty"`
	Count      int64             `json:"count,omitempty"`
}

// encode returns the bytes raft stores for c.
func (c *command) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		// Every field is a plain value, a slice or a string-keyed map.
		panic(fmt.Sprintf("meta: encode command %s: %v", c.Op, err))
	}
	return b
}

// decodeCommand parses bytes written by command.encode.
func decodeCommand(b []byte) (*command, error) {
	var c command
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	return &c, nil
}

// result is what the FSM returns for one command, and so what
// ApplyFuture.Response carries back to the Store.
type result struct {
	// err is nil when the command changed (or deliberately left) the state.
	err error
	// value is the first producer ID for opAllocateProducerIDs.
	value int64
}

// apply is the metadata state machine: it returns the state after c and
// c's result. It is pure and deterministic: it reads only s and c, never
// modifies s, and a rejected command returns s itself. Every node applies
// the same commands in the same order and so reaches the same state.
func apply(s *State, c *command) (*State, result) {
	switch c.Op {
	case opSetClusterID:
		return applySetClusterID(s, c)
	case opSetController:
		n := s.clone()
		n.ControllerID = c.NodeID
		return n, result{}
	case opRegisterBroker:
		return applyRegisterBroker(s, c)
	case opCreateTopic:
		return applyCreateTopic(s, c)
	case opDeleteTopic:
		t := s.Topics[c.Name]
		if t == nil {
			return s, result{err: fmt.Errorf("delete topic %q: %w", c.Name, ErrUnknownTopic)}
		}
		n := s.clone()
		delete(n.Topics, t.Name)
		delete(n.byID, t.ID)
		return n, result{}
	case opCreatePartitions:
		return applyCreatePartitions(s, c)
	case opAlterTopicConfigs, opReplaceTopicConfigs:
		return applyTopicConfigs(s, c)
	case opAlterBrokerConfigs:
		n := s.clone()
		n.BrokerConfigs = alterConfigs(s.BrokerConfigs, c.Set, c.Delete)
		return n, result{}
	case opAllocateProducerIDs:
		if c.Count <= 0 || s.NextProducerID > math.MaxInt64-c.Count {
			return s, result{err: fmt.Errorf("allocate %d producer ids from %d: %w", c.Count, s.NextProducerID, ErrInvalidProducerIDCount)}
		}
		n := s.clone()
		first := n.NextProducerID
		n.NextProducerID += c.Count
		return n, result{value: first}
	}
	return s, result{err: fmt.Errorf("apply command: unknown op %q", c.Op)}
}

// applySetClusterID sets the cluster id once; later commands (from a
// second leader racing the first on a fresh cluster) keep the first id.
func applySetClusterID(s *State, c *command) (*State, result) {
	if c.ClusterID == "" {
		return s, result{err: fmt.Errorf("set cluster id: empty id")}
	}
	if s.ClusterID != "" {
		return s, result{}
	}
	n := s.clone()
	n.ClusterID = c.ClusterID
	return n, result{}
}

func applyRegisterBroker(s *State, c *command) (*State, result) {
	b := c.Broker
	if b == nil || b.ID < 0 || b.Host == "" || b.Port <= 0 || b.Port > math.MaxUint16 {
		return s, result{err: fmt.Errorf("register broker %+v: %w", b, ErrInvalidBroker)}
	}
	n := s.clone()
	i, found := slices.BinarySearchFunc(n.Brokers, b.ID, func(x Broker, id int32) int {
		return cmp.Compare(x.ID, id)
	})
	if found {
		n.Brokers[i] = *b
	} else {
		n.Brokers = slices.Insert(n.Brokers, i, *b)
	}
	return n, result{}
}

func applyCreateTopic(s *State, c *command) (*State, result) {
	t := c.Topic
	if t == nil || t.Name == "" || t.ID == ([16]byte{}) {
		return s, result{err: fmt.Errorf("create topic: %w: empty name or zero topic id", ErrInvalidTopic)}
	}
	if s.Topics[t.Name] != nil {
		return s, result{err: fmt.Errorf("create topic %q: %w", t.Name, ErrTopicExists)}
	}
	if other := s.byID[t.ID]; other != nil {
		return s, result{err: fmt.Errorf("create topic %q: %w: topic id already used by %q", t.Name, ErrTopicExists, other.Name)}
	}
	if len(t.Partitions) == 0 {
		return s, result{err: fmt.Errorf("create topic %q: %w: no partitions", t.Name, ErrInvalidPartitions)}
	}
	if err := checkPartitions(t.Partitions, 0); err != nil {
		return s, result{err: fmt.Errorf("create topic %q: %w", t.Name, err)}
	}
	nt := t.clone()
	n := s.clone()
	n.Topics[nt.Name] = nt
	n.byID[nt.ID] = nt
	return n, result{}
}

func applyCreatePartitions(s *State, c *command) (*State, result) {
	t := s.Topics[c.Name]
	if t == nil {
		return s, result{err: fmt.Errorf("create partitions %q: %w", c.Name, ErrUnknownTopic)}
	}
	if len(c.Partitions) == 0 {
		return s, result{err: fmt.Errorf("create partitions %q: %w: topic already has %d partitions", c.Name, ErrInvalidPartitions, len(t.Partitions))}
	}
	if err := checkPartitions(c.Partitions, len(t.Partitions)); err != nil {
		return s, result{err: fmt.Errorf("create partitions %q: %w", c.Name, err)}
	}
	nt := t.clone()
	for _, p := range c.Partitions {
		nt.Partitions = append(nt.Partitions, p.clone())
	}
	return replaceTopic(s, nt), result{}
}

func applyTopicConfigs(s *State, c *command) (*State, result) {
	t := s.Topics[c.Name]
	if t == nil {
		return s, result{err: fmt.Errorf("alter configs of topic %q: %w", c.Name, ErrUnknownTopic)}
	}
	nt := t.clone()
	if c.Op == opReplaceTopicConfigs {
		nt.Configs = cloneConfigs(c.Set)
	} else {
		nt.Configs = alterConfigs(t.Configs, c.Set, c.Delete)
	}
	return replaceTopic(s, nt), result{}
}

// replaceTopic returns s with nt in place of the topic of the same name.
func replaceTopic(s *State, nt *Topic) *State {
	n := s.clone()
	n.Topics[nt.Name] = nt
	n.byID[nt.ID] = nt
	return n
}

// alterConfigs returns a copy of m with set applied and then the keys in
// del removed.
func alterConfigs(m, set map[string]string, del []string) map[string]string {
	n := make(map[string]string, len(m)+len(set))
	maps.Copy(n, m)
	maps.Copy(n, set)
	for _, k := range del {
		delete(n, k)
	}
	return cloneConfigs(n)
}

// checkPartitions validates partitions that are to follow the first
// `start` partitions of a topic.
func checkPartitions(ps []Partition, start int) error {
	if start+len(ps) > math.MaxInt32 {
		return fmt.Errorf("%w: too many partitions", ErrInvalidPartitions)
	}
	for i, p := range ps {
		if want := int32(start + i); p.ID != want {
			return fmt.Errorf("%w: partition id %d, want %d", ErrInvalidPartitions, p.ID, want)
		}
		if len(p.Replicas) == 0 {
			return fmt.Errorf("%w: partition %d has no replicas", ErrInvalidPartitions, p.ID)
		}
		seen := make(map[int32]bool, len(p.Replicas))
		for _, r := range p.Replicas {
			if r < 0 || seen[r] {
				return fmt.Errorf("%w: partition %d has bad replica list %v", ErrInvalidPartitions, p.ID, p.Replicas)
			}
			seen[r] = true
		}
		for _, r := range p.ISR {
			if !seen[r] {
				return fmt.Errorf("%w: partition %d: isr %v is not a subset of replicas %v", ErrInvalidPartitions, p.ID, p.ISR, p.Replicas)
			}
		}
		if p.Leader != NoLeader && !seen[p.Leader] {
			return fmt.Errorf("%w: partition %d: leader %d is not a replica", ErrInvalidPartitions, p.ID, p.Leader)
		}
		if p.LeaderEpoch < 0 {
			return fmt.Errorf("%w: partition %d: negative leader epoch", ErrInvalidPartitions, p.ID)
		}
	}
	return nil
}

// snapshotFile is the JSON document a snapshot holds.
type snapshotFile struct {
	Version int    `json:"version"`
	State   *State `json:"state"`
}

// writeSnapshot writes s in the snapshot format.
func writeSnapshot(w io.Writer, s *State) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(snapshotFile{Version: snapshotFormatVersion, State: s}); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// readSnapshot reads a snapshot written by writeSnapshot and rebuilds the
// indexes the JSON does not carry.
func readSnapshot(r io.Reader) (*State, error) {
	var f snapshotFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if f.Version != snapshotFormatVersion {
		return nil, fmt.Errorf("read snapshot: unknown format version %d", f.Version)
	}
	if f.State == nil {
		return nil, fmt.Errorf("read snapshot: no state")
	}
	s := f.State
	if s.Topics == nil {
		s.Topics = map[string]*Topic{}
	}
	s.BrokerConfigs = cloneConfigs(s.BrokerConfigs)
	s.byID = make(map[[16]byte]*Topic, len(s.Topics))
	for name, t := range s.Topics {
		if t == nil || t.Name != name {
			return nil, fmt.Errorf("read snapshot: topic entry %q does not match its name", name)
		}
		if s.byID[t.ID] != nil {
			return nil, fmt.Errorf("read snapshot: topic id of %q used twice", name)
		}
		t.Configs = cloneConfigs(t.Configs)
		s.byID[t.ID] = t
	}
	return s, nil
}
