package pytorch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/tensor"
)

// zipDir is the top-level directory of archives SaveZip writes; torch.load
// accepts any name.
const zipDir = "archive"

// fieldAlignment is the alignment PyTorch gives storage records in its zip
// files (so that they can be mmapped); the padding goes in a "FB" extra field.
const fieldAlignment = 64

// SaveZip writes sd to path as a PyTorch zip-format state dict, an
// OrderedDict of float32 tensors (Names, in order) followed by int64 tensors
// (IntNames, in order), that torch.load (1.6 and later) reads. The file is
// written to a temporary file in the same directory and renamed over path
// only once complete, so path never holds a partial file.
func SaveZip(path string, sd *StateDict) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return WriteZip(w, sd) })
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

// WriteZip writes sd to w in the format of SaveZip. Errors name the file as
// "<writer>".
func WriteZip(w io.Writer, sd *StateDict) error {
	type rec struct {
		name  string
		shape []int
		data  func() []byte
		class string
	}
	var recs []rec
	seen := map[string]bool{}
	for _, n := range sd.Names {
		t := sd.Tensors[n]
		switch {
		case seen[n]:
			return &Error{File: "<writer>", Name: n, Err: errors.New("name listed twice")}
		case t == nil:
			return &Error{File: "<writer>", Name: n, Err: errors.New("listed in Names but not in Tensors")}
		case badShape(t.Shape, len(t.Data)):
			return &Error{File: "<writer>", Name: n, Err: fmt.Errorf("%d values do not fill shape %v", len(t.Data), t.Shape)}
		}
		seen[n] = true
		recs = append(recs, rec{n, t.Shape, func() []byte { return floatBytes(t) }, "FloatStorage"})
	}
	for _, n := range sd.IntNames {
		t := sd.Ints[n]
		switch {
		case seen[n]:
			return &Error{File: "<writer>", Name: n, Err: errors.New("name listed twice")}
		case t == nil:
			return &Error{File: "<writer>", Name: n, Err: errors.New("listed in IntNames but not in Ints")}
		case badShape(t.Shape, len(t.Data)):
			return &Error{File: "<writer>", Name: n, Err: fmt.Errorf("%d values do not fill shape %v", len(t.Data), t.Shape)}
		}
		seen[n] = true
		recs = append(recs, rec{n, t.Shape, func() []byte { return intBytes(t) }, "LongStorage"})
	}
	if len(sd.Tensors) != len(sd.Names) || len(sd.Ints) != len(sd.IntNames) {
		return &Error{File: "<writer>", Err: errors.New("Tensors/Ints hold names missing from Names/IntNames")}
	}

	// data.pkl: OrderedDict([(name, _rebuild_tensor_v2(storage, 0, shape,
	// stride, False, OrderedDict())), ...]) in pickle protocol 2, as
	// torch.save writes it (less memoisation and the _metadata attribute).
	var p pickler
	p.proto2()
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce)
	p.op(opMark)
	for i, r := range recs {
		p.str(r.name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.op(opMark)
		p.op(opMark) // persistent id ('storage', class, key, 'cpu', numel)
		p.str("storage")
		p.global("torch", r.class)
		p.str(strconv.Itoa(i))
		p.str("cpu")
		p.int(tensor.Numel(r.shape...))
		p.op(opTuple, opBinPersID)
		p.int(0) // storage offset
		p.ints(r.shape)
		p.ints(contiguousStrides(r.shape))
		p.op(opNewFalse) // requires_grad
		p.global("collections", "OrderedDict")
		p.op(opEmptyTuple, opReduce) // backward_hooks
		p.op(opTuple, opReduce)
	}
	p.op(opSetItems, opStop)

	zw := zip.NewWriter(w)
	var off int64
	put := func(name string, data []byte) error {
		name = zipDir + "/" + name
		// Pad the local header so the data starts on a 64-byte boundary.
		hdr := int64(30 + len(name) + 4)
		pad := (fieldAlignment - (off+hdr)%fieldAlignment) % fieldAlignment
		extra := make([]byte, 4+pad)
		copy(extra, "FB")
		binary.LittleEndian.PutUint16(extra[2:], uint16(pad))
		for i := 4; i < len(extra); i++ {
			extra[i] = 'Z'
		}
		fw, err := zw.CreateRaw(&zip.FileHeader{
			Name:               name,
			Method:             zip.Store,
			CRC32:              crc32.ChecksumIEEE(data),
			CompressedSize64:   uint64(len(data)),
			UncompressedSize64: uint64(len(data)),
			Extra:              extra,
		})
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
		off += hdr + pad + int64(len(data))
		return nil
	}
	if err := put("data.pkl", p.b.Bytes()); err != nil {
		return err
	}
	for i, r := range recs {
		if err := put("data/"+strconv.Itoa(i), r.data()); err != nil {
			return &Error{File: "<writer>", Name: r.name, Err: err}
		}
	}
	if err := put("version", []byte("3\n")); err != nil {
		return err
	}
	if err := put("byteorder", []byte("little")); err != nil {
		return err
	}
	return zw.Close()
}

func badShape(shape []int, n int) bool {
	for _, d := range shape {
		if d < 0 {
			return true
		}
	}
	return tensor.Numel(shape...) != n
}

// contiguousStrides returns the row-major strides of shape.
func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

func floatBytes(t *tensor.Tensor) []byte {
	b := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func intBytes(t *IntTensor) []byte {
	b := make([]byte, 8*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return b
}

// pickler emits the few protocol-2 opcodes WriteZip needs.
type pickler struct{ b bytes.Buffer }

func (p *pickler) op(ops ...byte) { p.b.Write(ops) }

func (p *pickler) proto2() { p.op(opProto, 2) }

// global pushes module.name (GLOBAL).
func (p *pickler) global(module, name string) {
	p.b.WriteByte(opGlobal)
	p.b.WriteString(module + "\n" + name + "\n")
}

// str pushes a str (BINUNICODE: uint32 length, UTF-8 bytes).
func (p *pickler) str(s string) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.b.WriteByte(opBinUnicode)
	p.b.Write(n[:])
	p.b.WriteString(s)
}

// int pushes an int in the shortest encoding, as Python's pickler does.
func (p *pickler) int(v int) {
	switch {
	case v >= 0 && v < 1<<8:
		p.op(opBinInt1, byte(v))
	case v >= 0 && v < 1<<16:
		p.op(opBinInt2, byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
		p.op(opBinInt)
		p.b.Write(b[:])
	default:
		// LONG1: little-endian two's complement, 8 bytes always suffice.
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		p.op(opLong1, 8)
		p.b.Write(b[:])
	}
}

// ints pushes a tuple of ints.
func (p *pickler) ints(vs []int) {
	if len(vs) == 0 {
		p.op(opEmptyTuple)
		return
	}
	p.op(opMark)
	for _, v := range vs {
		p.int(v)
	}
	p.op(opTuple)
}
