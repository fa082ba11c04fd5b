package broker

// APIs returns every Kafka API this broker serves, with the versions each
// handler implements. The server advertises exactly this table through
// ApiVersions; each handler file's header comment explains its versions.
func (b *Broker) APIs() []API {
	return []API{
		{Key: 0, MinVersion: 0, MaxVersion: 11, Handle: b.handleProduce},
		{Key: 1, MinVersion: 0, MaxVersion: 13, Handle: b.handleFetch},
		{Key: 2, MinVersion: 0, MaxVersion: 8, Handle: b.handleListOffsets},
		{Key: 3, MinVersion: 0, MaxVersion: 12, Handle: b.handleMetadata},
		{Key: 8, MinVersion: 0, MaxVersion: 9, Handle: b.handleOffsetCommit},
		{Key: 9, MinVersion: 0, MaxVersion: 9, Handle: b.handleOffsetFetch},
		{Key: 10, MinVersion: 0, MaxVersion: 4, Handle: b.handleFindCoordinator},
		{Key: 11, MinVersion: 0, MaxVersion: 9, Handle: b.handleJoinGroup},
		{Key: 12, MinVersion: 0, MaxVersion: 4, Handle: b.handleHeartbeat},
		{Key: 13, MinVersion: 0, MaxVersion: 5, Handle: b.handleLeaveGroup},
		{Key: 14, MinVersion: 0, MaxVersion: 5, Handle: b.handleSyncGroup},
		{Key: 15, MinVersion: 0, MaxVersion: 5, Handle: b.handleDescribeGroups},
		{Key: 16, MinVersion: 0, MaxVersion: 5, Handle: b.handleListGroups},
		{Key: 19, MinVersion: 0, MaxVersion: 7, Handle: b.handleCreateTopics},
		{Key: 20, MinVersion: 0, MaxVersion: 6, Handle: b.handleDeleteTopics},
		{Key: 21, MinVersion: 0, MaxVersion: 2, Handle: b.handleDeleteRecords},
		{Key: 22, MinVersion: 0, MaxVersion: 5, Handle: b.handleInitProducerID},
		{Key: 32, MinVersion: 0, MaxVersion: 4, Handle: b.handleDescribeConfigs},
		{Key: 33, MinVersion: 0, MaxVersion: 2, Handle: b.handleAlterConfigs},
		{Key: 35, MinVersion: 0, MaxVersion: 4, Handle: b.handleDescribeLogDirs},
		{Key: 37, MinVersion: 0, MaxVersion: 3, Handle: b.handleCreatePartitions},
		{Key: 42, MinVersion: 0, MaxVersion: 2, Handle: b.handleDeleteGroups},
		{Key: 44, MinVersion: 0, MaxVersion: 1, Handle: b.handleIncrementalAlterConfigs},
		{Key: 47, MinVersion: 0, MaxVersion: 0, Handle: b.handleOffsetDelete},
		{Key: 60, MinVersion: 0, MaxVersion: 1, Handle: b.handleDescribeCluster},
	}
}
