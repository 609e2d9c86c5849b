package pytorch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// legacyMagic is the first pickle of a legacy file.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyProtocol is the only legacy protocol version (the second pickle).
const legacyProtocol = 1001

// readLegacy reads a pre-1.6 torch.save file: five pickles, then the raw
// storages. It returns the unpickled object, with every storage loaded.
func (ld *loader) readLegacy(r io.ReaderAt, size int64) (interface{}, error) {
	br := bufio.NewReader(io.NewSectionReader(r, 0, size))
	pos := int64(0)
	next := func(what string, persist func(interface{}) (interface{}, error)) (interface{}, error) {
		data, err := scanPickle(br, size-pos)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("legacy %s pickle at byte %d: %w", what, pos, err)
		}
		pos += int64(len(data))
		obj, err := unpickle(data, persist)
		if err != nil {
			return nil, fmt.Errorf("legacy %s pickle: %w", what, err)
		}
		return obj, nil
	}

	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, errors.New("not a PyTorch checkpoint: bad legacy magic number")
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if p, ok := asInt(proto); !ok || p != legacyProtocol {
		return nil, fmt.Errorf("legacy protocol version is not %d", legacyProtocol)
	}
	info, err := next("sys_info", nil)
	if err != nil {
		return nil, err
	}
	ents, _, err := dictEntries(info)
	if err != nil {
		return nil, fmt.Errorf("legacy sys_info: %w", err)
	}
	for _, e := range ents {
		if e.key == "little_endian" && e.val != true {
			return nil, errors.New("big-endian legacy files are not supported")
		}
	}

	ld.checkStorage = func(st *rawStorage) error {
		if int64(st.numel) > size/int64(st.dt.size()) {
			return fmt.Errorf("storage %q: %d elements cannot fit in a %d-byte file", st.key, st.numel, size)
		}
		return nil
	}
	obj, err := next("object", ld.persistentLoad)
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("legacy storage keys pickle is a %s, want a list", typeName(keysObj))
	}

	// The storages follow, in key order: int64 element count, then data.
	for _, k := range *keys {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy storage key is a %s, want a str", typeName(k))
		}
		ref := ld.storages[key]
		if ref == nil || ref.root.key != key {
			return nil, fmt.Errorf("legacy storage %q is listed but never used", key)
		}
		st := ref.root
		if st.data != nil {
			return nil, fmt.Errorf("legacy storage %q is listed twice", key)
		}
		var hdr [8]byte
		if err := readAt(r, hdr[:], pos); err != nil {
			return nil, fmt.Errorf("legacy storage %q at byte %d: size: %w", key, pos, err)
		}
		pos += 8
		if n := binary.LittleEndian.Uint64(hdr[:]); n != uint64(st.numel) {
			return nil, fmt.Errorf("legacy storage %q holds %d elements, its persistent id says %d", key, n, st.numel)
		}
		nb := int64(st.numel) * int64(st.dt.size())
		if nb > size-pos {
			return nil, fmt.Errorf("legacy storage %q: %d bytes run past the end of the file", key, nb)
		}
		st.data = make([]byte, nb)
		if err := readAt(r, st.data, pos); err != nil {
			return nil, fmt.Errorf("legacy storage %q at byte %d: %w", key, pos, err)
		}
		pos += nb
	}
	return obj, nil
}

// readAt fills b from r at off, reporting a short read as
// io.ErrUnexpectedEOF (ReadAt may return io.EOF with a full buffer).
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
