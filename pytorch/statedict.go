package pytorch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/sgcnn/sgcnn/tensor"
)

// StateDict is a model's parameters and buffers by PyTorch name, in the
// order the file lists them.
type StateDict struct {
	// Names lists the floating-point tensors in file order. Every name is a
	// key of Tensors, and no other key is.
	Names []string
	// Tensors holds the floating-point tensors, converted to float32.
	Tensors map[string]*tensor.Tensor
	// IntNames lists the integer and bool tensors (for example BatchNorm's
	// num_batches_tracked) in file order; every name is a key of Ints.
	IntNames []string
	// Ints holds the integer and bool tensors as int64 values (bool as 0/1).
	Ints map[string]*IntTensor
	// Skipped lists entries of the state dict that are not tensors and were
	// left out. Load only fills it; SaveZip ignores it.
	Skipped []string
}

// IntTensor is an integer tensor in row-major order.
type IntTensor struct {
	Shape []int
	Data  []int64
}

// NewStateDict returns an empty state dict ready for Add.
func NewStateDict() *StateDict {
	return &StateDict{Tensors: map[string]*tensor.Tensor{}, Ints: map[string]*IntTensor{}}
}

// Add appends a float tensor under name, replacing any tensor of that name
// but keeping its position.
func (sd *StateDict) Add(name string, t *tensor.Tensor) {
	if sd.Tensors == nil {
		sd.Tensors = map[string]*tensor.Tensor{}
	}
	if _, ok := sd.Tensors[name]; !ok {
		sd.Names = append(sd.Names, name)
	}
	sd.Tensors[name] = t
}

// AddInt appends an integer tensor under name, replacing any integer tensor
// of that name but keeping its position.
func (sd *StateDict) AddInt(name string, t *IntTensor) {
	if sd.Ints == nil {
		sd.Ints = map[string]*IntTensor{}
	}
	if _, ok := sd.Ints[name]; !ok {
		sd.IntNames = append(sd.IntNames, name)
	}
	sd.Ints[name] = t
}

// Error is the error type of Load, Read and SaveZip. It names the file and,
// where there is one, the tensor or field at fault.
type Error struct {
	File string // path, or the name passed to Read
	Name string // tensor or field; empty when the problem is file-wide
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("pytorch: %s: %q: %v", e.File, e.Name, e.Err)
	}
	return fmt.Sprintf("pytorch: %s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads the state dict in the PyTorch checkpoint at path, in either the
// zip or the legacy format.
func Load(path string) (*StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Read(f, fi.Size(), path)
}

// Read reads the state dict of a checkpoint of size bytes held in r; name is
// used in errors only.
func Read(r io.ReaderAt, size int64, name string) (*StateDict, error) {
	var magic [4]byte
	if size < 4 {
		return nil, &Error{File: name, Err: errors.New("file too short to be a PyTorch checkpoint")}
	}
	if err := readAt(r, magic[:], 0); err != nil {
		return nil, &Error{File: name, Err: err}
	}
	ld := &loader{file: name, storages: map[string]*storageRef{}}
	var obj interface{}
	var err error
	switch {
	case bytes.Equal(magic[:], []byte("PK\x03\x04")):
		obj, err = ld.readZip(r, size)
	case magic[0] == opProto:
		obj, err = ld.readLegacy(r, size)
	default:
		err = errors.New("not a PyTorch checkpoint (neither zip nor legacy pickle)")
	}
	if err != nil {
		return nil, ld.wrap(err)
	}
	sd, err := ld.stateDict(obj)
	if err != nil {
		return nil, ld.wrap(err)
	}
	return sd, nil
}

// loader holds the state of one Read.
type loader struct {
	file     string
	storages map[string]*storageRef // by persistent key (legacy: also view keys)
	// checkStorage validates a storage when its persistent id is first seen.
	checkStorage func(st *rawStorage) error
}

// wrap turns err into an *Error naming the file, unless it already is one.
func (ld *loader) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{File: ld.file, Err: err}
}

// persistentLoad resolves a storage persistent id:
// ('storage', storage_type, key, location, numel[, view_metadata]).
func (ld *loader) persistentLoad(pid interface{}) (interface{}, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || len(*t) < 5 || len(*t) > 6 {
		return nil, fmt.Errorf("persistent id is a %s, want a 5- or 6-tuple", typeName(pid))
	}
	id := *t
	if s, _ := id[0].(string); s != "storage" {
		return nil, fmt.Errorf("persistent id of kind %s, want 'storage'", typeName(id[0]))
	}
	cls, ok := id[1].(*storageClass)
	if !ok {
		return nil, fmt.Errorf("persistent id storage type is a %s", typeName(id[1]))
	}
	key, ok := id[2].(string)
	if !ok {
		return nil, fmt.Errorf("persistent id key is a %s", typeName(id[2]))
	}
	numel, ok := asInt(id[4])
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %q: bad element count", key)
	}
	ref := ld.storages[key]
	if ref == nil {
		raw := &rawStorage{key: key, dt: cls.dt, numel: numel}
		if err := ld.checkStorage(raw); err != nil {
			return nil, err
		}
		ref = &storageRef{root: raw, n: numel}
		ld.storages[key] = ref
	} else if ref.root.key != key || ref.root.dt != cls.dt || ref.root.numel != numel {
		return nil, fmt.Errorf("storage %q is declared twice, differently", key)
	}
	if len(id) == 6 && id[5] != nil {
		// Legacy storage view: (view_key, offset, view_size).
		vm, ok := id[5].(*types.Tuple)
		if !ok || len(*vm) != 3 {
			return nil, fmt.Errorf("storage %q: view metadata is not a 3-tuple", key)
		}
		vkey, ok1 := (*vm)[0].(string)
		off, ok2 := asInt((*vm)[1])
		n, ok3 := asInt((*vm)[2])
		if !ok1 || !ok2 || !ok3 || off < 0 || n < 0 || off > numel || n > numel-off {
			return nil, fmt.Errorf("storage %q: bad view metadata", key)
		}
		if v := ld.storages[vkey]; v != nil {
			return v, nil
		}
		v := &storageRef{root: ref.root, off: off, n: n}
		ld.storages[vkey] = v
		return v, nil
	}
	return ref, nil
}

// stateKeys are the keys under which training scripts commonly nest the
// state dict, tried in order.
var stateKeys = []string{"state_dict", "model_state_dict", "model", "net", "state"}

// stateDict finds the state dict in the unpickled object and materialises
// its tensors.
func (ld *loader) stateDict(obj interface{}) (*StateDict, error) {
	ents, ok, err := dictEntries(obj)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("top-level object is a %s, want a dict", typeName(obj))
	}
	for _, k := range stateKeys {
		for _, e := range ents {
			if e.key != k {
				continue
			}
			inner, isDict, err := dictEntries(e.val)
			if err != nil {
				return nil, &Error{File: ld.file, Name: k, Err: err}
			}
			if isDict && hasTensor(inner) {
				return ld.build(inner)
			}
		}
	}
	if !hasTensor(ents) {
		return nil, errors.New("no state dict found: no tensors at the top level or under " +
			strings.Join(stateKeys, ", "))
	}
	return ld.build(ents)
}

func hasTensor(ents []dictEntry) bool {
	for _, e := range ents {
		if _, ok := e.val.(*tensorRef); ok {
			return true
		}
	}
	return false
}

// build converts the entries of a state dict.
func (ld *loader) build(ents []dictEntry) (*StateDict, error) {
	sd := NewStateDict()
	overlap := 0 // elements materialised by self-overlapping views
	seen := map[string]bool{}
	for _, e := range ents {
		name := strings.TrimPrefix(e.key, "module.")
		if seen[name] {
			return nil, &Error{File: ld.file, Name: e.key, Err: errors.New("duplicate name after stripping \"module.\"")}
		}
		seen[name] = true
		t, ok := e.val.(*tensorRef)
		if !ok {
			sd.Skipped = append(sd.Skipped, name)
			continue
		}
		numel, over, err := t.check()
		if err == nil && t.st.root.data == nil && numel > 0 {
			err = fmt.Errorf("storage %q has no data", t.st.root.key)
		}
		if err == nil && over {
			if overlap += numel; overlap > maxOverlapElems {
				err = errors.New("self-overlapping views expand to too many elements")
			}
		}
		if err != nil {
			return nil, &Error{File: ld.file, Name: e.key, Err: err}
		}
		if t.st.root.dt.isFloat() {
			sd.Add(name, &tensor.Tensor{Shape: t.shape, Data: t.floats(numel)})
		} else {
			sd.AddInt(name, &IntTensor{Shape: t.shape, Data: t.ints(numel)})
		}
	}
	return sd, nil
}
