package broker

// Metadata (key 3), v0–v12. v1 adds the controller id and the internal flag,
// v2 the cluster id, v4 AllowAutoTopicCreation (before v4 a request for an
// unknown topic always may create it), v5 offline replicas, v7 leader epochs,
// v8 authorized operations (we do no authorization and answer "unknown"),
// v10 topic IDs, v12 lookups by topic ID alone.

import (
	"context"
	"errors"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/meta"
)

const authorizedOpsUnknown = math.MinInt32

func (b *Broker) handleMetadata(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	st := b.meta.State()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, name := range st.TopicNames() {
			resp.Topics = append(resp.Topics, b.metadataTopic(st, st.Topic(name)))
		}
	}
	mayCreate := b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		var t *meta.Topic
		switch {
		case rt.Topic == nil || *rt.Topic == "":
			t = st.TopicByID(rt.TopicID)
			if t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.TopicID = rt.TopicID
				mt.ErrorCode = errCode(errUnknownTopicID)
				mt.AuthorizedOperations = authorizedOpsUnknown
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		default:
			name := *rt.Topic
			t = st.Topic(name)
			if t == nil && mayCreate {
				var err error
				t, err = b.autoCreate(ctx, name)
				if err != nil {
					mt := kmsg.NewMetadataResponseTopic()
					mt.Topic = &name
					mt.ErrorCode = errCode(err)
					mt.AuthorizedOperations = authorizedOpsUnknown
					resp.Topics = append(resp.Topics, mt)
					continue
				}
				st = b.meta.State()
			}
			if t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic = &name
				mt.ErrorCode = errCode(errUnknownTopicOrPartition)
				mt.AuthorizedOperations = authorizedOpsUnknown
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		}
		resp.Topics = append(resp.Topics, b.metadataTopic(st, t))
	}
	// Brokers last: auto-create may have changed nothing about them, but the
	// state we answer from should be the newest.
	for _, br := range st.Brokers {
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port = br.ID, br.Host, br.Port
		if br.Rack != "" {
			rack := br.Rack
			mb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, mb)
	}
	cid := st.ClusterID
	resp.ClusterID = &cid
	resp.ControllerID = st.ControllerID
	resp.AuthorizedOperations = authorizedOpsUnknown
	return resp, nil
}

func (b *Broker) metadataTopic(st *meta.State, t *meta.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic = &name
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal
	mt.AuthorizedOperations = authorizedOpsUnknown
	for _, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = p.ID
		mp.Leader = p.Leader
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = p.Replicas
		mp.ISR = p.ISR
		for _, rid := range p.Replicas {
			if _, ok := st.Broker(rid); !ok {
				mp.OfflineReplicas = append(mp.OfflineReplicas, rid)
			}
		}
		if _, ok := st.Broker(p.Leader); !ok {
			mp.ErrorCode = errCode(errLeaderNotAvailable)
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// autoCreate creates a topic with the broker defaults because a client asked
// for it by name (auto.create.topics.enable).
func (b *Broker) autoCreate(ctx context.Context, name string) (*meta.Topic, error) {
	if name == group.OffsetsTopic {
		return b.offsetsTopic(ctx) // internal and compacted, as FindCoordinator makes it
	}
	t, err := b.createTopic(ctx, topicSpec{name: name, partitions: -1, rf: -1}, false)
	if errors.Is(err, meta.ErrTopicExists) {
		if t := b.meta.State().Topic(name); t != nil {
			return t, nil
		}
	}
	if err != nil {
		return nil, err
	}
	b.log.Info("auto-created topic", "topic", name, "partitions", len(t.Partitions))
	return t, nil
}

// validateTopicName applies Kafka's topic name rules.
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fail(errInvalidTopic, "topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return fail(errInvalidTopic, "topic name cannot be \".\" or \"..\"")
	case len(name) > 249:
		return fail(errInvalidTopic, "topic name is illegal, it can't be longer than 249 characters, topic name: %s", name)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fail(errInvalidTopic, "topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}
