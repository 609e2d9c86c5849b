package pytorch

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDeflateRatio bounds how much a compressed zip entry may expand
// (deflate's limit is about 1032:1); PyTorch itself stores entries
// uncompressed.
const maxDeflateRatio = 1032

// readZip reads a torch >= 1.6 zip-format file: <dir>/data.pkl and one
// <dir>/data/<key> entry per storage. It returns the unpickled object, with
// every storage it uses loaded.
func (ld *loader) readZip(r io.ReaderAt, size int64) (interface{}, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	var pkl *zip.File
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
		dir, rest, ok := strings.Cut(f.Name, "/")
		if !ok || dir == "" || rest != "data.pkl" {
			continue
		}
		if pkl != nil {
			return nil, fmt.Errorf("zip holds both %s and %s", pkl.Name, f.Name)
		}
		pkl = f
	}
	if pkl == nil {
		return nil, errors.New("zip has no <dir>/data.pkl: not a PyTorch checkpoint")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo := files[prefix+"byteorder"]; bo != nil {
		b, err := readEntry(bo, size, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bo.Name, err)
		}
		if s := string(bytes.TrimSpace(b)); s != "little" {
			return nil, fmt.Errorf("%s says %.16q; only little-endian files are supported", bo.Name, s)
		}
	}

	ld.checkStorage = func(st *rawStorage) error {
		name := prefix + "data/" + st.key
		f := files[name]
		if f == nil {
			return fmt.Errorf("storage %q: zip has no entry %s", st.key, name)
		}
		want := uint64(st.numel) * uint64(st.dt.size())
		if f.UncompressedSize64 != want {
			return fmt.Errorf("storage %q: entry %s holds %d bytes, want %d (%d elements)",
				st.key, name, f.UncompressedSize64, want, st.numel)
		}
		data, err := readEntry(f, size, int64(want))
		if err != nil {
			return fmt.Errorf("storage %q: %s: %w", st.key, name, err)
		}
		if uint64(len(data)) != want {
			return fmt.Errorf("storage %q: entry %s is %d bytes, its header says %d", st.key, name, len(data), want)
		}
		st.data = data
		return nil
	}

	data, err := readEntry(pkl, size, maxPickle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	body, err := scanPickle(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	return unpickle(body, ld.persistentLoad)
}

// readEntry reads a zip entry of at most limit bytes. Reading grows the
// buffer only as data arrives, so a lying header cannot force a huge
// allocation.
func readEntry(f *zip.File, fileSize, limit int64) ([]byte, error) {
	if f.CompressedSize64 > uint64(fileSize) {
		return nil, errors.New("compressed size exceeds the file size")
	}
	if f.Method != zip.Store && f.UncompressedSize64/maxDeflateRatio > f.CompressedSize64 {
		return nil, errors.New("implausible compression ratio")
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry of %d bytes is too large", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("entry is larger than its header says")
	}
	return b, nil
}
