package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/tensor"
)

// File is the contents of a checkpoint: named tensors and string metadata.
type File struct {
	// Names lists the float tensors in file order; every name is a key of
	// Tensors, and no other key is.
	Names []string
	// Tensors holds the float tensors.
	Tensors map[string]*tensor.Tensor
	// IntNames lists the integer tensors in file order; every name is a key
	// of Ints, and no other key is.
	IntNames []string
	// Ints holds the integer tensors (step counters, index maps).
	Ints map[string]*IntTensor
	// Meta is the header's "__metadata__" object; nil or empty writes none.
	Meta map[string]string
}

// IntTensor is an integer tensor in row-major order.
type IntTensor struct {
	Shape []int
	Data  []int64
}

// NewFile returns an empty File ready for Add.
func NewFile() *File {
	return &File{Tensors: map[string]*tensor.Tensor{}, Ints: map[string]*IntTensor{}, Meta: map[string]string{}}
}

// Add appends a float tensor under name, replacing any float tensor of that
// name but keeping its position.
func (f *File) Add(name string, t *tensor.Tensor) {
	if f.Tensors == nil {
		f.Tensors = map[string]*tensor.Tensor{}
	}
	if _, ok := f.Tensors[name]; !ok {
		f.Names = append(f.Names, name)
	}
	f.Tensors[name] = t
}

// AddInt appends an integer tensor under name, replacing any integer tensor
// of that name but keeping its position.
func (f *File) AddInt(name string, t *IntTensor) {
	if f.Ints == nil {
		f.Ints = map[string]*IntTensor{}
	}
	if _, ok := f.Ints[name]; !ok {
		f.IntNames = append(f.IntNames, name)
	}
	f.Ints[name] = t
}

// Error is the error type of this package's readers and writers. It names
// the file and, where there is one, the tensor or header field at fault.
type Error struct {
	File string // path, or the name passed to Read / "<writer>" for Write
	Name string // tensor or header key; empty when the problem is file-wide
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("checkpoint: %s: %q: %v", e.File, e.Name, e.Err)
	}
	return fmt.Sprintf("checkpoint: %s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Save writes f to path in safetensors format, atomically (see package
// internal/atomicfile): path holds either its old contents or all of f, and
// no temporary file remains.
func Save(path string, f *File) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, f) })
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
			return e
		}
		return &Error{File: path, Err: err}
	}
	return nil
}

// Load reads the safetensors file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Read(fh, fi.Size(), path)
}
