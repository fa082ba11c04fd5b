package console

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// one makes end offsets of topics with a single partition, 0.
func one(ends map[string]int64) map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	for t, e := range ends {
		out[t] = map[int32]int64{0: e}
	}
	return out
}

func member(client, assigned string) memberSample {
	return memberSample{clientID: client, host: "/127.0.0.1", assigned: assigned}
}

func TestHistoryRatesFromEndOffsetGrowth(t *testing.T) {
	h := newHistory(time.Hour)
	h.record(sample{at: at(0), ends: one(map[string]int64{"a": 100, "b": 5})})
	h.record(sample{at: at(2), ends: one(map[string]int64{"a": 200, "b": 5})})
	h.record(sample{at: at(4), ends: one(map[string]int64{"a": 3, "b": 15, "c": 7})}) // a deleted and made again; c new
	rates := h.topicRates(at(-1))
	want := map[string][]float64{"a": {50, 0}, "b": {0, 5}} // a went down: nothing new
	if len(rates) != len(want) {
		t.Fatalf("rates of %d topics, want %d: %+v", len(rates), len(want), rates)
	}
	for _, r := range rates {
		var got []float64
		for _, p := range r.Points {
			got = append(got, p.V)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[r.Topic]) {
			t.Errorf("topic %s: rates %v, want %v", r.Topic, got, want[r.Topic])
		}
	}
	h.record(sample{at: at(6), ends: one(map[string]int64{"a": 13, "b": 15, "c": 7})})
	for _, r := range h.topicRates(at(5)) {
		if r.Topic == "a" && (len(r.Points) != 1 || r.Points[0].V != 5) {
			t.Errorf("after the re-creation, a's rate: %+v, want one point of 5/s", r.Points)
		}
		if r.Topic == "c" && (len(r.Points) != 1 || r.Points[0].V != 0) {
			t.Errorf("c's rate: %+v, want one point of 0/s", r.Points)
		}
	}
}

func TestHistoryKeepsOnlyTheWindow(t *testing.T) {
	h := newHistory(10 * time.Second)
	for i := range 200 {
		h.record(sample{at: at(float64(i)), ends: one(map[string]int64{"a": int64(i)}), groups: map[string]groupSample{
			"g": {state: "Empty", members: map[string]memberSample{}, lag: int64(i), parts: map[tp]int64{{"a", 0}: int64(i)}},
		}})
	}
	for _, r := range h.topicRates(time.Time{}) {
		// add trims lazily: never more than the window plus 64 points.
		if n := len(r.Points); n < 10 || n > 11+64 {
			t.Errorf("%d points kept of a 10 s window at 1/s", n)
		}
		if first := r.Points[0].T; first.Before(at(199 - 10 - 64)) {
			t.Errorf("oldest point %v is far outside the window", first)
		}
	}
	lag, parts, _, ok := h.groupDetail("g", at(190))
	if !ok || len(lag) != 10 || len(parts) != 1 || len(parts[0].Points) != 10 {
		t.Fatalf("group detail since 190 s: ok %v, %d lag points, parts %+v", ok, len(lag), parts)
	}
	// A group gone for longer than the window is forgotten.
	for i := 200; i < 215; i++ {
		h.record(sample{at: at(float64(i)), ends: one(map[string]int64{})})
	}
	if _, _, _, ok := h.groupDetail("g", time.Time{}); ok {
		t.Error("a group gone for longer than the window is still remembered")
	}
	if rates := h.topicRates(time.Time{}); len(rates) != 0 {
		t.Errorf("a topic gone for longer than the window still has a series: %+v", rates)
	}
}

func TestHistoryTimeline(t *testing.T) {
	h := newHistory(time.Hour)
	g := func(state string, ms ...memberSample) map[string]groupSample {
		members := map[string]memberSample{}
		for i, m := range ms {
			members[fmt.Sprintf("id-%s-%d", m.clientID, i)] = m
		}
		return map[string]groupSample{"mail": {state: state, members: members, lag: 0}}
	}
	a1 := member("postman-1", "post.office P0 P1 P2")
	steps := []struct {
		groups map[string]groupSample
		want   []string // kind: text fragments of the new events, oldest first
	}{
		{g("Stable", a1), []string{"seen: first seen by the console: Stable, 1 member(s): postman-1 → post.office P0 P1 P2"}},
		{g("Stable", a1), nil},
		{g("PreparingRebalance", a1), []string{"state: Stable → PreparingRebalance"}},
		{g("Stable", member("postman-1", "post.office P0 P1"), member("postman-2", "post.office P2")), []string{
			"state: PreparingRebalance → Stable",
			"join: postman-2 joined (/127.0.0.1, member id-postman-2-1)",
			"rebalance: rebalanced: postman-1 → post.office P0 P1; postman-2 → post.office P2",
		}},
		{g("Stable", a1), []string{
			"leave: postman-2 left (/127.0.0.1, member id-postman-2-1)",
			"rebalance: rebalanced: postman-1 → post.office P0 P1 P2",
		}},
		{g("Empty"), []string{"state: Stable → Empty", "leave: postman-1 left"}},
		{map[string]groupSample{}, []string{"deleted: group gone"}},
		{map[string]groupSample{}, nil},
		{g("Empty"), []string{"created: group created: Empty, no members"}},
	}
	seen := 0
	for i, st := range steps {
		h.record(sample{at: at(float64(i)), ends: one(map[string]int64{}), groups: st.groups})
		_, _, tl, ok := h.groupDetail("mail", time.Time{})
		if !ok {
			t.Fatalf("step %d: no history of the group", i)
		}
		fresh := tl[:len(tl)-seen]
		seen = len(tl)
		if len(fresh) != len(st.want) {
			t.Fatalf("step %d: %d new events %+v, want %d: %q", i, len(fresh), fresh, len(st.want), st.want)
		}
		for j, w := range st.want {
			ev := fresh[len(fresh)-1-j] // newest first
			if got := ev.Kind + ": " + ev.Text; !strings.HasPrefix(got, w) {
				t.Errorf("step %d event %d: %q, want it to start with %q", i, j, got, w)
			}
			if !ev.Time.Equal(at(float64(i))) {
				t.Errorf("step %d event %d at %v, want %v", i, j, ev.Time, at(float64(i)))
			}
		}
	}
}

func TestHistoryBoundsGroupsAndTimeline(t *testing.T) {
	h := newHistory(time.Hour)
	groups := map[string]groupSample{}
	for i := range maxGroupHistories + 5 {
		groups[fmt.Sprintf("g%03d", i)] = groupSample{state: "Empty", members: map[string]memberSample{}}
	}
	h.record(sample{at: at(0), ends: one(map[string]int64{}), groups: groups})
	if _, _, _, dropped := h.status(); dropped != 5 {
		t.Errorf("dropped %d groups beyond the bound, want 5", dropped)
	}
	if n := len(h.groupLags(time.Time{})); n != maxGroupHistories {
		t.Errorf("%d groups kept, want %d", n, maxGroupHistories)
	}
	for i := 1; i <= maxTimeline+10; i++ {
		state := "Empty"
		if i%2 == 1 {
			state = "Stable"
		}
		h.record(sample{at: at(float64(i)), ends: one(map[string]int64{}), groups: map[string]groupSample{"g000": {state: state, members: map[string]memberSample{}}}})
	}
	_, _, tl, _ := h.groupDetail("g000", time.Time{})
	if len(tl) != maxTimeline {
		t.Fatalf("timeline of %d events, want the newest %d", len(tl), maxTimeline)
	}
	if !tl[0].Time.Equal(at(maxTimeline + 10)) {
		t.Errorf("newest event at %v, want %v", tl[0].Time, at(maxTimeline+10))
	}
}

// BenchmarkHistoryRecord records one sample of a cluster with 200 topics
// and 20 groups of 3 members reading 10 partitions each.
func BenchmarkHistoryRecord(b *testing.B) {
	h := newHistory(30 * time.Minute)
	ends := map[string]int64{}
	for i := range 200 {
		ends[fmt.Sprintf("topic-%03d", i)] = int64(i)
	}
	groups := map[string]groupSample{}
	for g := range 20 {
		gs := groupSample{state: "Stable", members: map[string]memberSample{}, parts: map[tp]int64{}}
		for m := range 3 {
			gs.members[fmt.Sprintf("m-%d", m)] = member(fmt.Sprintf("client-%d", m), "topic-000 P0 P1 P2")
		}
		for p := range int32(10) {
			gs.parts[tp{fmt.Sprintf("topic-%03d", g), p}] = int64(p)
		}
		groups[fmt.Sprintf("group-%02d", g)] = gs
	}
	now := t0
	for b.Loop() {
		now = now.Add(2 * time.Second)
		for k := range ends {
			ends[k] += 10
		}
		h.record(sample{at: now, ends: one(ends), groups: groups})
	}
}

func TestHistoryRateCountsOnlyPartitionsThatAnsweredTwice(t *testing.T) {
	h := newHistory(time.Hour)
	h.record(sample{at: at(0), ends: map[string]map[int32]int64{"a": {0: 1000, 1: 1000}}})
	h.record(sample{at: at(2), ends: map[string]map[int32]int64{"a": {0: 1010}}})          // partition 1 did not answer
	h.record(sample{at: at(4), ends: map[string]map[int32]int64{"a": {0: 1020, 1: 1030}}}) // it is back
	h.record(sample{at: at(6), ends: map[string]map[int32]int64{"a": {0: 3, 1: 1040}}})    // 0 went down
	var got []float64
	for _, p := range h.topicRate("a", time.Time{}) {
		got = append(got, p.V)
	}
	// 10 records in 2 s, then only partition 0 counts (1 was missing the
	// sample before), then only 1 (0 went down).
	if want := []float64{5, 5, 5}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rates %v, want %v: a partition missing from one sample must not spike the next", got, want)
	}
}

func TestHistoryUndescribedGroupIsNotDeleted(t *testing.T) {
	h := newHistory(time.Hour)
	g := map[string]groupSample{"mail": {state: "Stable", members: map[string]memberSample{"m": member("postman-1", "t P0")}}}
	h.record(sample{at: at(0), groups: g})
	h.record(sample{at: at(2), groups: map[string]groupSample{}, undescribed: map[string]bool{"mail": true}})
	h.record(sample{at: at(4), groups: g})
	_, _, tl, _ := h.groupDetail("mail", time.Time{})
	if len(tl) != 1 || tl[0].Kind != "seen" {
		t.Errorf("timeline %+v: want only the first sighting (a coordinator that did not answer is no news)", tl)
	}
}

func TestHistoryBoundsSeriesAndEventText(t *testing.T) {
	h := newHistory(time.Hour)
	ends := map[string]map[int32]int64{}
	for i := range maxSeries + 10 {
		ends[fmt.Sprintf("t%05d", i)] = map[int32]int64{0: 0}
	}
	h.record(sample{at: at(0), ends: ends})
	h.record(sample{at: at(1), ends: ends})
	if n := len(h.topicRates(time.Time{})); n != maxSeries {
		t.Errorf("%d rate series, want the bound %d", n, maxSeries)
	}
	if _, _, _, dropped := h.status(); dropped != 10 {
		t.Errorf("dropped = %d, want 10", dropped)
	}
	h = newHistory(time.Hour)
	members := map[string]memberSample{}
	for i := range 500 {
		members[fmt.Sprintf("member-%03d", i)] = member(fmt.Sprintf("client-%03d", i), fmt.Sprintf("t P%d", i))
	}
	h.record(sample{at: at(0), groups: map[string]groupSample{"big": {state: "Stable", members: members}}})
	_, _, tl, _ := h.groupDetail("big", time.Time{})
	if len(tl) != 1 || len(tl[0].Text) > maxEventText+40 || !strings.Contains(tl[0].Text, "more bytes)") {
		t.Errorf("event of a 500-member group: %d bytes %q…, want it cut near %d", len(tl[0].Text), tl[0].Text[:80], maxEventText)
	}
}
