package broker

// CreateTopics (key 19), v0–v7. v1 adds ValidateOnly and error messages, v5
// returns partitions, replication factor and configs of the created topic, v7
// the topic ID.
// DeleteTopics (key 20), v0–v6. v5 adds error messages, v6 deletion by topic
// ID.
// CreatePartitions (key 37), v0–v3. Partitions can only be increased.

import (
	"context"
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/meta"
)

// maxPartitions bounds one topic's partition count, so one request cannot
// make the broker open an absurd number of files.
const maxPartitions = 10000

// topicSpec is what a client asks for when creating a topic; -1 means the
// broker default.
type topicSpec struct {
	name       string
	partitions int32
	rf         int16
	assignment [][]int32 // manual replica assignment, one entry per partition
	configs    map[string]string
}

// createTopic validates spec and, unless validateOnly, creates the topic in
// the metadata and opens its logs.
func (b *Broker) createTopic(ctx context.Context, spec topicSpec, validateOnly bool) (*meta.Topic, error) {
	if err := validateTopicName(spec.name); err != nil {
		return nil, err
	}
	st := b.meta.State()
	if st.Topic(spec.name) != nil {
		return nil, fail(errTopicExists, "Topic '%s' already exists.", spec.name)
	}
	if norm := collisionName(spec.name); norm != spec.name || strings.ContainsAny(spec.name, "._") {
		for _, other := range st.TopicNames() {
			if collisionName(other) == norm {
				return nil, fail(errInvalidTopic, "Topic '%s' collides with existing topic: %s", spec.name, other)
			}
		}
	}
	var parts []meta.Partition
	if len(spec.assignment) > 0 {
		if spec.partitions != -1 || spec.rf != -1 {
			return nil, fail(errInvalidRequest, "both numPartitions or replicationFactor and replicasAssignments were set; both cannot be used at the same time")
		}
		var err error
		if parts, err = manualAssignment(st, 0, spec.assignment); err != nil {
			return nil, err
		}
	} else {
		n, rf := spec.partitions, spec.rf
		if n == -1 {
			n = b.cfg.DefaultPartitions
		}
		if rf == -1 {
			rf = b.cfg.DefaultReplicationFactor
		}
		if n <= 0 {
			return nil, fail(errInvalidPartitions, "number of partitions was set to an invalid non-positive value")
		}
		if n > maxPartitions {
			return nil, fail(errInvalidPartitions, "number of partitions %d is above this broker's limit of %d", n, maxPartitions)
		}
		if rf <= 0 {
			return nil, fail(errInvalidReplicationFactor, "replication factor must be larger than 0, or -1 to use the default value")
		}
		var err error
		if parts, err = assignReplicas(st, 0, n, rf); err != nil {
			return nil, err
		}
	}
	if err := validateTopicConfigs(spec.configs); err != nil {
		return nil, err
	}
	t := &meta.Topic{Name: spec.name, ID: newTopicID(), Partitions: parts, Configs: spec.configs}
	if validateOnly {
		return t, nil
	}
	if err := b.meta.CreateTopic(ctx, *t); err != nil {
		return nil, err
	}
	if err := b.reconcile(); err != nil {
		return nil, err
	}
	return t, nil
}

// collisionName is the name under which '.' and '_' collide in metric names,
// which is why Kafka refuses topics differing only there.
func collisionName(name string) string { return strings.ReplaceAll(name, ".", "_") }

// manualAssignment validates a client's replica assignment for partitions
// first, first+1, ...
func manualAssignment(st *meta.State, first int32, assignment [][]int32) ([]meta.Partition, error) {
	parts := make([]meta.Partition, len(assignment))
	for i, replicas := range assignment {
		if len(replicas) == 0 {
			return nil, fail(errInvalidReplicaAssignment, "partition %d has an empty replica list", first+int32(i))
		}
		if len(replicas) != len(assignment[0]) {
			return nil, fail(errInvalidReplicaAssignment, "all partitions must have the same number of replicas")
		}
		seen := map[int32]bool{}
		for _, r := range replicas {
			if _, ok := st.Broker(r); !ok {
				return nil, fail(errInvalidReplicaAssignment, "broker %d in the assignment of partition %d does not exist", r, first+int32(i))
			}
			if seen[r] {
				return nil, fail(errInvalidReplicaAssignment, "duplicate broker %d in the assignment of partition %d", r, first+int32(i))
			}
			seen[r] = true
		}
		parts[i] = meta.Partition{ID: first + int32(i), Leader: replicas[0], Replicas: replicas, ISR: append([]int32(nil), replicas...)}
	}
	return parts, nil
}

func (b *Broker) handleCreateTopics(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := make(map[string]int)
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		out := kmsg.NewCreateTopicsResponseTopic()
		out.Topic = rt.Topic
		out.NumPartitions, out.ReplicationFactor = -1, -1
		if seen[rt.Topic] > 1 {
			err := fail(errInvalidRequest, "create topics request contains topic %s more than once", rt.Topic)
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
			resp.Topics = append(resp.Topics, out)
			continue
		}
		if rt.Topic == group.OffsetsTopic {
			err := fail(errInvalidRequest, "Creation of internal topic %s is prohibited.", rt.Topic)
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
			resp.Topics = append(resp.Topics, out)
			continue
		}
		spec := topicSpec{name: rt.Topic, partitions: rt.NumPartitions, rf: rt.ReplicationFactor}
		for _, a := range rt.ReplicaAssignment {
			_ = a.Partition // Kafka requires them in order 0..n-1; we take list order
			spec.assignment = append(spec.assignment, a.Replicas)
		}
		var err error
		if spec.configs, err = configMap(rt.Configs); err == nil {
			var t *meta.Topic
			if t, err = b.createTopic(ctx, spec, req.ValidateOnly); err == nil {
				out.TopicID = t.ID
				out.NumPartitions = int32(len(t.Partitions))
				out.ReplicationFactor = int16(len(t.Partitions[0].Replicas))
				out.Configs = b.createdTopicConfigs(t)
				b.log.Info("created topic", "topic", t.Name, "partitions", len(t.Partitions), "validate_only", req.ValidateOnly, "client_id", r.ClientID)
			}
		}
		if err != nil {
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp, nil
}

func configMap(cfgs []kmsg.CreateTopicsRequestTopicConfig) (map[string]string, error) {
	if len(cfgs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(cfgs))
	for _, c := range cfgs {
		if c.Value == nil {
			return nil, fail(errInvalidConfig, "null value not supported for topic config %s", c.Name)
		}
		m[c.Name] = *c.Value
	}
	return m, nil
}

func (b *Broker) handleDeleteTopics(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	targets := req.Topics
	if req.Version < 6 {
		targets = nil
		for _, name := range req.TopicNames {
			t := kmsg.NewDeleteTopicsRequestTopic()
			t.Topic = &name
			targets = append(targets, t)
		}
	}
	for _, rt := range targets {
		out := kmsg.NewDeleteTopicsResponseTopic()
		out.Topic, out.TopicID = rt.Topic, rt.TopicID
		err := b.deleteTopic(ctx, rt, &out)
		if err != nil {
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		} else {
			b.log.Info("deleted topic", "topic", *out.Topic, "client_id", r.ClientID)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp, nil
}

func (b *Broker) deleteTopic(ctx context.Context, rt kmsg.DeleteTopicsRequestTopic, out *kmsg.DeleteTopicsResponseTopic) error {
	st := b.meta.State()
	var t *meta.Topic
	if rt.Topic != nil && *rt.Topic != "" {
		if t = st.Topic(*rt.Topic); t == nil {
			return errUnknownTopicOrPartition
		}
	} else if t = st.TopicByID(rt.TopicID); t == nil {
		return errUnknownTopicID
	}
	name := t.Name
	out.Topic, out.TopicID = &name, t.ID
	if t.Internal {
		return fail(errInvalidRequest, "Topic %s is an internal topic and cannot be deleted.", name)
	}
	if err := b.meta.DeleteTopic(ctx, name); err != nil {
		if errors.Is(err, meta.ErrUnknownTopic) {
			return errUnknownTopicOrPartition
		}
		return err
	}
	return b.reconcile()
}

func (b *Broker) handleCreatePartitions(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := make(map[string]int)
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		out := kmsg.NewCreatePartitionsResponseTopic()
		out.Topic = rt.Topic
		var err error
		if seen[rt.Topic] > 1 {
			err = fail(errInvalidRequest, "duplicate topic %s in the request", rt.Topic)
		} else {
			err = b.createPartitions(ctx, rt, req.ValidateOnly)
		}
		if err != nil {
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		} else if !req.ValidateOnly {
			b.log.Info("increased partitions", "topic", rt.Topic, "partitions", rt.Count, "client_id", r.ClientID)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp, nil
}

func (b *Broker) createPartitions(ctx context.Context, rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) error {
	st := b.meta.State()
	t := st.Topic(rt.Topic)
	if t == nil {
		return errUnknownTopicOrPartition
	}
	cur := int32(len(t.Partitions))
	switch {
	case rt.Count < cur:
		return fail(errInvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", rt.Topic, cur, rt.Count)
	case rt.Count == cur:
		return fail(errInvalidPartitions, "Topic already has %d partition(s).", cur)
	case rt.Count > maxPartitions:
		return fail(errInvalidPartitions, "number of partitions %d is above this broker's limit of %d", rt.Count, maxPartitions)
	}
	add := rt.Count - cur
	var parts []meta.Partition
	var err error
	if rt.Assignment != nil {
		if int32(len(rt.Assignment)) != add {
			return fail(errInvalidReplicaAssignment, "attempted to add %d additional partition(s), but only %d assignment(s) were specified", add, len(rt.Assignment))
		}
		as := make([][]int32, len(rt.Assignment))
		for i, a := range rt.Assignment {
			as[i] = a.Replicas
		}
		parts, err = manualAssignment(st, cur, as)
	} else {
		parts, err = assignReplicas(st, cur, add, int16(len(t.Partitions[0].Replicas)))
	}
	if err != nil || validateOnly {
		return err
	}
	if err := b.meta.CreatePartitions(ctx, rt.Topic, parts); err != nil {
		return err
	}
	return b.reconcile()
}
