package pytorch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Pickle opcodes whose arguments the scanner must size. Opcodes without an
// argument are listed in noArg. Names follow Python's pickletools.
const (
	opMark           = '('
	opStop           = '.'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opGlobal         = 'c'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opEmptyTuple     = ')'
	opTuple          = 't'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opProto          = 0x80
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadOnlyBuffer = 0x98
)

// noArg lists the argument-free opcodes of protocols 0 to 5.
const noArg = "(.012NQRabde}lo]s)tu" + "\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94"

// noArgOps is noArg as a lookup table.
var noArgOps = func() (t [256]bool) {
	for i := 0; i < len(noArg); i++ {
		t[noArg[i]] = true
	}
	return t
}()

// maxPickle bounds the size of one pickle (not of the storages after it).
const maxPickle = 1 << 30

// scanPickle reads one pickle from r, up to and including its STOP opcode,
// and returns its bytes. It checks that every argument fits in the at most
// limit bytes available, refuses opcodes a state dict never uses (extension
// registry, out-of-band buffers) and checks the names in GLOBAL and INST
// against the allow-list, so that gopickle only ever sees well-framed input.
func scanPickle(r *bufio.Reader, limit int64) ([]byte, error) {
	if limit > maxPickle {
		limit = maxPickle
	}
	var buf bytes.Buffer
	take := func(n int64) ([]byte, error) {
		if n < 0 || n > limit-int64(buf.Len()) {
			return nil, fmt.Errorf("pickle argument of %d bytes runs past the end of the input", n)
		}
		start := buf.Len()
		if _, err := io.CopyN(&buf, r, n); err != nil {
			return nil, fmt.Errorf("pickle truncated: %w", err)
		}
		return buf.Bytes()[start:], nil
	}
	line := func() ([]byte, error) {
		start := buf.Len()
		for {
			b, err := take(1)
			if err != nil {
				return nil, err
			}
			if b[0] == '\n' {
				return buf.Bytes()[start : buf.Len()-1], nil
			}
		}
	}
	for {
		pos := buf.Len()
		b, err := take(1)
		if err != nil {
			if errors.Is(err, io.EOF) && pos == 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		op := b[0]
		var n int64 // length of a length-prefixed argument
		switch {
		case op == opStop:
			return buf.Bytes(), nil
		case noArgOps[op]:
			continue
		case op == opBinInt1 || op == opBinGet || op == opBinPut || op == opProto:
			_, err = take(1)
		case op == opBinInt2:
			_, err = take(2)
		case op == opBinInt || op == opLongBinGet || op == opLongBinPut:
			_, err = take(4)
		case op == opBinFloat:
			_, err = take(8)
		case op == opFrame:
			// The frame's contents are ordinary opcodes: scan on through
			// them, only checking that the frame fits.
			var a []byte
			if a, err = take(8); err == nil {
				if f := binary.LittleEndian.Uint64(a); f > uint64(limit-int64(buf.Len())) {
					err = fmt.Errorf("pickle frame of %d bytes runs past the end of the input", f)
				}
			}
		case op == opLong1 || op == opShortBinString || op == opShortBinBytes || op == opShortBinUni:
			var a []byte
			if a, err = take(1); err == nil {
				if op == opLong1 && a[0] == 0 {
					// gopickle indexes the last byte of a LONG1 payload.
					err = errors.New("pickle LONG1 with no bytes")
					break
				}
				_, err = take(int64(a[0]))
			}
		case op == opLong4 || op == opBinString || op == opBinBytes || op == opBinUnicode:
			var a []byte
			if a, err = take(4); err == nil {
				n = int64(binary.LittleEndian.Uint32(a))
				if op == opLong4 || op == opBinString {
					n = int64(int32(binary.LittleEndian.Uint32(a)))
				}
				if op == opLong4 && n == 0 {
					err = errors.New("pickle LONG4 with no bytes")
					break
				}
				_, err = take(n)
			}
		case op == opBinUnicode8 || op == opBinBytes8 || op == opByteArray8:
			var a []byte
			if a, err = take(8); err == nil {
				u := binary.LittleEndian.Uint64(a)
				if u > uint64(limit) {
					err = fmt.Errorf("pickle argument of %d bytes runs past the end of the input", u)
					break
				}
				_, err = take(int64(u))
			}
		case op == opInt || op == opLong || op == opFloat || op == opString || op == opUnicode ||
			op == opPersID || op == opGet || op == opPut:
			_, err = line()
		case op == opGlobal || op == opInst:
			var mod, name []byte
			if mod, err = line(); err == nil {
				if name, err = line(); err == nil {
					err = checkGlobal(string(mod), string(name))
				}
			}
		case op == opExt1 || op == opExt2 || op == opExt4:
			err = errors.New("pickle uses the extension registry (EXT opcodes); refusing")
		case op == opNextBuffer || op == opReadOnlyBuffer:
			err = errors.New("pickle uses out-of-band buffers; refusing")
		default:
			err = fmt.Errorf("unknown pickle opcode 0x%02x at byte %d", op, pos)
		}
		if err != nil {
			return nil, err
		}
	}
}
