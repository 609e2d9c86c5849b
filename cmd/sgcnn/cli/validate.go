package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/models"
)

// loading is the globals of the command running, for the checks of
// openModel (one command runs per process).
var loading *globals

// checkLoadedModel refuses a loaded model holding NaN or Inf in any
// tensor (weights, running statistics), naming the file and the tensor,
// unless --allow-nonfinite is given (for debugging). path "" is a model
// built here, which is not checked.
func checkLoadedModel(g *globals, m *models.Model, path string) error {
	if m == nil || path == "" {
		return nil
	}
	name, i, v, ok := sgcnn.NonFinite(m)
	if !ok {
		return nil
	}
	if g != nil && g.allowNonFinite {
		fmt.Fprintf(g.stderr, "warning: %s: tensor %s holds %g at index %d (loaded anyway: --allow-nonfinite)\n", path, name, v, i)
		return nil
	}
	return fmt.Errorf("%s: tensor %s holds %g at index %d: the model is not usable (--allow-nonfinite loads it anyway, for debugging)", path, name, v, i)
}

// notNativeReason says why a file that is not a safetensors file cannot
// be an sgcnn model, or "" when it may be a PyTorch checkpoint.
func notNativeReason(path string) string {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "" // the loader names the missing file
	case fi.IsDir():
		return path + " is a folder, not a model file"
	case fi.Size() == 0:
		return path + " is empty (0 bytes): not a model file"
	case strings.HasSuffix(path, ".safetensors"):
		return path + " is not a valid safetensors file (no 8-byte header length followed by a JSON header)"
	}
	return ""
}
