package progress

import (
	"bytes"
	"strings"
	"testing"
)

// TestPlainLines checks the non-terminal output: a line with the count,
// the percentage, a rate with an ETA, and the caller's info.
func TestPlainLines(t *testing.T) {
	var b bytes.Buffer
	bar := New(&b, 100, "train epoch 1/3", "img")
	bar.every = 0
	bar.Add(25, "loss 0.50")
	bar.Add(25, "loss 0.40")
	bar.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), b.String())
	}
	for _, want := range []string{"train epoch 1/3 50/100 (50%)", "ETA", "loss 0.40"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %q", lines[1], want)
		}
	}
	if bar.Rate() <= 0 {
		t.Error("rate not positive")
	}
}

// TestQuietBetweenUpdates checks that lines are throttled.
func TestQuietBetweenUpdates(t *testing.T) {
	var b bytes.Buffer
	bar := New(&b, 10, "x", "img")
	for range 10 {
		bar.Add(1, "")
	}
	if b.Len() != 0 {
		t.Fatalf("printed within the throttle interval: %q", b.String())
	}
}
