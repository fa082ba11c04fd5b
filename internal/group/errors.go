package group

import "errors"

// Errors the coordinator returns; callers branch on them with errors.Is.
// The broker maps each to the Kafka error code named in its comment (the
// mapping itself lives in broker/errors.go).
var (
	// ErrNotCoordinator: the group's partition of OffsetsTopic is not
	// hosted here (NOT_COORDINATOR).
	ErrNotCoordinator = errors.New("this is not the correct coordinator for this group")
	// ErrCoordinatorLoadInProgress: the group's partition is still being
	// replayed (COORDINATOR_LOAD_IN_PROGRESS).
	ErrCoordinatorLoadInProgress = errors.New("the coordinator is loading and hence can't process requests")
	// ErrCoordinatorNotAvailable: the group is dead (deleted or unloaded
	// while the request ran) or a write to OffsetsTopic could not be made
	// (COORDINATOR_NOT_AVAILABLE); the client finds the coordinator again.
	ErrCoordinatorNotAvailable = errors.New("the coordinator is not available")
	// ErrInvalidGroupID: an empty group ID where one is required
	// (INVALID_GROUP_ID).
	ErrInvalidGroupID = errors.New("the configured groupId is invalid")
	// ErrUnknownMemberID: the member (or its group) is not known
	// (UNKNOWN_MEMBER_ID).
	ErrUnknownMemberID = errors.New("the coordinator is not aware of this member")
	// ErrIllegalGeneration: the request's generation is not the group's
	// (ILLEGAL_GENERATION).
	ErrIllegalGeneration = errors.New("the generation id provided in the request is not the current generation")
	// ErrRebalanceInProgress: the group is rebalancing; rejoin
	// (REBALANCE_IN_PROGRESS).
	ErrRebalanceInProgress = errors.New("the group is rebalancing, so a rejoin is needed")
	// ErrInvalidSessionTimeout: the session timeout is outside the
	// broker's bounds (INVALID_SESSION_TIMEOUT).
	ErrInvalidSessionTimeout = errors.New("the session timeout is not within the range allowed by the broker")
	// ErrInconsistentGroupProtocol: the member's protocol type or protocols
	// do not match the group's (INCONSISTENT_GROUP_PROTOCOL).
	ErrInconsistentGroupProtocol = errors.New("the group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list")
	// ErrMemberIDRequired: a JoinGroup v4+ without a member ID; the
	// result carries the ID to rejoin with (MEMBER_ID_REQUIRED).
	ErrMemberIDRequired = errors.New("the group member needs to have a valid member id before actually entering a consumer group")
	// ErrFencedInstanceID: another member now holds this group instance ID
	// (FENCED_INSTANCE_ID).
	ErrFencedInstanceID = errors.New("the broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id")
	// ErrGroupMaxSizeReached: the group is full (GROUP_MAX_SIZE_REACHED).
	ErrGroupMaxSizeReached = errors.New("the consumer group has reached its max size")
	// ErrGroupIDNotFound: no such group (GROUP_ID_NOT_FOUND).
	ErrGroupIDNotFound = errors.New("the group id does not exist")
	// ErrNonEmptyGroup: the group still has members (NON_EMPTY_GROUP).
	ErrNonEmptyGroup = errors.New("the group is not empty")
	// ErrGroupSubscribedToTopic: the group's members subscribe to the topic
	// (GROUP_SUBSCRIBED_TO_TOPIC).
	ErrGroupSubscribedToTopic = errors.New("the consumer group is actively subscribed to the topic")
	// ErrOffsetMetadataTooLarge: a commit's metadata is longer than
	// Config.MaxMetadataBytes (OFFSET_METADATA_TOO_LARGE).
	ErrOffsetMetadataTooLarge = errors.New("the metadata field of the offset request was too large")
	// ErrInvalidCommitOffsetSize: the commit's records could not be
	// written because they are too large (INVALID_COMMIT_OFFSET_SIZE).
	ErrInvalidCommitOffsetSize = errors.New("the committing offset data size is not valid")
	// ErrClosed: the coordinator has been closed.
	ErrClosed = errors.New("group coordinator closed")
)
