package broker

// DescribeCluster (key 60), v0–v1. v1 adds the endpoint type: brokers (1)
// are served; asking a broker for controllers (2) is UNSUPPORTED_ENDPOINT_TYPE.
// DescribeLogDirs (key 35), v0–v4. One log dir: the data directory. v4 adds
// total and usable bytes of its file system.

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeCluster(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	st := b.meta.State()
	resp.ClusterAuthorizedOperations = authorizedOpsUnknown
	resp.EndpointType = 1
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.EndpointType = req.EndpointType
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		msg := "this broker only describes broker endpoints (endpoint type 1)"
		resp.ErrorMessage = &msg
		return resp, nil
	}
	resp.ClusterID = st.ClusterID
	resp.ControllerID = st.ControllerID
	for _, br := range st.Brokers {
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port = br.ID, br.Host, br.Port
		if br.Rack != "" {
			rack := br.Rack
			db.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, db)
	}
	return resp, nil
}

func (b *Broker) handleDescribeLogDirs(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	if abs, err := filepath.Abs(b.cfg.DataDir); err == nil {
		dir.Dir = abs
	} else {
		dir.Dir = b.cfg.DataDir
	}
	dir.TotalBytes, dir.UsableBytes = -1, -1
	var fs syscall.Statfs_t
	if err := syscall.Statfs(b.cfg.DataDir, &fs); err == nil {
		dir.TotalBytes = int64(fs.Blocks) * fs.Bsize
		dir.UsableBytes = int64(fs.Bavail) * fs.Bsize
	}
	add := func(name string, ts *topicState, only []int32) {
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = name
		for _, p := range ts.parts {
			if p == nil || (only != nil && !containsInt32(only, p.index)) {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition = p.index
			dp.Size = p.log.Size()
			dt.Partitions = append(dt.Partitions, dp)
		}
		if len(dt.Partitions) > 0 {
			dir.Topics = append(dir.Topics, dt)
		}
	}
	if req.Topics == nil {
		for _, name := range b.meta.State().TopicNames() {
			if ts := b.localTopic(name); ts != nil {
				add(name, ts, nil)
			}
		}
	} else {
		for _, rt := range req.Topics {
			if ts := b.localTopic(rt.Topic); ts != nil {
				add(rt.Topic, ts, rt.Partitions)
			}
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return resp, nil
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
