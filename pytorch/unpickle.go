package pytorch

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// allowedGlobals is every module.name a state dict pickle may refer to. The
// torch.<X>Storage classes in storageTypes are allowed as well.
var allowedGlobals = map[string]bool{
	"collections.OrderedDict":                    true,
	"torch._utils._rebuild_tensor":               true,
	"torch._utils._rebuild_tensor_v2":            true,
	"torch._utils._rebuild_parameter":            true,
	"torch._utils._rebuild_parameter_with_state": true,
	"torch._tensor._rebuild_from_type_v2":        true,
	"torch.Tensor":                               true,
	"torch.nn.parameter.Parameter":               true,
	"torch.Size":                                 true,
}

// checkGlobal returns an error unless module.name is allowed.
func checkGlobal(module, name string) error {
	if allowedGlobals[module+"."+name] {
		return nil
	}
	if _, ok := storageTypes[name]; ok && module == "torch" {
		return nil
	}
	return fmt.Errorf("pickle asks for class %.100s.%.100s; refusing", module, name)
}

// Callables handed to gopickle. Each checks its arguments and never panics.
type (
	rebuildTensor    struct{ v2 bool }
	rebuildParameter struct{}
	rebuildFromType  struct{}
	torchSize        struct{}
	torchClass       struct{ name string }
)

// resolve is the restricted class resolver given to gopickle.
func resolve(module, name string) (interface{}, error) {
	if err := checkGlobal(module, name); err != nil {
		return nil, err
	}
	switch module + "." + name {
	case "torch._utils._rebuild_tensor":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{v2: true}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return rebuildParameter{}, nil
	case "torch._tensor._rebuild_from_type_v2":
		return rebuildFromType{}, nil
	case "torch.Size":
		return torchSize{}, nil
	case "torch.Tensor", "torch.nn.parameter.Parameter":
		return torchClass{name}, nil
	case "collections.OrderedDict":
		return &types.OrderedDictClass{}, nil
	}
	return &storageClass{name: name, dt: storageTypes[name]}, nil
}

// Call implements torch._utils._rebuild_tensor(_v2)(storage, storage_offset,
// size, stride, ...). The tensor is only described here; it is bounds-checked
// and copied once all storages are present.
func (r rebuildTensor) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: storage is a %s", typeName(args[0]))
	}
	off, ok := asInt(args[1])
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: storage offset is a %s", typeName(args[1]))
	}
	shape, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: size: %w", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: stride: %w", err)
	}
	return &tensorRef{st: st, offset: off, shape: shape, stride: stride}, nil
}

// Call implements torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks[, state]): a Parameter is its data.
func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, errors.New("_rebuild_parameter: no arguments")
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is a %s", typeName(args[0]))
	}
	return t, nil
}

// Call implements torch._tensor._rebuild_from_type_v2(func, new_type, args,
// state) for plain tensors and parameters; the Python state is dropped.
func (rebuildFromType) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("_rebuild_from_type_v2: %d arguments, want at least 3", len(args))
	}
	fn, ok := args[0].(types.Callable)
	if !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: func is a %s", typeName(args[0]))
	}
	if _, ok := args[1].(torchClass); !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: type is a %s", typeName(args[1]))
	}
	a, ok := args[2].(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2: args is a %s", typeName(args[2]))
	}
	return fn.Call(*a...)
}

// Call implements torch.Size(tuple).
func (torchSize) Call(args ...interface{}) (interface{}, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("torch.Size: %d arguments, want 1", len(args))
	}
	if _, err := intTuple(args[0]); err != nil {
		return nil, fmt.Errorf("torch.Size: %w", err)
	}
	return args[0], nil
}

// asInt converts a pickled Python int to int.
func asInt(v interface{}) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *big.Int:
		if x.IsInt64() && int64(int(x.Int64())) == x.Int64() {
			return int(x.Int64()), true
		}
	}
	return 0, false
}

// intTuple converts a pickled tuple of ints.
func intTuple(v interface{}) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("got a %s, want a tuple of ints", typeName(v))
	}
	out := make([]int, len(*t))
	for i, x := range *t {
		if out[i], ok = asInt(x); !ok {
			return nil, fmt.Errorf("element %d is a %s, want an int", i, typeName(x))
		}
	}
	return out, nil
}

// typeName describes a pickled value by its type only: pickled values may be
// cyclic or huge, so they are never formatted with %v.
func typeName(v interface{}) string {
	switch v.(type) {
	case nil:
		return "None"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case bool:
		return "bool"
	case *types.Tuple:
		return "tuple"
	case *types.List:
		return "list"
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case *tensorRef:
		return "tensor"
	case *storageRef:
		return "storage"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*")
}

// unpickle decodes one pickle that scanPickle has already framed. persist
// resolves persistent ids (storages); nil refuses them.
func unpickle(data []byte, persist func(interface{}) (interface{}, error)) (obj interface{}, err error) {
	defer func() {
		if p := recover(); p != nil {
			obj, err = nil, fmt.Errorf("corrupt pickle (reader panicked: %.200v)", p)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = resolve
	if persist != nil {
		u.PersistentLoad = persist
	}
	obj, err = u.Load()
	if err != nil {
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, errors.New(msg)
	}
	return obj, nil
}

// dictEntry is one key/value pair of a pickled dict, in insertion order.
type dictEntry struct {
	key string
	val interface{}
}

// dictEntries returns the entries of a pickled dict or OrderedDict whose
// keys are all strings, in insertion order, later duplicates overwriting
// earlier ones in place as Python does. ok is false for non-dicts.
func dictEntries(v interface{}) (ents []dictEntry, ok bool, err error) {
	var raw []types.DictEntry
	switch d := v.(type) {
	case *types.Dict:
		raw = *d
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe, _ := e.Value.(*types.OrderedDictEntry)
			if oe != nil {
				raw = append(raw, types.DictEntry{Key: oe.Key, Value: oe.Value})
			}
		}
	default:
		return nil, false, nil
	}
	pos := make(map[string]int, len(raw))
	for _, e := range raw {
		k, isStr := e.Key.(string)
		if !isStr {
			return nil, true, fmt.Errorf("dict key is a %s, want a str", typeName(e.Key))
		}
		if i, dup := pos[k]; dup {
			ents[i].val = e.Value
			continue
		}
		pos[k] = len(ents)
		ents = append(ents, dictEntry{k, e.Value})
	}
	return ents, true, nil
}
