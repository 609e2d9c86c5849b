package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sgcnn/sgcnn/tensor"
)

// maxHeader is the largest header accepted, as in the reference
// implementation (100 MB).
const maxHeader = 100 << 20

// metaKey is the reserved header key holding string metadata.
const metaKey = "__metadata__"

// dtypes maps safetensors dtype names to their element size and kind.
var dtypes = map[string]struct {
	size  int
	float bool
}{
	"F64": {8, true}, "F32": {4, true}, "F16": {2, true}, "BF16": {2, true},
	"I64": {8, false}, "I32": {4, false}, "I16": {2, false}, "I8": {1, false},
	"U8": {1, false}, "BOOL": {1, false},
}

// entry is one tensor's header record.
type entry struct {
	name    string
	Dtype   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// Read reads a safetensors file of size bytes from r; name is used in
// errors only.
func Read(r io.ReaderAt, size int64, name string) (*File, error) {
	fail := func(tensor string, err error) (*File, error) {
		return nil, &Error{File: name, Name: tensor, Err: err}
	}
	var lenBuf [8]byte
	if size < 8 {
		return fail("", errors.New("file shorter than the 8-byte header length"))
	}
	if err := readAt(r, lenBuf[:], 0); err != nil {
		return fail("", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeader || n > uint64(size-8) {
		return fail("", fmt.Errorf("header length %d exceeds the file (%d bytes) or the %d-byte limit", n, size, maxHeader))
	}
	hdr := make([]byte, n)
	if err := readAt(r, hdr, 8); err != nil {
		return fail("", err)
	}
	ents, meta, err := parseHeader(hdr)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = name
			return nil, e
		}
		return fail("", err)
	}
	dataStart := 8 + int64(n)
	if err := checkLayout(ents, size-dataStart); err != nil {
		var e *Error
		errors.As(err, &e)
		e.File = name
		return nil, e
	}
	f := &File{Tensors: map[string]*tensor.Tensor{}, Ints: map[string]*IntTensor{}, Meta: meta}
	for _, e := range ents {
		raw := make([]byte, e.Offsets[1]-e.Offsets[0])
		if err := readAt(r, raw, dataStart+e.Offsets[0]); err != nil {
			return fail(e.name, err)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		if dtypes[e.Dtype].float {
			f.Add(e.name, &tensor.Tensor{Shape: shape, Data: decodeFloats(e.Dtype, raw)})
		} else {
			f.AddInt(e.name, &IntTensor{Shape: shape, Data: decodeInts(e.Dtype, raw)})
		}
	}
	return f, nil
}

// parseHeader decodes the JSON header, keeping the tensors' order and
// refusing duplicate keys, unknown dtypes and malformed records.
func parseHeader(hdr []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("header is not a JSON object")
	}
	var ents []entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header JSON: %w", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, nil, &Error{Name: key, Err: errors.New("header key appears twice")}
		}
		seen[key] = true
		if key == metaKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, &Error{Name: key, Err: fmt.Errorf("want an object of strings: %w", err)}
			}
			continue
		}
		e := entry{name: key}
		if err := decodeStrict(dec, &e); err != nil {
			return nil, nil, &Error{Name: key, Err: err}
		}
		ents = append(ents, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	// Only the space padding may follow the object.
	if strings.TrimRight(string(hdr[dec.InputOffset():]), " \t\r\n") != "" {
		return nil, nil, errors.New("header has data after the JSON object")
	}
	return ents, meta, nil
}

// decodeStrict decodes one tensor record, rejecting unknown fields.
func decodeStrict(dec *json.Decoder, e *entry) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("header JSON: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(e); err != nil {
		return fmt.Errorf("bad tensor record: %w", err)
	}
	if len(e.Offsets) != 2 {
		return fmt.Errorf("data_offsets has %d elements, want 2", len(e.Offsets))
	}
	if _, ok := dtypes[e.Dtype]; !ok {
		return fmt.Errorf("unsupported dtype %.20q", e.Dtype)
	}
	return nil
}

// checkLayout checks that the tensors tile [0, dataLen) exactly, each with
// the byte size its dtype and shape need, and sorts ents into data order.
func checkLayout(ents []entry, dataLen int64) error {
	for _, e := range ents {
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end < b || end > dataLen {
			return &Error{Name: e.name, Err: fmt.Errorf("data_offsets [%d, %d] outside the %d data bytes", b, end, dataLen)}
		}
		n := int64(dtypes[e.Dtype].size)
		for _, d := range e.Shape {
			if d < 0 {
				return &Error{Name: e.name, Err: fmt.Errorf("negative dimension in shape %v", e.Shape)}
			}
			if d != 0 && n > math.MaxInt64/int64(d) {
				return &Error{Name: e.name, Err: fmt.Errorf("shape %v overflows", e.Shape)}
			}
			n *= int64(d)
		}
		if n != end-b {
			return &Error{Name: e.name, Err: fmt.Errorf("%s shape %v needs %d bytes, data_offsets [%d, %d] hold %d", e.Dtype, e.Shape, n, b, end, end-b)}
		}
	}
	slices.SortStableFunc(ents, func(x, y entry) int {
		if c := cmpInt64(x.Offsets[0], y.Offsets[0]); c != 0 {
			return c
		}
		return cmpInt64(x.Offsets[1], y.Offsets[1])
	})
	pos := int64(0)
	for _, e := range ents {
		if e.Offsets[0] != pos {
			what := "gap before"
			if e.Offsets[0] < pos {
				what = "overlap at"
			}
			return &Error{Name: e.name, Err: fmt.Errorf("%s data_offsets [%d, %d]: tensors must be packed back to back", what, e.Offsets[0], e.Offsets[1])}
		}
		pos = e.Offsets[1]
	}
	if pos != dataLen {
		return &Error{Err: fmt.Errorf("tensors cover %d of the %d data bytes", pos, dataLen)}
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func decodeFloats(dt string, b []byte) []float32 {
	sz := dtypes[dt].size
	out := make([]float32, len(b)/sz)
	for i := range out {
		p := b[i*sz:]
		switch dt {
		case "F32":
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p))
		case "F64":
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(p)))
		case "F16":
			out[i] = halfToFloat(binary.LittleEndian.Uint16(p))
		case "BF16":
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(p)) << 16)
		}
	}
	return out
}

func decodeInts(dt string, b []byte) []int64 {
	sz := dtypes[dt].size
	out := make([]int64, len(b)/sz)
	for i := range out {
		p := b[i*sz:]
		switch dt {
		case "I64":
			out[i] = int64(binary.LittleEndian.Uint64(p))
		case "I32":
			out[i] = int64(int32(binary.LittleEndian.Uint32(p)))
		case "I16":
			out[i] = int64(int16(binary.LittleEndian.Uint16(p)))
		case "I8":
			out[i] = int64(int8(p[0]))
		case "U8":
			out[i] = int64(p[0])
		case "BOOL":
			if p[0] != 0 {
				out[i] = 1
			}
		}
	}
	return out
}

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	v := float32(frac) * (1.0 / (1 << 24)) // subnormal: frac × 2^-24
	if sign != 0 {
		v = -v
	}
	return v
}

// readAt fills b from r at off; a short read is io.ErrUnexpectedEOF.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
