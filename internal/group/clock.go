package group

import (
	"sync"
	"time"
)

// Clock is the coordinator's source of time and timers. Tests inject a
// manual clock so that session timeouts and rebalance delays fire exactly
// when a script says.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine (or, for a manual clock, in
	// the goroutine that advances time) once d has passed.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper stops a timer; Stop reports whether it stopped the timer before
// it fired.
type Stopper interface {
	Stop() bool
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }

// timers tracks every armed timer of a Coordinator so that Close can stop
// them and wait for callbacks that already started.
type timers struct {
	clock Clock
	wg    *sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	live   map[*timer]struct{}
	closed bool
}

// timer is one armed callback. Stopping it or firing it removes it from
// timers.live; whichever happens first wins.
type timer struct {
	ts *timers
	s  Stopper // nil if never armed (closed)
}

// after arms f to run after d; after Close it arms nothing and returns a
// timer whose stop does nothing.
func (ts *timers) after(d time.Duration, f func()) *timer {
	t := &timer{ts: ts}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return t
	}
	ts.live[t] = struct{}{}
	ts.wg.Add(1)
	t.s = ts.clock.AfterFunc(d, func() {
		defer ts.wg.Done()
		ts.mu.Lock()
		_, ok := ts.live[t]
		delete(ts.live, t)
		closed := ts.closed
		ts.mu.Unlock()
		if ok && !closed {
			f()
		}
	})
	return t
}

// stop cancels the timer if it has not fired; a nil timer is fine.
func (t *timer) stop() {
	if t == nil || t.s == nil {
		return
	}
	ts := t.ts
	ts.mu.Lock()
	_, ok := ts.live[t]
	delete(ts.live, t)
	ts.mu.Unlock()
	if ok && t.s.Stop() {
		ts.wg.Done()
	}
}

// close stops every live timer; callbacks already running finish and are
// waited for by the owner's WaitGroup.
func (ts *timers) close() {
	ts.mu.Lock()
	ts.closed = true
	live := ts.live
	ts.live = map[*timer]struct{}{}
	ts.mu.Unlock()
	for t := range live {
		if t.s.Stop() {
			ts.wg.Done()
		}
	}
}
