// Package cpuinfo names the machine's CPU for benchmark reports, from
// Linux's /proc/cpuinfo. The model name alone can be too vague: some
// virtual machines report only "AMD EPYC" for both Zen 4 and Zen 5, so the
// family and model numbers come with it, and the vector extensions that
// decide which of sgcnn's kernels run.
package cpuinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
)

// Extensions are the CPU flags Info keeps, in the order String prints
// them: AVX-512 (the fp32 kernels), VNNI (int8), BF16 and AMX tiles.
var Extensions = []string{"avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"}

// Info is the first CPU's entry of /proc/cpuinfo.
type Info struct {
	Name   string   // "model name"
	Family string   // "cpu family"
	Model  string   // "model"
	Flags  []string // those of Extensions the CPU has, in their order
}

// Parse reads the first CPU's entry (up to the first blank line) of a
// /proc/cpuinfo listing.
func Parse(r io.Reader) (Info, error) {
	var in Info
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // the flags line is long
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if in.Name != "" || in.Family != "" {
				break
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "model name":
			in.Name = v
		case "cpu family":
			in.Family = v
		case "model":
			in.Model = v
		case "flags":
			have := strings.Fields(v)
			for _, e := range Extensions {
				if slices.Contains(have, e) {
					in.Flags = append(in.Flags, e)
				}
			}
		}
	}
	return in, sc.Err()
}

// Read returns this machine's Info; where /proc/cpuinfo cannot be read or
// names no model, Name is GOOS/GOARCH.
func Read() Info {
	var in Info
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		in, _ = Parse(f)
		f.Close()
	}
	if in.Name == "" {
		in.Name = runtime.GOOS + "/" + runtime.GOARCH
	}
	return in
}

// String names the CPU as benchmark reports print it, e.g. "AMD EPYC
// (family 25 model 17; avx512f, avx512_vnni, avx512_bf16)"; the
// parenthesis is left out where /proc/cpuinfo gave no family.
func (in Info) String() string {
	if in.Family == "" {
		return in.Name
	}
	s := fmt.Sprintf("%s (family %s model %s", in.Name, in.Family, in.Model)
	if len(in.Flags) > 0 {
		s += "; " + strings.Join(in.Flags, ", ")
	}
	return s + ")"
}

// Describe returns Read().String(): this machine's CPU, for a report.
func Describe() string { return Read().String() }
