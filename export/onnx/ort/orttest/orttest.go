// Package orttest loads ONNX Runtime for tests that compare with it.
package orttest

import (
	"os"
	"testing"

	"github.com/sgcnn/sgcnn/export/onnx/ort"
)

// Open loads ONNX Runtime, or skips the test when it is not installed;
// under CI=true a missing runtime fails the test instead, so that CI
// cannot pass by skipping.
func Open(t testing.TB) {
	t.Helper()
	lib, err := ort.FindLibrary()
	if err == nil {
		err = ort.Open(lib)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX Runtime is required under CI=true: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}
