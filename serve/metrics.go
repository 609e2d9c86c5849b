package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are a Server's Prometheus collectors, in a registry of its own
// so that two servers in one process (tests) do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   prometheus.Histogram
	batchSize prometheus.Histogram
	inference prometheus.Histogram
}

// newMetrics registers the server's metrics, the queue length read by
// queueLen, and the Go runtime and process collectors.
func newMetrics(queueLen func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sgcnn_serve_requests_total",
			Help: "Prediction requests answered, by HTTP status code (499: the client left first).",
		}, []string{"code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sgcnn_serve_request_duration_seconds",
			Help:    "Time from a prediction request's arrival to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sgcnn_serve_batch_size",
			Help:    "Images per batch run by the network.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sgcnn_serve_batch_duration_seconds",
			Help:    "Time the network takes to run one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.batchSize, m.inference,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sgcnn_serve_queue_length",
			Help: "Images waiting for the batcher.",
		}, queueLen),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// request records one answered prediction request.
func (m *metrics) request(code int, d time.Duration) {
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	m.latency.Observe(d.Seconds())
}

// batch records one batch run.
func (m *metrics) batch(size int, d time.Duration) {
	m.batchSize.Observe(float64(size))
	m.inference.Observe(d.Seconds())
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
