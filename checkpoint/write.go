package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sgcnn/sgcnn/tensor"
)

// Write writes f to w in safetensors format: float tensors as F32 in Names
// order, then integer tensors as I64 in IntNames order, with Meta (keys
// sorted) as "__metadata__". The header is padded with spaces to a multiple
// of 8 bytes so that the data is aligned. f is checked before anything is
// written.
func Write(w io.Writer, f *File) error {
	fail := func(name string, err error) error { return &Error{File: "<writer>", Name: name, Err: err} }
	if len(f.Tensors) != len(f.Names) || len(f.Ints) != len(f.IntNames) {
		return fail("", errors.New("Tensors/Ints hold names missing from Names/IntNames"))
	}
	type rec struct {
		name  string
		dtype string
		shape []int
		n     int64 // bytes
	}
	var recs []rec
	seen := map[string]bool{metaKey: true}
	add := func(name, dt string, shape []int, values, size int) error {
		switch {
		case !utf8.ValidString(name):
			return fail(name, errors.New("name is not valid UTF-8"))
		case seen[name] && name == metaKey:
			return fail(name, errors.New("name is reserved for metadata"))
		case seen[name]:
			return fail(name, errors.New("name listed twice"))
		case slices.ContainsFunc(shape, func(d int) bool { return d < 0 }) || tensor.Numel(shape...) != values:
			return fail(name, fmt.Errorf("%d values do not fill shape %v", values, shape))
		}
		seen[name] = true
		recs = append(recs, rec{name, dt, shape, int64(values) * int64(size)})
		return nil
	}
	for _, n := range f.Names {
		t := f.Tensors[n]
		if t == nil {
			return fail(n, errors.New("listed in Names but not in Tensors"))
		}
		if err := add(n, "F32", t.Shape, len(t.Data), 4); err != nil {
			return err
		}
	}
	for _, n := range f.IntNames {
		t := f.Ints[n]
		if t == nil {
			return fail(n, errors.New("listed in IntNames but not in Ints"))
		}
		if err := add(n, "I64", t.Shape, len(t.Data), 8); err != nil {
			return err
		}
	}

	// The header is built by hand to keep the tensors in order (a Go map
	// would sort them); json.Marshal quotes the strings.
	hdr := []byte{'{'}
	for k, v := range f.Meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fail(metaKey, fmt.Errorf("metadata %q is not valid UTF-8", k))
		}
	}
	if len(f.Meta) > 0 {
		mb, err := json.Marshal(f.Meta) // sorted keys
		if err != nil {
			return fail(metaKey, err)
		}
		hdr = append(hdr, `"`+metaKey+`":`...)
		hdr = append(hdr, mb...)
	}
	off := int64(0)
	for _, r := range recs {
		if len(hdr) > 1 {
			hdr = append(hdr, ',')
		}
		nb, _ := json.Marshal(r.name)
		hdr = append(hdr, nb...)
		hdr = append(hdr, `:{"dtype":"`+r.dtype+`","shape":[`...)
		for i, d := range r.shape {
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = strconv.AppendInt(hdr, int64(d), 10)
		}
		hdr = append(hdr, `],"data_offsets":[`...)
		hdr = strconv.AppendInt(hdr, off, 10)
		hdr = append(hdr, ',')
		off += r.n
		hdr = strconv.AppendInt(hdr, off, 10)
		hdr = append(hdr, "]}"...)
	}
	hdr = append(hdr, '}')
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	if len(hdr) > maxHeader {
		return fail("", fmt.Errorf("header of %d bytes exceeds the %d-byte limit", len(hdr), maxHeader))
	}

	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	// Data goes out in chunks so that large tensors need no second copy.
	buf := make([]byte, 0, 1<<16)
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, n := range f.Names {
		for _, v := range f.Tensors[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range f.IntNames {
		for _, v := range f.Ints[n].Data {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
