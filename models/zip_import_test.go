package models_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestZipResNet20MatchesTorch loads a ResNet-20 state_dict that Debian's
// torch 1.13 saved in the zip format (scripts/gen_model_fixtures.py) and
// checks sgcnn's eval-mode logits against torch's within 1e-4.
func TestZipResNet20MatchesTorch(t *testing.T) {
	sd, err := pytorch.Load("testdata/resnet20_zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New("resnet20", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/resnet20_logits.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Shape  []int     `json:"input_shape"`
		Input  []float32 `json:"input"`
		Logits []float64 `json:"logits"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	x, err := tensor.From(fx.Input, fx.Shape...)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Data) != len(fx.Logits) {
		t.Fatalf("%d logits, want %d", len(y.Data), len(fx.Logits))
	}
	var scale float64
	for _, v := range fx.Logits {
		scale = math.Max(scale, math.Abs(v))
	}
	for i, want := range fx.Logits {
		if d := math.Abs(float64(y.Data[i]) - want); d > 1e-4*math.Max(1, scale) {
			t.Fatalf("logit %d: %g, torch %g (diff %g)", i, y.Data[i], want, d)
		}
	}
}
