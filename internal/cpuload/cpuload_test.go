package cpuload

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// user nice system idle iowait irq softirq steal
	busy, total, err := parse(strings.NewReader("cpu  10 2 30 400 5 6 7 8\ncpu0 1 1 1 1 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if busy != 10+2+30+6+7+8 || total != 10+2+30+400+5+6+7+8 {
		t.Errorf("busy %d, total %d", busy, total)
	}
	for _, bad := range []string{"", "intr 1 2 3 4 5\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5\n"} {
		if _, _, err := parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBusy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/stat is Linux's")
	}
	l, err := Busy(20 * time.Millisecond)
	if err != nil || l < 0 || l > 1 {
		t.Fatalf("Busy: %v, %v; want a fraction in [0, 1]", l, err)
	}
	if _, idle, err := WaitIdle(1.01, 0); err != nil || !idle { // every load is below 101%
		t.Fatalf("WaitIdle(1.01): idle %v, %v", idle, err)
	}
}
