package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/train"
)

// datasets lists the data sets the commands know by name.
var datasets = sgcnn.Datasets

// defaultDataset picks the data set a model is usually trained on.
func defaultDataset(arch string) string { return sgcnn.DefaultDataset(arch) }

// modelDataset is the data set a command runs a model on: the one given,
// else the one its model file records, else the architecture's default.
func modelDataset(given string, info modelfile.Info, arch string) string {
	switch {
	case given != "":
		return given
	case info.Dataset != "":
		return info.Dataset
	}
	return defaultDataset(arch)
}

// openDataset loads the train or test split of a named data set from dir
// ("" for the default location).
func openDataset(name, dir string, trainSplit bool) (*data.Dataset, error) {
	ds, err := sgcnn.OpenSplit(name, dir, trainSplit, 0)
	return ds, flagError(err)
}

// limited returns the first n images of ds (all of them when n <= 0 or
// n >= ds.N): for quick runs and tests.
func limited(ds *data.Dataset, n int) (*data.Dataset, error) {
	if n <= 0 || n >= ds.N {
		return ds, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return ds.Subset(idx)
}

// checkFits reports a data set whose images or classes do not fit a model.
func checkFits(m *models.Model, ds *data.Dataset, name string) error {
	c, h, w := ds.Dims()
	if [3]int{c, h, w} != m.InputShape {
		return fmt.Errorf("data set %s has %dx%dx%d images but %s takes %dx%dx%d", name, c, h, w, m.Arch, m.InputShape[0], m.InputShape[1], m.InputShape[2])
	}
	if n := len(ds.Classes); n > m.Classes {
		return fmt.Errorf("data set %s has %d classes but %s has %d outputs (use --classes)", name, n, m.Arch, m.Classes)
	}
	return nil
}

// evalSource streams a data set in order, unaugmented (sgcnn.EvalSource).
func evalSource(ds *data.Dataset, norm data.Norm, batch int) (train.Source, error) {
	return sgcnn.EvalSource(ds, norm, batch)
}

// openModel opens a model file (see sgcnn.Open): an sgcnn model file
// (which names its architecture; arch, if given, must match), a PyTorch
// checkpoint (legacy or zip; arch is required) or an ONNX file. A model
// holding NaN or Inf is refused unless --allow-nonfinite is given.
func openModel(arch, path string) (*models.Model, modelfile.Info, error) {
	if why := notNativeReason(path); why != "" && !isNative(path) {
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
	if path == "" || !isNative(path) {
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
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if base == "checkpoint" { // runs/<run>/checkpoint.safetensors: name it after the run
		base = filepath.Base(filepath.Dir(path))
	}
	return base
}

// normFor returns the normalisation to feed a model: the one recorded in
// its file, else the data set's default.
func normFor(info modelfile.Info, ds *data.Dataset) data.Norm {
	if len(info.Mean) == ds.C && len(info.Std) == ds.C {
		return data.Norm{Mean: info.Mean, Std: info.Std}
	}
	return ds.Norm()
}

// isNative reports whether path looks like a safetensors file: an 8-byte
// little-endian header length followed by '{'.
func isNative(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [9]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return head[8] == '{' && !bytes.HasPrefix(head[:], []byte("PK"))
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
