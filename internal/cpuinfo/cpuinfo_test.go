package cpuinfo

import (
	"fmt"
	"strings"
	"testing"
)

const zen4 = `processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 17
model name	: AMD EPYC
flags		: fpu sse avx2 avx512f avx512bw avx512_bf16 avx512_vnni

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 26
model		: 2
model name	: another CPU
flags		: fpu amx_tile
`

func TestParse(t *testing.T) {
	in, err := Parse(strings.NewReader(zen4))
	if err != nil {
		t.Fatal(err)
	}
	want := "AMD EPYC (family 25 model 17; avx512f, avx512_vnni, avx512_bf16)"
	if got := in.String(); got != want {
		t.Errorf("String() = %q, want %q (the first CPU only, extensions in Extensions' order)", got, want)
	}
	in, err = Parse(strings.NewReader("model name : Some ARM\n"))
	if err != nil || in.String() != "Some ARM" {
		t.Errorf("no family: %q, %v; want the name alone", in.String(), err)
	}
}

func TestRead(t *testing.T) {
	if Read().Name == "" {
		t.Error("Read: empty name")
	}
}

func ExampleInfo_String() {
	in, _ := Parse(strings.NewReader("cpu family : 6\nmodel : 167\nmodel name : Intel(R) Xeon(R) Processor\nflags : avx512f amx_tile\n"))
	fmt.Println(in)
	// Output: Intel(R) Xeon(R) Processor (family 6 model 167; avx512f, amx_tile)
}
