package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FormatError reports a truncated or corrupt data file.
type FormatError struct {
	File   string // path or name of the file
	Record int    // record (image) index, or -1 for the file header
	Field  string // which part of the record: "label", "pixels", "magic", ...
	Msg    string // what is wrong
}

// Error implements error; the message names the file, record and field.
func (e *FormatError) Error() string {
	if e.Record < 0 {
		return fmt.Sprintf("data: %s: header %s: %s", e.File, e.Field, e.Msg)
	}
	return fmt.Sprintf("data: %s: record %d: %s: %s", e.File, e.Record, e.Field, e.Msg)
}

func formatErr(file string, record int, field, format string, args ...any) error {
	return &FormatError{File: file, Record: record, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// gzipMagic starts every gzip stream (RFC 1952, ID1 ID2).
var gzipMagic = [2]byte{0x1f, 0x8b}

// maybeGunzip returns a reader of r's content, decompressed when r starts
// with the gzip magic bytes. The file name only labels errors.
func maybeGunzip(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	if len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, formatErr(name, -1, "gzip", "%v", err)
		}
		return bufio.NewReaderSize(&gzipErrReader{zr: zr, name: name}, 1<<16), nil
	}
	return br, nil
}

// gzipErrReader labels decompression errors (corrupt deflate data, bad
// checksum) with the file name. io.ErrUnexpectedEOF passes through so that
// readers report truncation at the record where it happened.
type gzipErrReader struct {
	zr   *gzip.Reader
	name string
}

func (g *gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		err = formatErr(g.name, -1, "gzip", "%v", err)
	}
	return n, err
}

// readErr turns an error met while reading field of record rec into a
// *FormatError: end of input becomes "truncated", and a decompression
// error is moved to the record where it happened.
func readErr(name string, rec int, field string, err error, got, want int) error {
	var fe *FormatError
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return formatErr(name, rec, field, "truncated: got %d of %d bytes", got, want)
	case errors.As(err, &fe):
		return formatErr(name, rec, field, "%s", fe.Msg)
	}
	return formatErr(name, rec, field, "%v", err)
}

// openData opens path, which may be gzip-compressed, and calls read on its
// content. Errors from read are returned as they are.
func openData(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	r, err := maybeGunzip(f, path)
	if err != nil {
		return err
	}
	return read(r)
}

// findFile returns the first of dir/name, dir/name.gz that exists.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".gz")} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: neither %s nor %s.gz exists", dir, name, name)
}
