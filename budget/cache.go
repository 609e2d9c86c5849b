package budget

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
)

// CPUModel names the CPU as cost tables key it (Key.CPU): the model name
// with the family and model numbers and the vector extensions, e.g. "AMD
// EPYC (family 25 model 17; avx512f, avx512_vnni, avx512_bf16)"
// (internal/cpuinfo), or GOOS/GOARCH where /proc/cpuinfo cannot be read.
// The model name alone is not enough: a virtual machine may call both a
// Zen 4 and a Zen 5 "AMD EPYC", and a table measured on one would be
// reused on the other.
func CPUModel() string { return cpuinfo.Describe() }

// SaveCosts writes t to path as JSON (all or nothing).
func SaveCosts(path string, t *CostTable) error {
	return writeJSONFile(path, t)
}

// LoadCosts reads the cost table cached in path and returns it when it
// was measured for want. Otherwise it returns nil and, where a table was
// there, why it cannot be used ("measured on another CPU (X), not Y"), so
// that the caller can say why it measures afresh. A missing file is
// neither a table nor an error; an unreadable one is an error.
func LoadCosts(path string, want Key) (t *CostTable, why string, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	t = new(CostTable)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Sprintf("%s is not a cost table (%v)", path, err), nil
	}
	if why := mismatch(t.Key, want); why != "" {
		return nil, why, nil
	}
	if err := t.check(); err != nil {
		return nil, fmt.Sprintf("%s: %v", path, err), nil
	}
	return t, "", nil
}

// mismatch says how a cached table's key differs from the one wanted.
func mismatch(got, want Key) string {
	switch {
	case got.CPU != want.CPU:
		return fmt.Sprintf("it was measured on another CPU model (%q, this one is %q)", got.CPU, want.CPU)
	case got.Threads != want.Threads:
		return fmt.Sprintf("it was measured with %d threads, not %d", got.Threads, want.Threads)
	case got.Batch != want.Batch:
		return fmt.Sprintf("it was measured at batch %d, not %d", got.Batch, want.Batch)
	case got.Model != want.Model || !slices.Equal(got.Layers, want.Layers):
		return "it was measured for another model or other layers"
	case !slices.Equal(got.Rates, want.Rates):
		return fmt.Sprintf("it was measured at rates %v, not %v", got.Rates, want.Rates)
	}
	return ""
}

// check reports a table whose columns do not match its rates.
func (t *CostTable) check() error {
	n := len(t.Rates)
	if n == 0 || len(t.TotalNs) != n || len(t.Scales) != n || len(t.Layers) != len(t.Key.Layers) {
		return fmt.Errorf("cost table: %d rates, %d totals, %d scales, %d layers (written by another version?)", n, len(t.TotalNs), len(t.Scales), len(t.Layers))
	}
	for _, r := range t.Layers {
		if len(r.Ns) != n || len(r.FLOPs) != n || len(r.Params) != n {
			return fmt.Errorf("cost table: layer %s has %d times, %d FLOPs, %d params for %d rates", r.Name, len(r.Ns), len(r.FLOPs), len(r.Params), n)
		}
	}
	return nil
}

// writeJSONFile writes v as indented JSON to path, all or nothing.
func writeJSONFile(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
}
