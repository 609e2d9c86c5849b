package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/quant"
)

// TestQuantizeRejectsBadInput checks that bad flags, including calibration
// on fewer images than one batch, fail with an error naming the flag before
// any work.
func TestQuantizeRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "resnet20"}, "--weights"},
		{[]string{"--weights", "x.th", "--calib", "10", "--calib-batch", "64"}, "--calib 10"},
		{[]string{"--weights", "x.th", "--calib-batch", "0"}, "--calib-batch"},
		{[]string{"--weights", "x.th", "--bench-batch", "-1"}, "--bench-batch"},
		{[]string{"--weights", "x.th", "--repeats", "0"}, "--repeats"},
		{[]string{"--weights", "x.th", "--test-limit", "-3"}, "--test-limit"},
		{[]string{"--weights", "x.th", "--ort-limit", "-1"}, "--ort-limit"},
		{[]string{"--weights", "x.th", "--val-split", "-2"}, "--val-split"},
		{[]string{"--model", "resnet20", "--weights", "/nonexistent/file.th"}, "/nonexistent/file.th"},
	} {
		code, out, errs := run(t, append([]string{"quantize"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %q", c.args, code, errs, c.want)
		}
		if strings.Contains(out, "top-1") {
			t.Errorf("%v: work started before the error: %q", c.args, out)
		}
	}
}

// TestQuantizeResNet20 quantizes the pretrained ResNet-20 and checks the
// goal: int8 top-1 within 0.3 points of fp32 on 2,000 test images.
func TestQuantizeResNet20(t *testing.T) {
	if testing.Short() {
		t.Skip("calibrates and evaluates ResNet-20")
	}
	w := sharedFile(t, "models/cifar10/resnet20-12fca82f.th")
	sharedFile(t, "data/cifar10/test_batch.bin.gz")
	code, out, errs := run(t, "quantize", "--model", "resnet20", "--weights", w, "--calib", "128",
		"--test-limit", "2000", "--bench-batch", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var f32, i8, diff float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "top-1 on 2000 test images") {
			if _, err := fmtSscanf(line, &f32, &i8, &diff); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		}
	}
	if f32 < 85 || diff < -0.3 {
		t.Fatalf("fp32 %.2f%%, int8 %.2f%%: want int8 within 0.3 points of fp32 (output %q)", f32, i8, out)
	}
}

// fmtSscanf reads the accuracies of sgcnn quantize's top-1 line.
func fmtSscanf(line string, f32, i8, diff *float64) (int, error) {
	return fmt.Sscanf(line[strings.Index(line, "fp32"):], "fp32 %f%%  int8 %f%%  (int8 - fp32 %f points", f32, i8, diff)
}

// TestQuantizePureGo forces the pure-Go int8 kernels (as on a CPU without
// AVX512_VNNI): the command says so, calibrates on the validation split and
// still gets int8 within a point of fp32; a --calib larger than the
// validation split is an error naming both flags.
func TestQuantizePureGo(t *testing.T) {
	if testing.Short() {
		t.Skip("calibrates and evaluates ResNet-20")
	}
	w := sharedFile(t, "models/cifar10/resnet20-12fca82f.th")
	sharedFile(t, "data/cifar10/test_batch.bin.gz")
	code, out, errs := run(t, "quantize", "--model", "resnet20", "--weights", w, "--pure-go", "--calib", "64",
		"--test-limit", "200", "--bench-batch", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "note: the int8 kernels run in pure Go") || !strings.Contains(out, "int8 kernels: pure Go") {
		t.Errorf("no pure-Go note in %q", out)
	}
	if !strings.Contains(out, "images of the validation split (5000 of 50000") {
		t.Errorf("calibration not on the validation split: %q", out)
	}
	if !quant.Accelerated() == kernelWanted() {
		t.Errorf("--pure-go left the pure-Go kernels in place after the command")
	}
	var f32, i8, diff float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "top-1 on 200 test images") {
			if _, err := fmtSscanf(line, &f32, &i8, &diff); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		}
	}
	if f32 < 80 || diff < -1 {
		t.Errorf("fp32 %.2f%%, int8 %.2f%% on the pure-Go kernels (output %q)", f32, i8, out)
	}
	code, out, errs = run(t, "quantize", "--model", "resnet20", "--weights", w, "--val-split", "100", "--calib", "128")
	if code == 0 || !strings.Contains(errs, "--calib 128") || !strings.Contains(errs, "--val-split") || strings.Contains(out, "top-1") {
		t.Errorf("--calib beyond the validation split: exit %d, stderr %q, stdout %q", code, errs, out)
	}
}

// kernelWanted reports whether the assembly int8 kernels should be in use
// when nothing forces the pure-Go ones.
func kernelWanted() bool {
	restore := quant.ForcePureGo()
	restore()
	return quant.Accelerated()
}

// TestInt8ErrorReport checks the per-layer error line and the warning that
// an int8 top-1 more than 1 point below fp32 gets, naming the worst convs.
func TestInt8ErrorReport(t *testing.T) {
	errs := []quant.LayerError{{Layer: "a", RelRMS: 0.05}, {Layer: "b", RelRMS: 0.02}, {Layer: "c", RelRMS: 0.01}, {Layer: "d", RelRMS: 0.001}}
	ok := int8ErrorReport(90, 89.2, errs)
	if strings.Contains(ok, "warning") || !strings.Contains(ok, "a 5.00%, b 2.00%, c 1.00%") || strings.Contains(ok, "d 0.10%") {
		t.Errorf("0.8 points below: %q", ok)
	}
	bad := int8ErrorReport(90, 88.5, errs)
	if !strings.Contains(bad, "warning: int8 top-1 is 1.50 points below fp32; the convs with the largest error are a 5.00%, b 2.00%, c 1.00%") {
		t.Errorf("1.5 points below: %q", bad)
	}
}
