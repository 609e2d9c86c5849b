// Package cpuload samples how busy the machine's CPUs are, from Linux's
// /proc/stat, so that timings can record the load they ran under and
// benchmarks can wait for a quiet machine.
package cpuload

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// statFile is the file the samples read.
const statFile = "/proc/stat"

// Busy returns the fraction of all CPUs busy (not idle or waiting for I/O)
// over the interval d, sampled from /proc/stat at its start and end.
func Busy(d time.Duration) (float64, error) {
	b0, t0, err := times()
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b1, t1, err := times()
	if err != nil {
		return 0, err
	}
	if t1 <= t0 {
		return 0, nil
	}
	return float64(b1-b0) / float64(t1-t0), nil
}

// WaitIdle samples Busy every half second until it is below maxBusy (a
// fraction) or timeout has passed, and returns the last load seen and
// whether the machine became idle.
func WaitIdle(maxBusy float64, timeout time.Duration) (load float64, idle bool, err error) {
	deadline := time.Now().Add(timeout)
	for {
		if load, err = Busy(500 * time.Millisecond); err != nil {
			return 0, false, err
		}
		if load < maxBusy {
			return load, true, nil
		}
		if time.Now().After(deadline) {
			return load, false, nil
		}
	}
}

// times reads the busy and total jiffies from /proc/stat.
func times() (busy, total uint64, err error) {
	f, err := os.Open(statFile)
	if err != nil {
		return 0, 0, fmt.Errorf("cpuload: %w", err)
	}
	defer f.Close()
	return parse(f)
}

// parse reads the aggregate "cpu" line that starts /proc/stat: user, nice,
// system, idle, iowait, irq, softirq, ... in jiffies. Busy is the total
// less idle and iowait.
func parse(r io.Reader) (busy, total uint64, err error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return 0, 0, fmt.Errorf("cpuload: %s is empty", statFile)
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("cpuload: %s: unexpected first line %q", statFile, sc.Text())
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("cpuload: %s: %w", statFile, err)
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, nil
}
