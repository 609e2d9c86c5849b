package main

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sgcnn/sgcnn/internal/parallel"
)

type job struct {
	t0    time.Time
	first *atomic.Int64
	spin  time.Duration
}

func (j job) Part(g, i int) {
	if g != 0 {
		j.first.CompareAndSwap(-1, int64(time.Since(j.t0)))
	}
	e := time.Now().Add(j.spin)
	for time.Now().Before(e) {
	}
}

func main() {
	t := parallel.NewTeam(2)
	var lat []time.Duration
	miss := 0
	for r := 0; r < 40; r++ {
		time.Sleep(50 * time.Millisecond)
		var first atomic.Int64
		first.Store(-1)
		t0 := time.Now()
		t.Open()
		for k := 0; k < 200; k++ { // 200 convs of 2 x 10us
			t.Run(job{t0, &first, 10 * time.Microsecond}, 2)
		}
		t.Close()
		if f := first.Load(); f >= 0 {
			lat = append(lat, time.Duration(f))
		} else {
			miss++
		}
	}
	slices.Sort(lat)
	fmt.Println("helper first part after Open: n", len(lat), "missed", miss)
	if len(lat) > 0 {
		fmt.Println("min", lat[0], "p25", lat[len(lat)/4], "median", lat[len(lat)/2], "p75", lat[3*len(lat)/4], "max", lat[len(lat)-1])
	}
	// peak-like check: 2 goroutines of spin after a forward
	var d []time.Duration
	for r := 0; r < 20; r++ {
		time.Sleep(20 * time.Millisecond)
		t.Open()
		t.Run(job{time.Now(), new(atomic.Int64), 10 * time.Microsecond}, 2)
		t.Close()
		time.Sleep(time.Millisecond) // helper parks
		done := make(chan bool)
		t0 := time.Now()
		go func() { e := time.Now().Add(4 * time.Millisecond); for time.Now().Before(e) {}; done <- true }()
		e := time.Now().Add(4 * time.Millisecond)
		for time.Now().Before(e) {
		}
		<-done
		d = append(d, time.Since(t0))
	}
	slices.Sort(d)
	fmt.Println("two 4 ms spinners after a park: median", d[10], "(4 ms if both ran at once)")
}
