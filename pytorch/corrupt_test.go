package pytorch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// Opcodes only the tests write.
const (
	tEmptyDict = '}'
	tEmptyList = ']'
	tAppends   = 'e'
)

// tensorPickle writes _rebuild_tensor_v2(pid, offset, shape, stride, ...)
// where pid is ('storage', torch.<class>, key, 'cpu', numel[, view]).
func tensorPickle(p *pickler, class, key string, numel, offset int, shape, stride []int, view func()) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark)
	p.str("storage")
	p.global("torch", class)
	p.str(key)
	p.str("cpu")
	p.int(numel)
	if view != nil {
		view()
	}
	p.op(opTuple, opBinPersID)
	p.int(offset)
	p.ints(shape)
	p.ints(stride)
	p.op(opNewFalse, opEmptyTuple, opTuple, opReduce) // backward_hooks: ()
}

// zipWith wraps a data.pkl and storages into a stored zip.
func zipWith(t *testing.T, pkl []byte, storages map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "m/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	put("data.pkl", pkl)
	for k, b := range storages {
		put("data/"+k, b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// oneTensorZip is a state dict {"w": view of storage "0"}.
func oneTensorZip(t *testing.T, numel, offset int, shape, stride []int, data []byte) []byte {
	var p pickler
	p.proto2()
	p.op(tEmptyDict, opMark)
	p.str("w")
	tensorPickle(&p, "FloatStorage", "0", numel, offset, shape, stride, nil)
	p.op(opSetItems, opStop)
	return zipWith(t, p.b.Bytes(), map[string][]byte{"0": data})
}

func TestReadCorruptZip(t *testing.T) {
	data := f32s(1, 2, 3, 4, 5, 6)
	cases := []struct {
		want string
		file []byte
	}{
		{"reaches element 6", oneTensorZip(t, 6, 1, []int{2, 3}, []int{3, 1}, data)},
		{"negative stride", oneTensorZip(t, 6, 0, []int{2}, []int{-1}, data)},
		{"differ in length", oneTensorZip(t, 6, 0, []int{2, 3}, []int{1}, data)},
		{"holds 24 bytes, want 28", oneTensorZip(t, 7, 0, []int{7}, []int{1}, data)},
		{"no entry", zipWith(t, []byte(oneTensorPickle()), nil)},
		{"refusing", zipWith(t, []byte("\x80\x02cbuiltins\neval\n."), nil)},
		{"no <dir>/data.pkl", noPickleZip()},
	}
	for _, c := range cases {
		_, err := Read(bytes.NewReader(c.file), int64(len(c.file)), "bad.pt")
		var e *Error
		if !errors.As(err, &e) || e.File != "bad.pt" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want an *Error for bad.pt containing %q", err, c.want)
		}
	}
	// A good file differing from the first case in one field loads.
	good := oneTensorZip(t, 6, 1, []int{2, 2}, []int{3, 1}, data)
	sd, err := Read(bytes.NewReader(good), int64(len(good)), "good.pt")
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors["w"].Data; !equalF32(got, []float32{2, 3, 5, 6}) {
		t.Errorf("strided view = %v, want [2 3 5 6]", got)
	}
}

func noPickleZip() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.Create("x/other.pkl")
	zw.Close()
	return buf.Bytes()
}

func oneTensorPickle() string {
	var p pickler
	p.proto2()
	p.op(tEmptyDict, opMark)
	p.str("w")
	tensorPickle(&p, "FloatStorage", "0", 1, 0, []int{1}, []int{1}, nil)
	p.op(opSetItems, opStop)
	return p.b.String()
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// legacyFile builds a legacy-format file by hand: the tensors "a" and "b"
// are views (view_metadata) of one 5-element root storage "r".
func legacyFile(numelInData uint64) []byte {
	var p pickler
	pick := func(body func()) {
		p.proto2()
		body()
		p.op(opStop)
	}
	pick(func() { // LONG1: 10 bytes, little-endian
		p.op(opLong1, 10)
		p.b.Write(reverse(legacyMagic.FillBytes(make([]byte, 10))))
	})
	pick(func() { p.int(legacyProtocol) })
	pick(func() { p.op(tEmptyDict) })
	view := func(key string, off, n int) func() {
		return func() { p.op(opMark); p.str(key); p.int(off); p.int(n); p.op(opTuple) }
	}
	pick(func() {
		p.op(tEmptyDict, opMark)
		p.str("module.a")
		tensorPickle(&p, "DoubleStorage", "r", 5, 0, []int{2}, []int{1}, view("v1", 1, 3))
		p.str("module.b")
		tensorPickle(&p, "DoubleStorage", "r", 5, 1, []int{2}, []int{1}, view("v2", 2, 3))
		p.op(opSetItems)
	})
	pick(func() { p.op(tEmptyList, opMark); p.str("r"); p.op(tAppends) })
	p.b.Write(binary.LittleEndian.AppendUint64(nil, numelInData))
	for i := 0; i < 5; i++ {
		p.b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(i)+0.5)))
	}
	return p.b.Bytes()
}

func reverse(b []byte) []byte {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

func TestReadLegacyStorageViews(t *testing.T) {
	b := legacyFile(5)
	sd, err := Read(bytes.NewReader(b), int64(len(b)), "views.pt")
	if err != nil {
		t.Fatal(err)
	}
	// root = [0.5 1.5 2.5 3.5 4.5]; v1 = root[1:4], v2 = root[2:5].
	if a := sd.Tensors["a"].Data; !equalF32(a, []float32{1.5, 2.5}) {
		t.Errorf("a = %v, want [1.5 2.5]", a)
	}
	if b := sd.Tensors["b"].Data; !equalF32(b, []float32{3.5, 4.5}) {
		t.Errorf("b = %v, want [3.5 4.5]", b)
	}
	if len(sd.Names) != 2 || sd.Names[0] != "a" {
		t.Errorf("Names = %q, want [a b]", sd.Names)
	}
}

func TestReadLegacyCorrupt(t *testing.T) {
	good := legacyFile(5)
	if _, err := Read(bytes.NewReader(good), int64(len(good)), "x"); err != nil {
		t.Fatal(err)
	}
	bad := legacyFile(4)
	if _, err := Read(bytes.NewReader(bad), int64(len(bad)), "x"); err == nil || !strings.Contains(err.Error(), "holds 4 elements") {
		t.Errorf("wrong storage size: err = %v", err)
	}
	// Every truncation of real files fails cleanly, naming the file.
	for _, name := range []string{"testdata/legacy.pt", "testdata/zip_plain.pt"} {
		full, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(full); n += 1 + n/16 {
			_, err := Read(bytes.NewReader(full[:n]), int64(n), "cut.pt")
			var e *Error
			if !errors.As(err, &e) || e.File != "cut.pt" {
				t.Fatalf("%s cut at %d: error %v, want an *Error for cut.pt", name, n, err)
			}
		}
	}
}
