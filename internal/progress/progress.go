// Package progress shows progress of long work: a bar with ETA and rate
// on a terminal (github.com/schollz/progressbar), and a plain line every
// few seconds when stderr is not a terminal (logs, CI), so that neither
// gets flooded.
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar tracks n units of work (e.g. images) of one phase.
type Bar struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	desc  string
	total int64
	done  int64
	start time.Time
	last  time.Time
	every time.Duration
	extra string
}

// New starts a bar over total units described by desc, writing to w (nil
// means os.Stderr). unit names what is counted ("img").
func New(w io.Writer, total int64, desc, unit string) *Bar {
	if w == nil {
		w = os.Stderr
	}
	b := &Bar{w: w, desc: desc, total: total, start: time.Now(), every: 10 * time.Second}
	b.last = b.start
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30))
	}
	return b
}

// Add records n more units done; info (e.g. "loss 0.42") is shown beside
// the bar.
func (b *Bar) Add(n int, info string) {
	b.done += int64(n)
	b.extra = info
	if b.bar != nil {
		b.bar.Describe(b.desc + " " + info)
		_ = b.bar.Add(n)
		return
	}
	if now := time.Now(); now.Sub(b.last) >= b.every {
		b.last = now
		fmt.Fprintf(b.w, "%s %d/%d (%.0f%%) %s, %s\n", b.desc, b.done, b.total,
			100*float64(b.done)/float64(max(b.total, 1)), b.rate(), info)
	}
}

func (b *Bar) rate() string {
	el := time.Since(b.start).Seconds()
	if el <= 0 || b.done == 0 {
		return "ETA ?"
	}
	r := float64(b.done) / el
	eta := time.Duration(float64(b.total-b.done) / r * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%.0f/s, ETA %s", r, eta)
}

// Finish closes the bar.
func (b *Bar) Finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// Rate returns units per second so far.
func (b *Bar) Rate() float64 {
	el := time.Since(b.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.done) / el
}
