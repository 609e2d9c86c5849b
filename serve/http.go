package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Prediction is one class of a /v1/predict answer.
type Prediction struct {
	Class       int     `json:"class"`
	Label       string  `json:"label,omitempty"`
	Probability float32 `json:"probability"`
}

// PredictResponse is the body of a successful /v1/predict: the top-k
// classes, most probable first, and the size of the batch the image ran
// in.
type PredictResponse struct {
	Predictions []Prediction `json:"predictions"`
	Batch       int          `json:"batch"`
}

// ErrorResponse is the body of every 4xx and 5xx answer. ExpectedShape
// is the network's input [C, H, W] when the error is about the input's
// shape or format.
type ErrorResponse struct {
	Error         string `json:"error"`
	ExpectedShape []int  `json:"expected_shape,omitempty"`
}

// HealthResponse is the body of /healthz.
type HealthResponse struct {
	Status     string `json:"status"`
	InputShape []int  `json:"input_shape"`
	Classes    int    `json:"classes"`
}

// predict serves POST /v1/predict[?k=N].
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	code := s.predictCode(w, r)
	s.metrics.request(code, time.Since(t0))
}

// predictCode answers one prediction and returns the HTTP status sent.
func (s *Server) predictCode(w http.ResponseWriter, r *http.Request) int {
	k := s.cfg.TopK
	if q := r.URL.Query().Get("k"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > s.classes {
			return s.fail(w, &inputError{status: http.StatusBadRequest, msg: "k=" + q + ": want an integer from 1 to " + strconv.Itoa(s.classes)})
		}
		k = n
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return s.fail(w, err)
	}
	x, err := s.decode(body, r.Header.Get("Content-Type"))
	if err != nil {
		return s.fail(w, err)
	}
	j, err := s.submit(x)
	if err != nil {
		return s.fail(w, &inputError{status: http.StatusServiceUnavailable, msg: err.Error()})
	}
	var res result
	select {
	case res = <-j.done:
	case <-r.Context().Done():
		// The client left; the batcher still answers into j.done's buffer.
		return 499
	}
	if res.err != nil {
		return s.fail(w, &inputError{status: http.StatusInternalServerError, msg: res.err.Error()})
	}
	return writeJSON(w, http.StatusOK, PredictResponse{Predictions: s.top(res.probs, k), Batch: res.batch})
}

// top returns the k most probable classes of p, most probable first (ties:
// the lower class first).
func (s *Server) top(p []float32, k int) []Prediction {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	out := make([]Prediction, k)
	for i, c := range idx[:k] {
		out[i] = Prediction{Class: c, Probability: p[c]}
		if s.cfg.Labels != nil {
			out[i].Label = s.cfg.Labels[c]
		}
	}
	return out
}

// healthz serves GET /healthz.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		writeJSON(w, http.StatusServiceUnavailable, HealthResponse{Status: "shutting down", InputShape: s.in, Classes: s.classes})
		return
	}
	writeJSON(w, http.StatusOK, HealthResponse{Status: "ok", InputShape: s.in, Classes: s.classes})
}

// fail writes err as a JSON error and returns its status (500 for an
// error that is not an inputError).
func (s *Server) fail(w http.ResponseWriter, err error) int {
	var ie *inputError
	if !errors.As(err, &ie) {
		ie = &inputError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	return writeJSON(w, ie.status, ErrorResponse{Error: ie.msg, ExpectedShape: ie.shape})
}

// writeJSON writes v with status and returns status.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may be gone; nothing to do
	return status
}
