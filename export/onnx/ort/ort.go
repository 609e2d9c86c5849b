//go:build cgo

// Package ort runs ONNX models in ONNX Runtime, through
// github.com/yalue/onnxruntime_go (cgo, which loads the runtime's shared
// library at run time). sgcnn uses it to check exported models against its
// own forward pass, to time the two ways export/onnx can write a pruned
// convolution, and as a speed peer in benchmarks.
//
// The library is the libonnxruntime.so.1 that the npm package
// onnxruntime-node@1.30.0 ships (scripts/setup.sh installs it under
// third_party/ort); FindLibrary looks for it. The runtime's environment is
// process-wide: Open initialises it once, and every Session shares it.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// EnvLibrary is the environment variable that names the shared library.
const EnvLibrary = "SGCNN_ORT_LIB"

// LocalLibrary is where scripts/setup.sh installs the library, relative to
// the repository root.
const LocalLibrary = "third_party/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// ErrNoLibrary reports that FindLibrary found no ONNX Runtime library.
var ErrNoLibrary = errors.New("ort: ONNX Runtime library not found (set " + EnvLibrary +
	" or run scripts/setup.sh, which installs " + LocalLibrary + ")")

// FindLibrary returns the path of the ONNX Runtime shared library: $SGCNN_ORT_LIB
// if set (it must exist), else LocalLibrary under the first directory that
// holds a go.mod, looking up from the working directory and then from the
// running executable's directory (bin/sgcnn in a checkout). It returns an
// error wrapping ErrNoLibrary when there is none.
func FindLibrary() (string, error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNoLibrary, EnvLibrary, p, err)
		}
		return p, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	var tried []string
	for _, dir := range starts {
		if root, ok := moduleRoot(dir); ok {
			p := filepath.Join(root, LocalLibrary)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
		}
	}
	if len(tried) > 0 {
		return "", fmt.Errorf("%w: no %s", ErrNoLibrary, strings.Join(tried, " or "))
	}
	return "", ErrNoLibrary
}

// moduleRoot returns the first directory from dir up that holds a go.mod.
func moduleRoot(dir string) (string, bool) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", false
		}
		dir = up
	}
}

var (
	initOnce sync.Once
	initLib  string
	initErr  error
)

// Open loads the library at path and initialises ONNX Runtime's
// environment. Only the first call does anything; later calls return its
// result (and fail if they name another library).
func Open(path string) error {
	initOnce.Do(func() {
		initLib = path
		ort.SetSharedLibraryPath(path)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("ort: loading %s: %w", path, err)
		}
	})
	if initErr == nil && path != initLib {
		return fmt.Errorf("ort: already opened %s, cannot also open %s", initLib, path)
	}
	return initErr
}

// Session is one model loaded into ONNX Runtime, with one float32 input and
// one float32 output.
type Session struct {
	s   *ort.DynamicAdvancedSession
	in  string
	out string
}

// NewSession loads an ONNX model (the bytes of an .onnx file) whose input
// and output are named in and out. threads sets the intra-op thread count
// (0: ONNX Runtime's default, one per core). Open must have succeeded.
func NewSession(model []byte, in, out string, threads int) (*Session, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("ort: NewSession before Open")
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, fmt.Errorf("ort: intra-op threads: %w", err)
		}
		if err := opts.SetInterOpNumThreads(1); err != nil {
			return nil, fmt.Errorf("ort: inter-op threads: %w", err)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{in}, []string{out}, opts)
	if err != nil {
		return nil, fmt.Errorf("ort: loading the model: %w", err)
	}
	return &Session{s: s, in: in, out: out}, nil
}

// Run feeds x, of the given shape, and returns the output and its shape.
func (s *Session) Run(x []float32, shape []int64) ([]float32, []int64, error) {
	in, err := ort.NewTensor(ort.NewShape(shape...), x)
	if err != nil {
		return nil, nil, fmt.Errorf("ort: input tensor: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := s.s.Run([]ort.Value{in}, outs); err != nil {
		return nil, nil, fmt.Errorf("ort: run: %w", err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("ort: output %s is %T, want a float32 tensor", s.out, outs[0])
	}
	return slices.Clone(t.GetData()), []int64(slices.Clone(t.GetShape())), nil
}

// Close frees the session.
func (s *Session) Close() error { return s.s.Destroy() }

// Time runs the session on a zero input of the given shape, warm times
// first and then reps times, and returns the median time of one run.
func (s *Session) Time(shape []int64, warm, reps int) (time.Duration, error) {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	in, err := ort.NewTensor(ort.NewShape(shape...), make([]float32, n))
	if err != nil {
		return 0, fmt.Errorf("ort: input tensor: %w", err)
	}
	defer in.Destroy()
	run := func() error {
		outs := []ort.Value{nil}
		if err := s.s.Run([]ort.Value{in}, outs); err != nil {
			return fmt.Errorf("ort: run: %w", err)
		}
		return outs[0].Destroy()
	}
	for range warm {
		if err := run(); err != nil {
			return 0, err
		}
	}
	ts := make([]time.Duration, max(reps, 1))
	for i := range ts {
		t0 := time.Now()
		if err := run(); err != nil {
			return 0, err
		}
		ts[i] = time.Since(t0)
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// Timer times models in ONNX Runtime: it satisfies export/onnx's Timer.
type Timer struct {
	Threads int // intra-op threads (0: ONNX Runtime's default)
	Warm    int // untimed runs first (0: 3)
	Reps    int // timed runs, of which the median counts (0: 15)
}

// Time loads model (input "input", output "output") and returns the median
// time of one run on an input of the given shape.
func (t Timer) Time(model []byte, shape []int64) (time.Duration, error) {
	s, err := NewSession(model, "input", "output", t.Threads)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	warm, reps := t.Warm, t.Reps
	if warm == 0 {
		warm = 3
	}
	if reps == 0 {
		reps = 15
	}
	return s.Time(shape, warm, reps)
}
