package onnximport

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigModel is a ResNet-50-sized ONNX file (about 100 MB), made by
//
//	python3 -c "import torch, torchvision; torch.onnx.export(torchvision.models.resnet50(), torch.randn(1,3,224,224), '/tmp/r50.onnx')"
//
// or named by $SGCNN_BIG_ONNX. Tests that need it skip when it is absent.
func bigModel() string {
	if p := os.Getenv("SGCNN_BIG_ONNX"); p != "" {
		return p
	}
	return "/tmp/r50.onnx"
}

const childEnv = "ONNXIMPORT_SPEED_CHILD"

// TestImportSpeedMemory imports the big model in a fresh process and checks
// the limits: under 2 s, and a peak resident set (VmHWM, which
// counts the mapped file's pages too) under 3x the file size.
func TestImportSpeedMemory(t *testing.T) {
	if p := os.Getenv(childEnv); p != "" {
		start := time.Now()
		g, err := ReadFile(p, Options{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		el := time.Since(start)
		runtime.KeepAlive(g)
		fmt.Printf("result %d %d\n", el.Microseconds(), peakRSS())
		os.Exit(0)
	}
	path := bigModel()
	st, err := os.Stat(path)
	if err != nil {
		t.Skipf("no big model (%v); see bigModel's comment", err)
	}
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("short mode, or no /proc to read the peak from")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportSpeedMemory$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	i := bytes.Index(out, []byte("result "))
	f := strings.Fields(string(out[max(i, 0):]))
	if i < 0 || len(f) < 3 {
		t.Fatalf("child output %q", out)
	}
	us, _ := strconv.ParseInt(f[1], 10, 64)
	peak, _ := strconv.ParseInt(f[2], 10, 64)
	el := time.Duration(us) * time.Microsecond
	ratio := float64(peak) / float64(st.Size())
	t.Logf("%s (%.1f MB): imported in %v, peak RSS %.1f MB = %.2fx the file", path, float64(st.Size())/1e6, el, float64(peak)/1e6, ratio)
	if el > 2*time.Second {
		t.Errorf("import took %v, want under 2 s", el)
	}
	if ratio > 3 {
		t.Errorf("peak RSS %.2fx the file size, want under 3x", ratio)
	}
}

// peakRSS is the process's peak resident set in bytes (Linux VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// BenchmarkReadFile times importing the big model.
func BenchmarkReadFile(b *testing.B) {
	path := bigModel()
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no big model (%v)", err)
	}
	for b.Loop() {
		if _, err := ReadFile(path, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
