// Package serve is a small HTTP inference server for a compiled (pruned)
// network: POST /v1/predict takes one image (PNG, JPEG, or JSON pixel
// arrays) and answers the top-k classes with their probabilities; GET
// /healthz answers while the server is up, and GET /metrics exposes
// Prometheus metrics in the text format.
//
// Requests are batched dynamically: one goroutine owns the network, takes
// the first waiting image, then keeps collecting until it holds
// Config.MaxBatch images or Config.MaxWait has passed since the first,
// and runs them as one batch. A full queue answers 503; bad input answers
// 4xx with a JSON error and never stops the server.
//
// The package sits at the top of sgcnn's layering, beside cmd/sgcnn: it
// takes an opened model from its caller and compiles it with package
// compile (see FromModel), or any Network.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/tensor"
)

// Network is what the server runs: *compile.Net satisfies it. Forward
// is called from one goroutine at a time, on a batch [B, C, H, W], and
// returns logits [B, classes] that may be overwritten by the next call.
type Network interface {
	InputShape() []int
	OutputShape() []int
	Forward(x *tensor.Tensor) (*tensor.Tensor, error)
}

// Defaults for the zero fields of Config.
const (
	DefaultMaxBatch        = 16
	DefaultMaxWait         = 2 * time.Millisecond
	DefaultMaxBodyBytes    = 1 << 20
	DefaultQueue           = 1024
	DefaultTopK            = 5
	DefaultMaxResizePixels = 2048 * 2048
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures a Server. Zero fields take the defaults above, except
// MaxWait.
type Config struct {
	// Norm maps 0..255 pixels to the network's inputs, one mean and
	// std per input channel (required).
	Norm data.Norm
	// Labels names the classes, index = class (optional; when given,
	// one per network output).
	Labels []string
	// MaxBatch is the most images run in one batch.
	MaxBatch int
	// MaxWait is how long the batcher waits for more images after the
	// first one of a batch arrives. Zero does not wait: a batch is what
	// was queued when the network became free (DefaultMaxWait is the
	// command line's default).
	MaxWait time.Duration
	// MaxBodyBytes limits a request body; larger ones get 413.
	MaxBodyBytes int64
	// Queue is the most images waiting for the batcher; more get 503.
	Queue int
	// TopK is the number of classes answered when the request does not
	// say (?k=N); clamped to the number of classes.
	TopK int
	// Resize scales PNG/JPEG images of another size to the network's
	// input (bilinear); without it they get 400 with the expected shape.
	Resize bool
	// MaxResizePixels bounds the width x height of an image that Resize
	// decodes (the body limit alone does not bound a PNG's pixels: a
	// flat 2048 x 2048 PNG is a few KB and decodes to 16 MB); larger
	// images get 413.
	MaxResizePixels int
	// ShutdownTimeout bounds how long Serve waits for requests in
	// flight after its context ends.
	ShutdownTimeout time.Duration
}

// Server serves one Network. Create it with New; its Handler is safe for
// concurrent use.
type Server struct {
	net     Network
	cfg     Config
	in      []int // C, H, W
	classes int
	metrics *metrics
	handler http.Handler

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *job
	done   chan struct{} // closed when the batcher has returned
}

// FromModel compiles m's network with package compile (the masks it
// carries now) and returns a Server for it.
func FromModel(m *models.Model, copt compile.Options, cfg Config) (*Server, error) {
	cn, err := compile.Compile(m.Net, m.InputShape[:], copt)
	if err != nil {
		return nil, err
	}
	return New(cn, cfg)
}

// New checks cfg against net and starts the batcher. Call Close (or
// Serve, which closes on return) to stop it.
func New(n Network, cfg Config) (*Server, error) {
	in, out := n.InputShape(), n.OutputShape()
	if len(in) != 3 || slices.Min(in) < 1 {
		return nil, fmt.Errorf("serve: network input shape %v, want [C H W]", in)
	}
	if len(out) != 1 || out[0] < 1 {
		return nil, fmt.Errorf("serve: network output shape %v, want [classes]", out)
	}
	if err := cfg.fill(in[0], out[0]); err != nil {
		return nil, err
	}
	s := &Server{net: n, cfg: cfg, in: in, classes: out[0],
		queue: make(chan *job, cfg.Queue), done: make(chan struct{})}
	s.metrics = newMetrics(func() float64 { return float64(len(s.queue)) })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/predict", s.predict)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.metrics.handler())
	s.handler = mux
	go s.batcher()
	return s, nil
}

// fill checks c and sets the defaults, for a network of ch input
// channels and classes outputs.
func (c *Config) fill(ch, classes int) error {
	if len(c.Norm.Mean) != ch || len(c.Norm.Std) != ch {
		return fmt.Errorf("serve: normalisation has %d means and %d stds, want %d (the network's input channels)", len(c.Norm.Mean), len(c.Norm.Std), ch)
	}
	for i, s := range c.Norm.Std {
		if !(s > 0) {
			return fmt.Errorf("serve: normalisation std[%d] = %v, want > 0", i, s)
		}
	}
	if c.Labels != nil && len(c.Labels) != classes {
		return fmt.Errorf("serve: %d labels for %d classes", len(c.Labels), classes)
	}
	if c.MaxBatch < 0 || c.MaxWait < 0 || c.MaxBodyBytes < 0 || c.Queue < 0 || c.TopK < 0 || c.MaxResizePixels < 0 || c.ShutdownTimeout < 0 {
		return errors.New("serve: negative limit in Config")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBatch, DefaultMaxBatch)
	def(&c.Queue, DefaultQueue)
	def(&c.TopK, DefaultTopK)
	def(&c.MaxResizePixels, DefaultMaxResizePixels)
	c.TopK = min(c.TopK, classes)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return nil
}

// Handler returns the server's routes: POST /v1/predict, GET /healthz
// and GET /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Config returns the configuration in use, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Close stops the batcher once the images already queued have run;
// predictions submitted afterwards get 503. It waits for the batcher and
// is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
}

// Serve answers HTTP on l until ctx ends, then shuts down gracefully: it
// stops accepting connections, waits up to Config.ShutdownTimeout for
// requests in flight, and closes the server. It returns nil after a
// graceful shutdown.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc // http.ErrServerClosed once Shutdown has begun
	s.Close()
	return err
}
