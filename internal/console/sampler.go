package console

// The sampler: one goroutine, owned by the Console, that every
// Config.SampleInterval samples each cluster (end offsets of every topic,
// every group's members, assignment and lag) and records the sample in
// that cluster's history (history.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// sampler holds the history of every cluster. mu guards hists; a history
// has its own lock.
type sampler struct {
	mu    sync.Mutex
	hists map[*cluster]*clusterHistory
	done  chan struct{} // closed when the loop has returned
}

// clusterHistory is one cluster's history and whether a sample of it is
// running.
type clusterHistory struct {
	*history
	busy atomic.Bool
}

// historyOf is cl's history, made on first use.
func (c *Console) historyOf(cl *cluster) *clusterHistory {
	c.sampler.mu.Lock()
	defer c.sampler.mu.Unlock()
	h := c.sampler.hists[cl]
	if h == nil {
		h = &clusterHistory{history: newHistory(c.cfg.HistoryWindow)}
		c.sampler.hists[cl] = h
	}
	return h
}

// sampleLoop samples every cluster each SampleInterval until the console
// closes. Each cluster is sampled in its own goroutine, so one that does
// not answer does not delay the others; a cluster whose previous sample
// is still running is skipped for a round. Close waits for it.
func (c *Console) sampleLoop() {
	defer close(c.sampler.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(c.cfg.SampleInterval)
	defer t.Stop()
	for {
		clusters := c.list()
		c.forgetRemoved(clusters)
		for _, cl := range clusters {
			h := c.historyOf(cl)
			if !h.busy.CompareAndSwap(false, true) {
				continue
			}
			wg.Go(func() {
				defer h.busy.Store(false)
				s, err := c.sample(c.stopped, cl)
				if err != nil {
					if c.stopped.Err() == nil {
						h.failed(time.Now(), err)
					}
					return
				}
				h.record(s)
			})
		}
		select {
		case <-c.stopped.Done():
			return
		case <-t.C:
		}
	}
}

// forgetRemoved drops the history of clusters no longer in the list.
func (c *Console) forgetRemoved(clusters []*cluster) {
	c.sampler.mu.Lock()
	defer c.sampler.mu.Unlock()
	for cl := range c.sampler.hists {
		found := false
		for _, x := range clusters {
			found = found || x == cl
		}
		if !found {
			delete(c.sampler.hists, cl)
		}
	}
}

// sample takes one sample of cl within RequestTimeout: end offsets of
// every topic (the internal ones too), then every group's description and
// lag.
func (c *Console) sample(parent context.Context, cl *cluster) (sample, error) {
	ctx, cancel := context.WithTimeout(parent, c.cfg.RequestTimeout)
	defer cancel()
	topics, err := cl.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return sample{}, fmt.Errorf("list topics: %w", err)
	}
	ends, err := cl.adm.ListEndOffsets(ctx, topics.Names()...)
	var se *kadm.ShardErrors
	if err != nil && !(errors.As(err, &se) && !se.AllFailed) {
		return sample{}, fmt.Errorf("list end offsets: %w", err)
	}
	s := sample{at: time.Now(), ends: map[string]map[int32]int64{}, groups: map[string]groupSample{}, undescribed: map[string]bool{}}
	ends.Each(func(l kadm.ListedOffset) {
		if l.Err != nil || l.Partition < 0 {
			return // the history counts only partitions that answered
		}
		if s.ends[l.Topic] == nil {
			s.ends[l.Topic] = map[int32]int64{}
		}
		s.ends[l.Topic][l.Partition] = l.Offset
	})
	listed, err := cl.adm.ListGroups(ctx)
	if err != nil {
		return sample{}, fmt.Errorf("list groups: %w", err)
	}
	names := listed.Groups()
	if len(names) == 0 {
		return s, nil
	}
	lags, err := cl.adm.Lag(ctx, names...)
	if err != nil {
		return sample{}, fmt.Errorf("describe groups: %w", err)
	}
	for _, name := range names {
		gl, ok := lags[name]
		if !ok || gl.Error() != nil && gl.State == "" {
			s.undescribed[name] = true // not described this time; no news is not "deleted"
			continue
		}
		s.groups[gl.Group] = groupSampleOf(describeGroup(gl, nil, ""))
	}
	return s, nil
}

// groupSampleOf keeps what the history needs of a described group.
func groupSampleOf(g Group) groupSample {
	gs := groupSample{state: g.State, members: map[string]memberSample{}, lag: g.Lag, parts: map[tp]int64{}}
	for _, m := range g.Members {
		var as []string
		for _, a := range m.Assigned {
			ps := make([]string, 0, len(a.Partitions)+1)
			ps = append(ps, a.Topic)
			for _, p := range a.Partitions {
				ps = append(ps, fmt.Sprintf("P%d", p))
			}
			as = append(as, strings.Join(ps, " "))
		}
		gs.members[m.ID] = memberSample{clientID: m.ClientID, host: m.Host, assigned: strings.Join(as, ", ")}
	}
	for _, t := range g.Topics {
		for _, p := range t.Partitions {
			if p.Lag >= 0 && (p.Committed >= 0 || p.Member >= 0) {
				gs.parts[tp{t.Topic, p.Partition}] = p.Lag
			}
		}
	}
	return gs
}

// MarshalJSON writes a point as [unix milliseconds, value], the compact
// form of the history API.
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]float64{float64(p.T.UnixMilli()), p.V})
}
