package sgcnn

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/transfer"
)

// TestTransferKeepsMasks transfers a LeNet-5 with a pruned conv2 to MNIST
// for one epoch: the file holds the record and the fine-tuned network,
// whose conv2 keeps its mask and its pruned weights at zero.
func TestTransferKeepsMasks(t *testing.T) {
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	conv2 := m.Model.PrunableLayers()[0]
	n, c := conv2.MaskShape()
	mask := make([]float32, n*c)
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	if err := conv2.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	rc := transfer.DefaultConfig()
	rc.Epochs, rc.Batch = 1, 64
	out := filepath.Join(t.TempDir(), "t.safetensors")
	rec, err := Transfer(context.Background(), m, TransferConfig{Config: rc, Dataset: "mnist", TrainLimit: 300, TestLimit: 100,
		ValSplit: 50, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.History) != 1 || rec.FinalVal == nil || rec.Validation.Images != 50 || rec.TrainN != 250 || rec.TestN != 100 || rec.Pruned != 0.5 {
		t.Fatalf("record %+v", rec)
	}
	f, err := models.LoadFile(out, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if f.Info.Dataset != "mnist" || len(f.Info.Training) == 0 {
		t.Errorf("info %+v: want the target data set and the record", f.Info)
	}
	got := f.Model.PrunableLayers()[0]
	if !slices.Equal(got.Mask(), mask) {
		t.Fatal("conv2's mask changed")
	}
	for i, w := range got.Params()[0].Value.Data {
		if mask[i/(len(got.Params()[0].Value.Data)/len(mask))] == 0 && w != 0 {
			t.Fatalf("pruned weight %d is %g after fine-tuning", i, w)
		}
	}
	var ce *ConfigError
	if _, err := Transfer(context.Background(), m, TransferConfig{Config: rc, Dataset: "cifar10", Out: out}); !errors.As(err, &ce) || ce.Field != "Dataset" {
		t.Errorf("target cifar10: %v, want a *ConfigError of Dataset", err)
	}
}
