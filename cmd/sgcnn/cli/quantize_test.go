package cli

import (
	"fmt"
	"strings"
	"testing"
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
