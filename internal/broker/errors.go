package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/meta"
	"github.com/samsa-streaming/samsa/internal/storage"
)

// Broker-level sentinel errors: the kinds of fail(kind, message), which
// carry a message to the client.
var (
	errUnknownTopicOrPartition  = errors.New("this server does not host this topic-partition")
	errUnknownTopicID           = errors.New("this server does not host this topic ID")
	errNotLeader                = errors.New("this server is not the leader for that topic-partition")
	errLeaderNotAvailable       = errors.New("there is no leader for this topic-partition")
	errInvalidTopic             = errors.New("invalid topic")
	errInvalidPartitions        = errors.New("invalid partitions")
	errInvalidReplicationFactor = errors.New("invalid replication factor")
	errInvalidReplicaAssignment = errors.New("invalid replica assignment")
	errInvalidConfig            = errors.New("invalid config")
	errInvalidRequest           = errors.New("invalid request")
	errTopicExists              = errors.New("topic already exists")
	errInvalidRequiredAcks      = errors.New("invalid required acks")
	errFetchSessionNotFound     = errors.New("fetch session not found")
	errTopicAuthorization       = errors.New("not authorized to access topic")
	errUnsupportedForMessageFmt = errors.New("unsupported for message format")
	errFencedLeaderEpoch        = errors.New("fenced leader epoch")
	errUnknownLeaderEpoch       = errors.New("unknown leader epoch")
)

// codes maps our errors (and storage's and meta's) to Kafka error codes. The
// first match in order wins. This is the only place Kafka codes are chosen.
var codes = []struct {
	err  error
	code *kerr.Error
}{
	{errUnknownTopicOrPartition, kerr.UnknownTopicOrPartition},
	{errUnknownTopicID, kerr.UnknownTopicID},
	{errNotLeader, kerr.NotLeaderForPartition},
	{errLeaderNotAvailable, kerr.LeaderNotAvailable},
	{errInvalidTopic, kerr.InvalidTopicException},
	{errInvalidPartitions, kerr.InvalidPartitions},
	{errInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{errInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{errInvalidConfig, kerr.InvalidConfig},
	{errInvalidRequest, kerr.InvalidRequest},
	{errTopicExists, kerr.TopicAlreadyExists},
	{errInvalidRequiredAcks, kerr.InvalidRequiredAcks},
	{errFetchSessionNotFound, kerr.FetchSessionIDNotFound},
	{errTopicAuthorization, kerr.TopicAuthorizationFailed},
	{errUnsupportedForMessageFmt, kerr.UnsupportedForMessageFormat},
	{errFencedLeaderEpoch, kerr.FencedLeaderEpoch},
	{errUnknownLeaderEpoch, kerr.UnknownLeaderEpoch},
	{group.ErrNotCoordinator, kerr.NotCoordinator},
	{group.ErrCoordinatorLoadInProgress, kerr.CoordinatorLoadInProgress},
	{group.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{group.ErrInvalidGroupID, kerr.InvalidGroupID},
	{group.ErrUnknownMemberID, kerr.UnknownMemberID},
	{group.ErrIllegalGeneration, kerr.IllegalGeneration},
	{group.ErrRebalanceInProgress, kerr.RebalanceInProgress},
	{group.ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout},
	{group.ErrInconsistentGroupProtocol, kerr.InconsistentGroupProtocol},
	{group.ErrMemberIDRequired, kerr.MemberIDRequired},
	{group.ErrFencedInstanceID, kerr.FencedInstanceID},
	{group.ErrGroupMaxSizeReached, kerr.GroupMaxSizeReached},
	{group.ErrGroupIDNotFound, kerr.GroupIDNotFound},
	{group.ErrNonEmptyGroup, kerr.NonEmptyGroup},
	{group.ErrGroupSubscribedToTopic, kerr.GroupSubscribedToTopic},
	{group.ErrOffsetMetadataTooLarge, kerr.OffsetMetadataTooLarge},
	{group.ErrInvalidCommitOffsetSize, kerr.InvalidCommitOffsetSize},
	{group.ErrClosed, kerr.NotCoordinator},
	{meta.ErrTopicExists, kerr.TopicAlreadyExists},
	{meta.ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{meta.ErrInvalidPartitions, kerr.InvalidPartitions},
	{meta.ErrNotController, kerr.NotController},
	{storage.ErrCorruptMessage, kerr.CorruptMessage},
	{storage.ErrInvalidRecord, kerr.InvalidRecord},
	{storage.ErrMessageTooLarge, kerr.MessageTooLarge},
	{storage.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{storage.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{storage.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{storage.ErrClosed, kerr.NotLeaderForPartition},
	{context.DeadlineExceeded, kerr.RequestTimedOut},
	{context.Canceled, kerr.RequestTimedOut},
}

// errCode returns the Kafka error code for err (0 for nil). Errors we do not
// know are our own failures: UNKNOWN_SERVER_ERROR.
func errCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code.Code
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// errMessage is the message for the ErrorMessage field of responses that
// have one: our error's text, nil for nil.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// kafkaError is an error whose text is the message for the client and whose
// kind (a sentinel above) chooses the code.
type kafkaError struct {
	kind error
	msg  string
}

func (e *kafkaError) Error() string { return e.msg }
func (e *kafkaError) Unwrap() error { return e.kind }

// fail builds an error of the given kind with a message for the client.
func fail(kind error, format string, args ...any) error {
	return &kafkaError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
