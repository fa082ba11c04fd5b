package console

// What the console remembers of each cluster between page loads: the
// samples that sampler.go takes every Config.SampleInterval, kept for
// Config.HistoryWindow. From them come the charts (messages in per second
// per topic, lag per group), the lag history of every partition a group
// reads, and the group timeline (members joining and leaving, rebalances,
// state changes).
//
// Kafka has no API for any of this: a broker knows only the present. So
// the console compares each sample with the one before it. Rates are the
// growth of a topic's end offsets between two samples; timeline events are
// the differences between two descriptions of a group. A change that comes
// and goes between two samples (a member that joins and leaves within 2 s)
// is not seen; a rebalance is seen as the assignment it produced.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bounds of one cluster's history, so a cluster with very many topics or
// groups cannot make the console grow without limit: at most maxSeries
// series of 16-byte points, i.e. about 30 MiB with the default 30 minutes
// at 2 s. Series beyond them are not recorded (the charts say so).
const (
	maxSeries         = 2000 // topic rates, group lags and partition lags together
	maxGroupHistories = 200  // groups with a lag series and a timeline
	maxTimeline       = 200  // events kept per group, newest first
	maxEventText      = 1000 // bytes of one event's text; longer lists are cut
)

// point is one stored sample value: Point in half the bytes.
type point struct {
	ms int64 // Unix milliseconds
	v  float64
}

// series is one time series; points are in time order and none is older
// than the history's window (see add).
type series struct {
	pts []point
}

// add appends p and drops the points before cutoff.
func (s *series) add(p Point, cutoff time.Time) {
	s.pts = append(s.pts, point{p.T.UnixMilli(), p.V})
	c := cutoff.UnixMilli()
	i := sort.Search(len(s.pts), func(i int) bool { return s.pts[i].ms >= c })
	// Shift only when enough has expired, so a steady state copies the
	// slice once every 64 samples rather than every time.
	if i >= 64 || i == len(s.pts) {
		n := copy(s.pts, s.pts[i:])
		s.pts = s.pts[:n]
	}
}

// since is a copy of the points at or after from.
func (s *series) since(from time.Time) []Point {
	f := from.UnixMilli()
	i := sort.Search(len(s.pts), func(i int) bool { return s.pts[i].ms >= f })
	out := make([]Point, 0, len(s.pts)-i)
	for _, p := range s.pts[i:] {
		out = append(out, Point{T: time.UnixMilli(p.ms), V: p.v})
	}
	return out
}

// lastBefore says whether the series is empty or its newest point is
// older than t.
func (s *series) lastBefore(t time.Time) bool {
	return len(s.pts) == 0 || s.pts[len(s.pts)-1].ms < t.UnixMilli()
}

// Event is one entry of a group's timeline.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is one of: seen (first sample of a group that existed before
	// the console watched), created, join, leave, rebalance, state,
	// deleted.
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// tp names a partition of a topic.
type tp struct {
	Topic     string
	Partition int32
}

// groupSample is what one sample saw of one group.
type groupSample struct {
	state   string
	members map[string]memberSample // by member id
	lag     int64                   // sum over the partitions it reads; -1 unknown
	parts   map[tp]int64            // lag of each partition it reads (only known ones)
}

// memberSample is one member as one sample saw it.
type memberSample struct {
	clientID string
	host     string
	assigned string // its partitions, written like "post.office P0 P1; other P2"; "" none
}

// sample is one observation of a cluster. A sample that failed is not
// recorded at all: the charts show a gap.
type sample struct {
	at     time.Time
	ends   map[string]map[int32]int64 // topic → partition → end offset, for the partitions that answered
	groups map[string]groupSample
	// undescribed are groups listed but not described this time (their
	// coordinator did not answer): no news, not "deleted".
	undescribed map[string]bool
}

// groupHistory is what the console remembers of one group.
type groupHistory struct {
	lag      series
	parts    map[tp]*series
	timeline []Event // newest first, at most maxTimeline
	prev     groupSample
	stable   string // the assignment of the last Stable sample, see describeAssignment
	lastSeen time.Time
}

// history is everything the console remembers of one cluster. mu guards
// every field below it; the sampler writes, pages read.
type history struct {
	window time.Duration

	mu       sync.Mutex
	samples  int // samples recorded
	lastAt   time.Time
	lastEnds map[string]map[int32]int64
	rates    map[string]*series // topic → messages in per second
	topicAt  map[string]time.Time
	groups   map[string]*groupHistory
	nseries  int // series in rates and groups, at most maxSeries
	dropped  int // topics or groups not recorded because of the bounds
	lastErr  string
	errAt    time.Time
}

func newHistory(window time.Duration) *history {
	return &history{
		window:  window,
		rates:   map[string]*series{},
		topicAt: map[string]time.Time{},
		groups:  map[string]*groupHistory{},
	}
}

// failed records that a sample could not be taken.
func (h *history) failed(at time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastErr, h.errAt = err.Error(), at
}

// record adds one sample: rates from the growth of end offsets since the
// previous sample, lag points, and timeline events from the differences.
func (h *history) record(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cutoff := s.at.Add(-h.window)
	h.lastErr = ""
	h.dropped = 0
	if h.samples > 0 {
		dt := s.at.Sub(h.lastAt).Seconds()
		for _, topic := range sortedKeys(s.ends) { // sorted: the bound keeps the same topics every time
			prev, ok := h.lastEnds[topic]
			if !ok || dt <= 0 {
				continue
			}
			// Only partitions that answered both times count, so one
			// that did not answer once is not counted as new records
			// when it is back; an end that went down (the topic was
			// deleted and made again) counts as nothing.
			var grown int64
			common := 0
			for p, end := range s.ends[topic] {
				if before, ok := prev[p]; ok {
					grown += max(end-before, 0)
					common++
				}
			}
			if common == 0 {
				continue
			}
			rate := float64(grown) / dt
			sr := h.rates[topic]
			if sr == nil {
				if h.nseries >= maxSeries {
					h.dropped++
					continue
				}
				sr = &series{}
				h.rates[topic] = sr
				h.nseries++
			}
			sr.add(Point{T: s.at, V: rate}, cutoff)
			h.topicAt[topic] = s.at
		}
	}
	for topic, at := range h.topicAt {
		if at.Before(cutoff) {
			delete(h.rates, topic)
			delete(h.topicAt, topic)
			h.nseries--
		}
	}
	for _, name := range sortedKeys(s.groups) { // sorted, like the topics
		gs := s.groups[name]
		gh := h.groups[name]
		if gh == nil {
			if len(h.groups) >= maxGroupHistories || h.nseries >= maxSeries {
				h.dropped++
				continue
			}
			gh = &groupHistory{parts: map[tp]*series{}}
			h.groups[name] = gh
			h.nseries++ // its lag
			kind, what := "created", "group created"
			if h.samples == 0 {
				kind, what = "seen", "first seen by the console"
			}
			gh.event(s.at, kind, fmt.Sprintf("%s: %s, %s", what, gs.state, describeMembers(gs.members)))
		} else {
			gh.diff(s.at, gs)
		}
		if gs.state == "Stable" {
			gh.stable = describeAssignment(gs.members)
		}
		gh.prev, gh.lastSeen = gs, s.at
		if gs.lag >= 0 {
			gh.lag.add(Point{T: s.at, V: float64(gs.lag)}, cutoff)
		}
		for p, lag := range gs.parts {
			sr := gh.parts[p]
			if sr == nil {
				if h.nseries >= maxSeries {
					h.dropped++
					continue
				}
				sr = &series{}
				gh.parts[p] = sr
				h.nseries++
			}
			sr.add(Point{T: s.at, V: float64(lag)}, cutoff)
		}
		for p, sr := range gh.parts {
			if sr.lastBefore(cutoff) {
				delete(gh.parts, p) // a partition the group stopped reading long ago
				h.nseries--
			}
		}
	}
	for name, gh := range h.groups {
		if _, ok := s.groups[name]; ok || s.undescribed[name] {
			continue
		}
		if gh.prev.state != "Dead" && gh.prev.state != "" {
			gh.event(s.at, "deleted", "group gone (deleted, or its offsets expired)")
			gh.prev = groupSample{state: ""}
		}
		if gh.lastSeen.Before(cutoff) {
			delete(h.groups, name)
			h.nseries -= 1 + len(gh.parts)
		}
	}
	h.samples++
	h.lastAt, h.lastEnds = s.at, s.ends
}

// diff adds the events between the previous sample of the group and gs.
func (gh *groupHistory) diff(at time.Time, gs groupSample) {
	prev := gh.prev
	if prev.state == "" { // it was gone and is back
		gh.event(at, "created", fmt.Sprintf("group created: %s, %s", gs.state, describeMembers(gs.members)))
		return
	}
	if gs.state != prev.state {
		gh.event(at, "state", prev.state+" → "+gs.state)
	}
	for _, id := range sortedKeys(prev.members) {
		if _, ok := gs.members[id]; !ok {
			m := prev.members[id]
			gh.event(at, "leave", fmt.Sprintf("%s left (%s, member %s)", m.clientID, m.host, id))
		}
	}
	for _, id := range sortedKeys(gs.members) {
		if _, ok := prev.members[id]; !ok {
			m := gs.members[id]
			gh.event(at, "join", fmt.Sprintf("%s joined (%s, member %s)", m.clientID, m.host, id))
		}
	}
	if gs.state == "Stable" {
		if a := describeAssignment(gs.members); a != gh.stable {
			gh.event(at, "rebalance", "rebalanced: "+a)
		}
	}
}

// event adds one timeline entry, newest first; a text longer than
// maxEventText is cut.
func (gh *groupHistory) event(at time.Time, kind, text string) {
	if len(text) > maxEventText {
		cut := strings.ToValidUTF8(text[:maxEventText], "")
		text = cut + fmt.Sprintf(" … (%d more bytes)", len(text)-len(cut))
	}
	gh.timeline = slices.Insert(gh.timeline, 0, Event{Time: at, Kind: kind, Text: text})
	if len(gh.timeline) > maxTimeline {
		gh.timeline = gh.timeline[:maxTimeline]
	}
}

// describeMembers is "no members" or "2 members: a (post.office P0 P1), b (…)".
func describeMembers(ms map[string]memberSample) string {
	if len(ms) == 0 {
		return "no members"
	}
	return fmt.Sprintf("%d member(s): %s", len(ms), describeAssignment(ms))
}

// describeAssignment writes who holds what, ordered by client id then
// member id, so two equal assignments give the same text.
func describeAssignment(ms map[string]memberSample) string {
	if len(ms) == 0 {
		return "no members"
	}
	ids := sortedKeys(ms)
	slices.SortStableFunc(ids, func(a, b string) int { return strings.Compare(ms[a].clientID, ms[b].clientID) })
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		m := ms[id]
		a := m.assigned
		if a == "" {
			a = "nothing"
		}
		parts = append(parts, m.clientID+" → "+a)
	}
	return strings.Join(parts, "; ")
}

// TopicRate is one topic's messages-in series.
type TopicRate struct {
	Topic  string  `json:"topic"`
	Points []Point `json:"points"`
}

// GroupLag is one group's lag series.
type GroupLag struct {
	Group  string  `json:"group"`
	Points []Point `json:"points"`
}

// PartitionLag is the lag series of one partition a group reads.
type PartitionLag struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Points    []Point `json:"points"`
}

// topicRate is one topic's series since from; nil if it has none.
func (h *history) topicRate(topic string, from time.Time) []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sr := h.rates[topic]; sr != nil {
		return sr.since(from)
	}
	return nil
}

// topicRates is every topic's series since from, topics sorted by name.
func (h *history) topicRates(from time.Time) []TopicRate {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []TopicRate{}
	for _, t := range sortedKeys(h.rates) {
		out = append(out, TopicRate{Topic: t, Points: h.rates[t].since(from)})
	}
	return out
}

// groupLags is every group's lag series since from, sorted by name.
func (h *history) groupLags(from time.Time) []GroupLag {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []GroupLag{}
	for _, g := range sortedKeys(h.groups) {
		out = append(out, GroupLag{Group: g, Points: h.groups[g].lag.since(from)})
	}
	return out
}

// groupDetail is one group's lag series, per partition series and
// timeline; ok is false when the console has no history of it.
func (h *history) groupDetail(group string, from time.Time) (lag []Point, parts []PartitionLag, timeline []Event, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	gh := h.groups[group]
	if gh == nil {
		return nil, nil, nil, false
	}
	keys := make([]tp, 0, len(gh.parts))
	for k := range gh.parts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tp) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	for _, k := range keys {
		parts = append(parts, PartitionLag{Topic: k.Topic, Partition: k.Partition, Points: gh.parts[k].since(from)})
	}
	return gh.lag.since(from), parts, slices.Clone(gh.timeline), true
}

// status says how sampling goes: the number of samples, the last one's
// time, and the last error if the newest attempt failed.
func (h *history) status() (samples int, last time.Time, lastErr string, dropped int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.samples, h.lastAt, h.lastErr, h.dropped
}
