package storage

import (
	"errors"
	"fmt"
)

// Errors callers branch on with errors.Is. The broker maps each to one Kafka
// error code.
var (
	// ErrCorruptMessage: a batch is malformed (lengths, magic, CRC).
	// Kafka: CORRUPT_MESSAGE.
	ErrCorruptMessage = errors.New("corrupt message")
	// ErrMessageTooLarge: a batch is larger than max.message.bytes.
	// Kafka: MESSAGE_TOO_LARGE.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrOffsetOutOfRange: an offset is below the log start offset or above
	// the log end offset. Kafka: OFFSET_OUT_OF_RANGE.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrOutOfOrderSequence: an idempotent producer skipped or reused a
	// sequence number. Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER.
	ErrOutOfOrderSequence = errors.New("out of order sequence number")
	// ErrInvalidProducerEpoch: a batch carries a producer epoch older than
	// the one the log knows. Kafka: INVALID_PRODUCER_EPOCH.
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")
	// ErrInvalidRecord: a batch is well formed but breaks a rule (record
	// count, inner record framing, control batch from a client).
	// Kafka: INVALID_RECORD.
	ErrInvalidRecord = errors.New("invalid record")
	// ErrClosed: the log or manager has been closed.
	ErrClosed = errors.New("storage closed")
	// ErrInvalidTopic: a topic name that cannot be a directory name.
	// Kafka: INVALID_TOPIC_EXCEPTION.
	ErrInvalidTopic = errors.New("invalid topic name")
	// ErrInvalidConfig: a Config or ManagerConfig field is out of range.
	ErrInvalidConfig = errors.New("invalid storage config")
)

// CorruptionError reports bad bytes found on disk: which file and at which
// byte position. It matches ErrCorruptMessage with errors.Is.
type CorruptionError struct {
	File     string // path of the file
	Position int64  // byte position of the first bad byte (batch start)
	Reason   string // what was wrong
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt data in %s at position %d: %s", e.File, e.Position, e.Reason)
}

// Is makes errors.Is(err, ErrCorruptMessage) true for a CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorruptMessage }
