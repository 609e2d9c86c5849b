package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/serve"
	"github.com/sgcnn/sgcnn/tensor"
)

// fakeNet is a 1x2x2-input, 4-class network whose logit for class c is
// the first input value times c, so the top class says which request an
// answer belongs to. It records batch sizes and waits on gate (when not
// nil) before answering.
type fakeNet struct {
	mu      sync.Mutex
	batches []int
	gate    chan struct{}
	entered chan struct{} // receives once per Forward call, when not nil
}

func (f *fakeNet) InputShape() []int  { return []int{1, 2, 2} }
func (f *fakeNet) OutputShape() []int { return []int{4} }

func (f *fakeNet) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	b := x.Shape[0]
	f.mu.Lock()
	f.batches = append(f.batches, b)
	f.mu.Unlock()
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	y := tensor.New(b, 4)
	for i := range b {
		for c := range 4 {
			y.Data[i*4+c] = x.Data[i*4] * float32(c)
		}
	}
	return y, nil
}

// identity maps pixel v to v/255: mean 0, std 1.
var identity = data.Norm{Mean: []float32{0}, Std: []float32{1}}

// fakeBody is a 1x2x2 JSON image whose first pixel is v.
func fakeBody(v int) []byte {
	b, _ := json.Marshal(map[string]any{"pixels": [][][]int{{{v, 0}, {0, 0}}}})
	return b
}

// TestBatching sends 8 requests at once to a server whose network is held
// until all 8 wait: the batcher must run batches of at most MaxBatch, and
// every answer must be its own request's.
func TestBatching(t *testing.T) {
	for _, maxBatch := range []int{8, 3} {
		f := &fakeNet{}
		s, err := serve.New(f, serve.Config{Norm: identity, MaxBatch: maxBatch, MaxWait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(s.Handler())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Pixel 255*(i%2): odd requests have class 3 on top, even
				// ones a tie that class 0 wins.
				v := 255 * (i % 2)
				var got serve.PredictResponse
				if code, err := tryPost(hs.URL+"/v1/predict?k=1", "application/json", fakeBody(v), &got); code != 200 {
					t.Errorf("request %d: status %d, %v", i, code, err)
					return
				}
				want := 0
				if v > 0 {
					want = 3
				}
				if got.Predictions[0].Class != want || got.Batch < 1 || got.Batch > maxBatch {
					t.Errorf("request %d (max batch %d): %+v, want class %d", i, maxBatch, got, want)
				}
			}()
		}
		wg.Wait()
		hs.Close()
		s.Close()
		total := 0
		for _, b := range f.batches {
			total += b
			if b > maxBatch {
				t.Errorf("max batch %d: ran a batch of %d", maxBatch, b)
			}
		}
		if total != 8 {
			t.Errorf("max batch %d: batches %v hold %d images, want 8", maxBatch, f.batches, total)
		}
		// With a one-second wait, 8 requests sent together fill batches.
		if maxBatch == 8 && len(f.batches) > 2 {
			t.Errorf("max batch 8, max wait 1s: batches %v, want 8 images in at most 2", f.batches)
		}
	}
}

// TestMaxWait checks that a lone request runs after MaxWait, not later.
func TestMaxWait(t *testing.T) {
	f := &fakeNet{}
	s, err := serve.New(f, serve.Config{Norm: identity, MaxBatch: 64, MaxWait: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	t0 := time.Now()
	var got serve.PredictResponse
	if code := post(t, hs.URL+"/v1/predict", "application/json", fakeBody(9), &got); code != 200 || got.Batch != 1 {
		t.Fatalf("status %d, %+v", code, got)
	}
	if d := time.Since(t0); d < 30*time.Millisecond || d > 2*time.Second {
		t.Errorf("lone request answered after %v, want about the 30ms max wait", d)
	}
}

// TestNoWait checks MaxWait 0: a lone request runs at once, and the
// requests that queue while the network is busy run together next.
func TestNoWait(t *testing.T) {
	f := &fakeNet{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	s, err := serve.New(f, serve.Config{Norm: identity, MaxBatch: 8})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	codes := make(chan int, 5)
	send := func() {
		var got serve.PredictResponse
		c, err := tryPost(hs.URL+"/v1/predict", "application/json", fakeBody(1), &got)
		if err != nil {
			t.Error(err)
		}
		codes <- c
	}
	go send()
	<-f.entered // alone in its batch: nothing waited for a second image
	for range 4 {
		go send()
	}
	waitFor(t, func() bool { return queueLength(t, hs.URL) == 4 })
	f.gate <- struct{}{}
	<-f.entered
	f.gate <- struct{}{}
	for range 5 {
		if c := <-codes; c != 200 {
			t.Errorf("status %d", c)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 2 || f.batches[0] != 1 || f.batches[1] != 4 {
		t.Errorf("batches %v, want [1 4]", f.batches)
	}
}

// TestBusy fills a one-image queue while the network is held: the next
// request gets 503 and the held ones still succeed.
func TestBusy(t *testing.T) {
	f := &fakeNet{gate: make(chan struct{}), entered: make(chan struct{}, 4)}
	s, err := serve.New(f, serve.Config{Norm: identity, MaxBatch: 1, Queue: 1, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	codes := make(chan int, 2)
	send := func() {
		var got serve.PredictResponse
		c, err := tryPost(hs.URL+"/v1/predict", "application/json", fakeBody(1), &got)
		if err != nil {
			t.Error(err)
		}
		codes <- c
	}
	go send()
	<-f.entered // the first is in the network
	go send()
	waitFor(t, func() bool { return queueLength(t, hs.URL) == 1 })
	var e serve.ErrorResponse
	if code := post(t, hs.URL+"/v1/predict", "application/json", fakeBody(1), &e); code != http.StatusServiceUnavailable || !strings.Contains(e.Error, "busy") {
		t.Errorf("third request: %d %q, want 503 busy", code, e.Error)
	}
	f.gate <- struct{}{}
	<-f.entered
	f.gate <- struct{}{}
	for range 2 {
		if c := <-codes; c != 200 {
			t.Errorf("held request: status %d", c)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 5s")
}

// metricsText fetches /metrics.
func metricsText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// queueLength reads sgcnn_serve_queue_length from /metrics.
func queueLength(t *testing.T, url string) int {
	for _, line := range strings.Split(metricsText(t, url), "\n") {
		if v, ok := strings.CutPrefix(line, "sgcnn_serve_queue_length "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("queue length %q", v)
			}
			return n
		}
	}
	t.Fatal("no sgcnn_serve_queue_length in /metrics")
	return 0
}

// TestMetrics checks the Prometheus text after two good requests and one
// bad one.
func TestMetrics(t *testing.T) {
	s, err := serve.New(&fakeNet{}, serve.Config{Norm: identity, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	var got serve.PredictResponse
	post(t, hs.URL+"/v1/predict", "application/json", fakeBody(1), &got)
	post(t, hs.URL+"/v1/predict", "application/json", fakeBody(2), &got)
	var e serve.ErrorResponse
	post(t, hs.URL+"/v1/predict", "application/json", []byte("{"), &e)
	text := metricsText(t, hs.URL)
	for _, want := range []string{
		"# TYPE sgcnn_serve_requests_total counter",
		`sgcnn_serve_requests_total{code="200"} 2`,
		`sgcnn_serve_requests_total{code="400"} 1`,
		"sgcnn_serve_request_duration_seconds_count 3",
		"sgcnn_serve_batch_size_count 2",
		"sgcnn_serve_batch_size_sum 2",
		"sgcnn_serve_queue_length 0",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestGracefulShutdown cancels Serve's context while a request is inside
// the network: the request still gets its answer, Serve returns nil, and
// the port closes.
func TestGracefulShutdown(t *testing.T) {
	f := &fakeNet{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	s, err := serve.New(f, serve.Config{Norm: identity, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()
	code := make(chan int, 1)
	go func() {
		var got serve.PredictResponse
		c, err := tryPost(url+"/v1/predict", "application/json", fakeBody(1), &got)
		if err != nil {
			t.Error(err)
		}
		code <- c
	}()
	<-f.entered
	cancel()
	time.Sleep(50 * time.Millisecond) // Shutdown has begun and waits for the request
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(f.gate)
	if c := <-code; c != 200 {
		t.Errorf("request in flight at shutdown: status %d, want 200", c)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Post(url+"/v1/predict", "application/json", bytes.NewReader(fakeBody(1))); err == nil {
		t.Error("the port still answers after shutdown")
	}
}
