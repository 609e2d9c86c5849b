// Command serve_load measures `sgcnn serve`'s latency and throughput under concurrent clients.
//
// It is a bounded load test for `sgcnn serve`: for each
// concurrency level it runs that many clients, each posting one PNG image
// to /v1/predict, waiting for the answer and posting again, for a fixed
// time, and reports the latency percentiles and the throughput of the
// successful answers. bench/serve_load/run.sh starts the servers and runs
// it; it prints one JSON object per level:
//
//	{"label": "pruned", "clients": 8, "seconds": 10.0, "requests": 1234, "errors": 0,
//	 "rps": 123.4, "p50_ms": 6.1, "p99_ms": 14.2, "mean_batch": 3.9}
//
// The image is deterministic noise of the shape /healthz reports (a
// 3-channel or 1-channel PNG), so every request costs the server the same.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// level is one concurrency level's result.
type level struct {
	Label     string  `json:"label"`
	Clients   int     `json:"clients"`
	Seconds   float64 `json:"seconds"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	MeanBatch float64 `json:"mean_batch"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	levels := flag.String("clients", "1,8,32", "concurrency levels, comma-separated")
	dur := flag.Duration("duration", 10*time.Second, "time per level (after warm-up)")
	warm := flag.Duration("warmup", 2*time.Second, "unmeasured time before each level")
	label := flag.String("label", "", "label copied into each result")
	flag.Parse()
	if err := run(*url, *levels, *label, *dur, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "serve_load:", err)
		os.Exit(1)
	}
}

func run(url, levels, label string, dur, warm time.Duration) error {
	var counts []int
	for _, s := range strings.Split(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("-clients %q: want integers from 1 to 1024", levels)
		}
		counts = append(counts, n)
	}
	if dur <= 0 || warm < 0 {
		return fmt.Errorf("-duration %v, -warmup %v: want > 0 and >= 0", dur, warm)
	}
	body, err := imageFor(url)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 30 * time.Second}
	enc := json.NewEncoder(os.Stdout)
	for _, n := range counts {
		load(client, url, body, n, warm)
		r := load(client, url, body, n, dur)
		r.Label = label
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// imageFor asks /healthz for the input shape and returns a noise PNG of it.
func imageFor(url string) ([]byte, error) {
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h struct {
		InputShape []int `json:"input_shape"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || len(h.InputShape) != 3 {
		return nil, fmt.Errorf("%s/healthz: status %d, input shape %v, %v", url, resp.StatusCode, h.InputShape, err)
	}
	c, ht, w := h.InputShape[0], h.InputShape[1], h.InputShape[2]
	if ht > 4096 || w > 4096 {
		return nil, fmt.Errorf("input shape %v: too large for this test", h.InputShape)
	}
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, ht))
	for i := 0; i < len(img.Pix); i += 4 {
		v := uint8(r.IntN(256))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		if c == 3 {
			img.Pix[i+1], img.Pix[i+2] = uint8(r.IntN(256)), uint8(r.IntN(256))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// load runs n clients for d and summarises their answers.
func load(client *http.Client, url string, body []byte, n int, d time.Duration) level {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs, batchSum int
	var wg sync.WaitGroup
	t0 := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				b, err := predict(client, url, body)
				el := time.Since(start)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the level
				}
				mu.Lock()
				if err != nil {
					errs++
				} else {
					lat = append(lat, el)
					batchSum += b
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	r := level{Clients: n, Seconds: secs, Requests: len(lat), Errors: errs, RPS: float64(len(lat)) / secs}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50ms = ms(lat[len(lat)/2])
		r.P99ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
		r.MeanBatch = float64(batchSum) / float64(len(lat))
	}
	return r
}

// predict posts one image and returns the batch size the server ran it in.
func predict(client *http.Client, url string, body []byte) (int, error) {
	resp, err := client.Post(url+"/v1/predict?k=1", "image/png", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var p struct {
		Batch int `json:"batch"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return 0, err
	}
	return p.Batch, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
