package compile

import (
	"fmt"
	"time"
)

// SplitMode is Options.SplitOne: how Forward runs a batch of one image on
// two or more threads.
type SplitMode int

const (
	// SplitAuto, the default, measures both ways as the network runs and
	// keeps the faster: the first autoTries batch-1 forwards of every
	// autoEvery are split and unsplit in turn, and the rest run the way
	// whose best time was lower. Splitting gains where the helper
	// threads wake fast and the cores are free, and loses on a machine
	// whose other jobs hold the cores (docs/BENCHMARKS.md); measuring
	// settles it on the machine at hand, and again as its load changes.
	SplitAuto SplitMode = iota
	// SplitOff runs the image on the calling goroutine.
	SplitOff
	// SplitOn splits each conv of the image over the threads.
	SplitOn
)

// String returns "auto", "off" or "on".
func (m SplitMode) String() string {
	switch m {
	case SplitOff:
		return "off"
	case SplitOn:
		return "on"
	}
	return "auto"
}

// ParseSplitMode returns the SplitMode that String names ("auto", "on"
// or "off").
func ParseSplitMode(s string) (SplitMode, error) {
	for _, m := range []SplitMode{SplitAuto, SplitOff, SplitOn} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%q: want auto, on or off", s)
}

const (
	autoTries = 3   // forwards each way per measurement
	autoEvery = 256 // batch-1 forwards per measurement
)

// autoSplit is SplitAuto's state: batch-1 forwards are counted in periods
// of autoEvery, the first 2*autoTries of each tried split and unsplit in
// turn.
type autoSplit struct {
	n     int              // batch-1 forwards so far in this period
	best  [2]time.Duration // this period's best trial times, unsplit and split
	split bool             // the way chosen at the last measurement
}

// next returns whether the next batch-1 forward splits, and whether it is
// a trial whose time done must get.
func (a *autoSplit) next() (split, trial bool) {
	if a.n >= autoEvery {
		a.n = 0
	}
	if a.n < 2*autoTries {
		if a.n == 0 {
			a.best = [2]time.Duration{}
		}
		return a.n%2 == 1, true
	}
	a.n++
	return a.split, false
}

// done records a trial's time and, after the period's last trial, chooses.
func (a *autoSplit) done(split bool, d time.Duration) {
	i := 0
	if split {
		i = 1
	}
	if a.best[i] == 0 || d < a.best[i] {
		a.best[i] = d
	}
	a.n++
	if a.n == 2*autoTries {
		a.split = a.best[1] < a.best[0]
	}
}

// SplitChoice reports how SplitAuto now runs a batch of one image:
// "split", "unsplit", or "measuring" during a measurement (and "" when
// Options.SplitOne is not SplitAuto or the Net has one thread).
func (n *Net) SplitChoice() string {
	if n.splitOne != SplitAuto || n.pool.Threads() < 2 {
		return ""
	}
	switch {
	case n.auto.n < 2*autoTries:
		return "measuring"
	case n.auto.split:
		return "split"
	}
	return "unsplit"
}
