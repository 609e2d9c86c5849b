package checkpoint

import (
	"bytes"
	"testing"
)

// FuzzRead checks that Read never panics, that what it accepts survives a
// Write/Read round trip, and that Write is deterministic.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleFile()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(build(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BOOL","shape":[],"data_offsets":[2,3]}}`, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Read(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			return
		}
		var w1, w2 bytes.Buffer
		if err := Write(&w1, got); err != nil {
			// Names Write refuses (invalid UTF-8 from \u escapes cannot
			// occur; the reserved key cannot reach Names) would be a bug.
			t.Fatalf("Write of a read file: %v", err)
		}
		back, err := Read(bytes.NewReader(w1.Bytes()), int64(w1.Len()), "roundtrip")
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if err := Write(&w2, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatal("Write(Read(Write(f))) differs from Write(f)")
		}
	})
}
