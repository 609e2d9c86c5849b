package cli

import (
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
)

// openModel opens a model file (see sgcnn.Open): an sgcnn model file
// (which names its architecture; arch, if given, must match), a PyTorch
// checkpoint (legacy or zip; arch is required) or an ONNX file. A model
// holding NaN or Inf is refused unless --allow-nonfinite is given.
func openModel(arch, path string) (*models.Model, modelfile.Info, error) {
	if why := notNativeReason(path); why != "" && !sgcnn.IsNativeFile(path) {
		return nil, modelfile.Info{}, usagef("%s", why)
	}
	m, err := sgcnn.Open(path, sgcnn.WithArch(arch), sgcnn.AllowNonFinite())
	if na := (*sgcnn.NeedArchError)(nil); errors.As(err, &na) {
		return nil, modelfile.Info{}, usagef("%s is a PyTorch checkpoint, which does not name its architecture: give --model (one of %s)", path, strings.Join(models.Names(), ", "))
	}
	if err != nil {
		return nil, modelfile.Info{}, flagError(err)
	}
	if err := checkLoadedModel(loading, m.Model, path); err != nil {
		return nil, modelfile.Info{}, err
	}
	return m.Model, m.Info, nil
}

// fileArch returns the architecture an sgcnn model file names ("graph"
// for an imported network), or "" when path is not such a file: the
// commands whose --model has a default use it so that a model file, and
// above all an imported one, needs no --model.
func fileArch(path string) string {
	if path == "" || !sgcnn.IsNativeFile(path) {
		return ""
	}
	arch, err := modelfile.Arch(path)
	if err != nil {
		return ""
	}
	return arch
}

// runName names a model in default output paths: its architecture, or for
// an imported network the model file's base name.
func runName(arch, path string) string {
	if arch != models.GraphArch || path == "" {
		return arch
	}
	return fileName(path)
}

// fileName names a model file in default output paths: its base name
// without extension, or for a run's checkpoint the run's folder.
func fileName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if base == "checkpoint" { // runs/<run>/checkpoint.safetensors: name it after the run
		base = filepath.Base(filepath.Dir(path))
	}
	return base
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
