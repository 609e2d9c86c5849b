package compile

import (
	"strings"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/graph"
)

// TestAutoSplitChooses drives SplitAuto's state with made-up times: the
// first 2*autoTries batch-1 forwards alternate unsplit and split, the
// faster way by best time is kept until the period ends, and the next
// period measures again (and may choose the other way).
func TestAutoSplitChooses(t *testing.T) {
	var a autoSplit
	run := func(unsplit, split time.Duration) (ways []bool) {
		for range autoEvery {
			s, trial := a.next()
			ways = append(ways, s)
			if trial {
				d := unsplit
				if s {
					d = split
				}
				a.done(s, d)
			}
		}
		return ways
	}
	check := func(ways []bool, want bool) {
		t.Helper()
		for i, s := range ways {
			if i < 2*autoTries {
				if s != (i%2 == 1) {
					t.Fatalf("forward %d: split %v in the trials, want them alternating", i, s)
				}
			} else if s != want {
				t.Fatalf("forward %d: split %v, want %v", i, s, want)
			}
		}
	}
	check(run(2*time.Millisecond, time.Millisecond), true)
	check(run(time.Millisecond, 3*time.Millisecond), false) // the next period measures again
	check(run(time.Millisecond, 900*time.Microsecond), true)
}

// TestParseSplitMode checks the names of the modes, and that a bad one
// is refused.
func TestParseSplitMode(t *testing.T) {
	for _, m := range []SplitMode{SplitAuto, SplitOff, SplitOn} {
		if got, err := ParseSplitMode(m.String()); err != nil || got != m {
			t.Errorf("ParseSplitMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseSplitMode("yes"); err == nil {
		t.Error(`ParseSplitMode("yes"): no error`)
	}
}

// TestCompileRefusesSplitMode checks that an Options.SplitOne outside
// the three modes is an error, not a silent default.
func TestCompileRefusesSplitMode(t *testing.T) {
	_, err := CompileGraph(&graph.Graph{}, Options{SplitOne: SplitOn + 1})
	if err == nil || !strings.Contains(err.Error(), "Options.SplitOne") {
		t.Errorf("Options.SplitOne 3: error %v, want one naming Options.SplitOne", err)
	}
}
