package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/serve"
)

// lenetFile saves an untrained LeNet-5 (MNIST) model file and returns its
// path.
func lenetFile(t *testing.T) string {
	t.Helper()
	m, err := models.New("lenet5", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lenet5.safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{Dataset: "mnist"}, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServe runs runServe with o on a free port and returns its URL and
// a stop function (what SIGTERM does) that returns the command's output.
func startServe(t *testing.T, o *serveOptions) (url string, stop func() string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb}
	addr := make(chan string, 1)
	o.addr, o.listening = "127.0.0.1:0", func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, g, o) }()
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve returned before listening: %v", err)
	}
	return url, func() string {
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve after cancel: %v", err)
		}
		return out.String()
	}
}

// predictMNIST posts one 28x28 image (a diagonal stroke) to url.
func predictMNIST(t *testing.T, url string) serve.PredictResponse {
	t.Helper()
	px := make([][][]int, 1)
	px[0] = make([][]int, 28)
	for y := range px[0] {
		px[0][y] = make([]int, 28)
		px[0][y][y] = 255
	}
	body, _ := json.Marshal(map[string]any{"pixels": px})
	resp, err := http.Post(url+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p serve.PredictResponse
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %d %v", resp.StatusCode, err)
	}
	return p
}

// TestServeStartsAndStops serves a LeNet-5 model file on a free port,
// asks /healthz and /v1/predict, and stops it by cancelling the context
// (what SIGTERM does).
func TestServeStartsAndStops(t *testing.T) {
	path := lenetFile(t)
	url, stop := startServe(t, &serveOptions{model: path, maxBatch: 4, maxWait: serve.DefaultMaxWait,
		maxBody: 1 << 20, queue: 8, topK: 3, route: "grouped"})
	var h serve.HealthResponse
	getJSON(t, url+"/healthz", &h)
	if h.Status != "ok" || h.Classes != 10 || len(h.InputShape) != 3 || h.InputShape[1] != 28 {
		t.Errorf("healthz %+v, want ok, 10 classes, [1 28 28]", h)
	}
	// MNIST's labels are the digits; k is --top-k.
	if p := predictMNIST(t, url); len(p.Predictions) != 3 || p.Predictions[0].Label == "" {
		t.Errorf("predictions %+v, want 3 with labels", p.Predictions)
	}
	if out := stop(); !strings.Contains(out, "serving "+path) || !strings.HasSuffix(out, "stopped\n") {
		t.Errorf("output %q", out)
	}
}

// TestServeInt8 serves a LeNet-5 with --precision int8: calibrated on MNIST's
// validation split at start-up, it answers a prediction.
func TestServeInt8(t *testing.T) {
	url, stop := startServe(t, &serveOptions{model: lenetFile(t), maxBatch: 4, maxWait: serve.DefaultMaxWait,
		maxBody: 1 << 20, queue: 8, topK: 2, route: "grouped", precision: "int8", calib: 64})
	if p := predictMNIST(t, url); len(p.Predictions) != 2 || p.Predictions[0].Probability <= 0 {
		t.Errorf("predictions %+v, want 2", p.Predictions)
	}
	if out := stop(); !strings.Contains(out, "int8: 2 convs calibrated on 64 images of the validation split") {
		t.Errorf("output %q does not report the int8 calibration", out)
	}
}

// getJSON decodes a GET's JSON answer into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestServeBadModel checks that a model that cannot load stops the
// command with an error naming the file, before it listens.
func TestServeBadModel(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "bad.safetensors")
	// A safetensors-looking header that is not valid JSON.
	if err := os.WriteFile(garbage, append([]byte{5, 0, 0, 0, 0, 0, 0, 0}, "{oops"...), 0o644); err != nil {
		t.Fatal(err)
	}
	notModel := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notModel, []byte("hello, world"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"serve"}, exitUsage, "--model is required"},
		{[]string{"serve", "--model", filepath.Join(dir, "missing.safetensors")}, exitError, "missing.safetensors"},
		{[]string{"serve", "--model", garbage}, exitError, "bad.safetensors"},
		{[]string{"serve", "--model", notModel}, exitUsage, "give --arch"},
		{[]string{"serve", "--model", garbage, "--max-batch", "0"}, exitUsage, "--max-batch 0"},
		{[]string{"serve", "--model", garbage, "--route", "fast"}, exitUsage, "--route"},
		{[]string{"serve", "--model", garbage, "--precision", "bf16"}, exitUsage, "--precision"},
		{[]string{"serve", "--model", garbage, "--precision", "int8", "--calib", "0"}, exitUsage, "--calib 0"},
	} {
		code, out, errs := run(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.says) || strings.Contains(out, "serving") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d mentioning %q and no server", c.args, code, errs, out, c.code, c.says)
		}
	}
}
