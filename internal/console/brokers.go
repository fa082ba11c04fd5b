package console

// The Brokers page: the nodes of the cluster, which is the controller, how
// many partitions each leads and how much disk its log dirs use
// (DescribeLogDirs).

import (
	"context"
	"net/http"
	"slices"
	"strconv"
)

// Broker is one row of the Brokers page.
type Broker struct {
	ID         int32    `json:"id"`
	Addr       string   `json:"address"`
	Rack       string   `json:"rack,omitempty"`
	Controller bool     `json:"controller"`
	Leaders    int      `json:"partitions_led"`
	Replicas   int      `json:"replicas"`
	LogDirs    []LogDir `json:"log_dirs"`
	Size       int64    `json:"size_bytes"` // sum over LogDirs; -1 when not described
	LogDirsErr string   `json:"log_dirs_error,omitempty"`
}

// LogDir is one log directory of a broker.
type LogDir struct {
	Dir    string `json:"dir"`
	Size   int64  `json:"size_bytes"`   // bytes of the partitions in it
	Total  int64  `json:"total_bytes"`  // the volume's size; -1 if unreported
	Usable int64  `json:"usable_bytes"` // free on the volume; -1 if unreported
}

// brokersView is the Brokers page and GET /api/brokers.
type brokersView struct {
	ClusterID  string   `json:"cluster_id"`
	Controller int32    `json:"controller"`
	Brokers    []Broker `json:"brokers"`
}

func (c *Console) brokers(ctx context.Context) (brokersView, error) {
	m, err := c.metadata(ctx)
	if err != nil {
		return brokersView{}, err
	}
	v := brokersView{ClusterID: m.Cluster, Controller: m.Controller}
	byID := map[int32]*Broker{}
	for _, b := range m.Brokers {
		br := Broker{ID: b.NodeID, Addr: b.Host + ":" + strconv.Itoa(int(b.Port)), Controller: b.NodeID == m.Controller, Size: -1}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		v.Brokers = append(v.Brokers, br)
	}
	slices.SortFunc(v.Brokers, func(a, b Broker) int { return int(a.ID) - int(b.ID) })
	for i := range v.Brokers {
		byID[v.Brokers[i].ID] = &v.Brokers[i]
	}
	for _, t := range m.Topics {
		for _, p := range t.Partitions {
			if b := byID[p.Leader]; b != nil {
				b.Leaders++
			}
			for _, r := range p.Replicas {
				if b := byID[r]; b != nil {
					b.Replicas++
				}
			}
		}
	}
	dirs, err := clusterOf(ctx).adm.DescribeAllLogDirs(ctx, nil)
	for _, b := range v.Brokers {
		if err != nil {
			byID[b.ID].LogDirsErr = err.Error()
		}
	}
	if err != nil {
		return v, nil // the rest of the page is still worth showing
	}
	for id, ds := range dirs {
		b := byID[id]
		if b == nil {
			continue
		}
		b.Size = 0
		for _, d := range ds.Sorted() {
			if d.Err != nil {
				b.LogDirsErr = d.Dir + ": " + d.Err.Error()
				continue
			}
			b.LogDirs = append(b.LogDirs, LogDir{Dir: d.Dir, Size: d.Size(), Total: d.TotalBytes, Usable: d.UsableBytes})
			b.Size += d.Size()
		}
	}
	return v, nil
}

func (c *Console) apiBrokers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.brokers(ctx)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (c *Console) pageBrokers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.brokers(ctx)
	c.render(w, r, "brokers", page{Title: "Brokers", Nav: "brokers", Data: v}, err)
}
