package serve

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sgcnn/sgcnn/tensor"
)

// job is one image waiting for the batcher.
type job struct {
	x    []float32   // one normalised image, C*H*W floats
	done chan result // buffered: the batcher never blocks on a gone client
}

// result is what the batcher answers for one job.
type result struct {
	probs []float32 // softmax over the classes
	batch int       // images in the batch that ran it
	err   error
}

// errBusy and errClosed are submit's refusals (503).
var (
	errBusy   = errors.New("the server is busy: too many images waiting, retry later")
	errClosed = errors.New("the server is shutting down")
)

// submit queues x for the batcher without blocking.
func (s *Server) submit(x []float32) (*job, error) {
	j := &job{x: x, done: make(chan result, 1)}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	select {
	case s.queue <- j:
		return j, nil
	default:
		return nil, errBusy
	}
}

// batcher owns the network: it takes the first waiting job, adds the
// jobs already queued, waits up to MaxWait after the first for more
// (until MaxBatch), runs them, and repeats until the queue is closed and
// drained.
func (s *Server) batcher() {
	defer close(s.done)
	per := s.in[0] * s.in[1] * s.in[2]
	buf := make([]float32, 0, s.cfg.MaxBatch*per)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-s.queue
		if !ok {
			return
		}
		batch := s.collect([]*job{first}, timer)
		buf = buf[:0]
		for _, j := range batch {
			buf = append(buf, j.x...)
		}
		s.run(batch, buf)
	}
}

// collect adds to batch the jobs already queued, then those arriving
// within MaxWait, up to MaxBatch.
func (s *Server) collect(batch []*job, timer *time.Timer) []*job {
	for len(batch) < s.cfg.MaxBatch {
		select {
		case j, ok := <-s.queue:
			if !ok {
				return batch
			}
			batch = append(batch, j)
			continue
		default:
		}
		break
	}
	if len(batch) == s.cfg.MaxBatch || s.cfg.MaxWait == 0 {
		return batch
	}
	timer.Reset(s.cfg.MaxWait)
	defer timer.Stop()
	for len(batch) < s.cfg.MaxBatch {
		select {
		case j, ok := <-s.queue:
			if !ok {
				return batch
			}
			batch = append(batch, j)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// run runs one batch whose images are concatenated in x and answers
// every job.
func (s *Server) run(batch []*job, x []float32) {
	b := len(batch)
	t0 := time.Now()
	y, err := s.net.Forward(&tensor.Tensor{Shape: []int{b, s.in[0], s.in[1], s.in[2]}, Data: x})
	s.metrics.batch(b, time.Since(t0))
	if err == nil && (len(y.Shape) != 2 || y.Shape[0] != b || y.Shape[1] != s.classes) {
		err = fmt.Errorf("serve: network answered shape %v for a batch of %d, want [%d %d]", y.Shape, b, b, s.classes)
	}
	for i, j := range batch {
		if err != nil {
			j.done <- result{err: err, batch: b}
			continue
		}
		j.done <- result{probs: softmax(y.Data[i*s.classes : (i+1)*s.classes]), batch: b}
	}
}

// softmax returns the probabilities of logits z, in float64 against
// overflow: exp(z - max z) / sum.
func softmax(z []float32) []float32 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	e := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		e[i] = math.Exp(float64(v) - mx)
		sum += e[i]
	}
	p := make([]float32, len(z))
	for i := range e {
		p[i] = float32(e[i] / sum)
	}
	return p
}
