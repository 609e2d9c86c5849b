// Command i8prof prints, for a model and its int8 form (sgcnn.Quantize),
// every conv step's time per image, fp32 and int8 side by side
// (compile.Net.StepTimes, one goroutine, medians of -rounds); with
// -only int8|fp32 it runs that network's forward -rounds times (for perf
// record), with -only layers it prints the int8 network's route per
// layer (compile.LayerInfo), and with -only ab it times fp32, int8 with
// the AMX route off and int8 with it measured (kernel.SetInt8AMX) in
// interleaved rounds, then checks both int8 networks' top-1 on the test
// split. -amx sets the AMX route of the other modes.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

func main() {
	arch := flag.String("model", "resnet20", "architecture")
	weights := flag.String("weights", "runs/int8/resnet20-conv70/checkpoint.safetensors", "checkpoint")
	batch := flag.Int("batch", 64, "images per forward")
	rounds := flag.Int("rounds", 7, "rounds (medians)")
	threads := flag.Int("threads", 2, "threads for -only")
	only := flag.String("only", "", "int8 or fp32: run only that forward -rounds times; layers: print the int8 routes; ab: fp32, int8 without AMX and int8 with AMX (where measured faster) interleaved")
	amx := flag.Int("amx", 0, "the int8 network's AMX route (kernel.SetInt8AMX): -1 off, 0 where measured faster, 1 forced; -only ab compares -1 and 0")
	flag.Parse()
	kernel.SetInt8AMX(*amx)
	if err := run(*arch, *weights, *batch, *rounds, *threads, *only); err != nil {
		fmt.Fprintln(os.Stderr, "i8prof:", err)
		os.Exit(1)
	}
}

func run(arch, weights string, batch, rounds, threads int, only string) error {
	m, err := sgcnn.Open(weights, sgcnn.WithArch(arch))
	if err != nil {
		return err
	}
	train, err := sgcnn.OpenSplit(sgcnn.DatasetOf("", m), "", true, 0)
	if err != nil {
		return err
	}
	parallel.SetThreads(threads)
	if only == "ab" {
		return ab(m, train, batch, rounds)
	}
	q, err := sgcnn.Quantize(m, sgcnn.QuantizeConfig{Train: train, ValSplit: 5000})
	if err != nil {
		return err
	}
	f, err := sgcnn.Compile(m)
	if err != nil {
		return err
	}
	x := input(m, batch)
	if only == "layers" {
		for _, l := range q.Net.Layers() {
			fmt.Printf("%-20s %-10v groups %2d MACs %8d dense %8d  ns grouped %.0f merged %.0f dense %.0f\n", l.Name, l.Route, l.Groups, l.MACs, l.DenseMACs, l.GroupedNs, l.MergedNs, l.DenseNs)
		}
		return nil
	}
	nets := map[string]*compile.Net{"fp32": f.Net, "int8": q.Net}
	if only != "" {
		n := nets[only]
		if n == nil {
			return fmt.Errorf("-only %q", only)
		}
		if _, err := n.Forward(x); err != nil { // warm
			return err
		}
		t0 := time.Now()
		for range rounds {
			if _, err := n.Forward(x); err != nil {
				return err
			}
		}
		fmt.Printf("%s %s: %.3f ms per forward\n", weights, only, float64(time.Since(t0))/1e6/float64(rounds))
		return nil
	}
	var fs, is [][]compile.StepTime
	for range rounds {
		a, err := f.Net.StepTimes(x, 1)
		if err != nil {
			return err
		}
		b, err := q.Net.StepTimes(x, 1)
		if err != nil {
			return err
		}
		fs, is = append(fs, a), append(is, b)
	}
	med := func(ss [][]compile.StepTime, i int) time.Duration {
		var d []time.Duration
		for _, s := range ss {
			d = append(d, s[i].Time)
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	var tf, ti time.Duration
	fmt.Printf("CPU %s\n", cpuinfo.Describe())
	fmt.Printf("%-22s %4s %4s %3s %9s %9s %9s %6s\n", "step", "C", "N", "H", "MACs", "fp32 us", "int8 us", "ratio")
	for i := range is[0] {
		s := is[0][i]
		b := med(is, i)
		ti += b
		var a time.Duration
		if i < len(fs[0]) && fs[0][i].Name == s.Name {
			a = med(fs, i)
		}
		tf += a
		fmt.Printf("%-22s %4d %4d %3d %9d %9.2f %9.2f %6.2f\n", s.Name, s.C, s.N, s.H, s.MACs, us(a), us(b), float64(a)/float64(max(b, 1)))
	}
	fmt.Printf("total per image: fp32 %.2f us, int8 %.2f us (%.2fx)\n", us(tf), us(ti), float64(tf)/float64(ti))
	return nil
}

// input returns a batch of deterministic inputs for m.
func input(m *sgcnn.Model, batch int) *tensor.Tensor {
	x := tensor.New(append([]int{batch}, m.Model.InputShape[:]...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%17)/8 - 1
	}
	return x
}

// ab times the fp32 compiled network and the int8 one compiled with the
// AMX route off and left to its measurement, in interleaved rounds, and
// prints the medians and whether the two int8 networks' logits agree bit
// for bit.
func ab(m *sgcnn.Model, train *data.Dataset, batch, rounds int) error {
	var nets [3]*compile.Net
	f, err := sgcnn.Compile(m)
	if err != nil {
		return err
	}
	nets[0] = f.Net
	for i, mode := range []int{-1, 0} {
		was := kernel.SetInt8AMX(mode)
		q, err := sgcnn.Quantize(m, sgcnn.QuantizeConfig{Train: train, ValSplit: 5000})
		kernel.SetInt8AMX(was)
		if err != nil {
			return err
		}
		nets[1+i] = q.Net
	}
	x := input(m, batch)
	var outs [3]*tensor.Tensor
	var ts [3][]time.Duration
	for r := range rounds + 1 {
		for i, n := range nets {
			t0 := time.Now()
			y, err := n.Forward(x)
			if err != nil {
				return err
			}
			if r > 0 {
				ts[i] = append(ts[i], time.Since(t0))
			}
			outs[i] = y
		}
	}
	same := slices.Equal(outs[1].Data, outs[2].Data)
	routes := 0 // layers whose route (grouped, merged, dense) the two int8 compilations chose differently
	l1, l2 := nets[1].Layers(), nets[2].Layers()
	for i := range min(len(l1), len(l2)) {
		if l1[i].Route != l2[i].Route || l1[i].Groups != l2[i].Groups {
			routes++
		}
	}
	med := func(d []time.Duration) float64 { slices.Sort(d); return float64(d[len(d)/2]) / 1e6 }
	a, b, c := med(ts[0]), med(ts[1]), med(ts[2])
	ok, why := kernel.Int8AMX()
	fmt.Printf("batch %d, medians of %d interleaved rounds: fp32 %.2f ms, int8 without AMX %.2f ms (%.2fx), int8 with AMX %.2f ms (%.2fx); logits identical: %v (layers routed differently by the two compilations: %d); AMX: %v %s\n",
		batch, rounds, a, b, a/b, c, a/c, same, routes, ok, why)
	fmt.Println(kernel.Int8Tuning())
	return top1(m, nets[1], nets[2])
}

// top1 prints the top-1 accuracy of the int8 networks without and with
// AMX on the test split, and on how many images their logits differ.
func top1(m *sgcnn.Model, off, on *compile.Net) error {
	ds, err := sgcnn.OpenSplit(sgcnn.DatasetOf("", m), "", false, 0)
	if err != nil {
		return err
	}
	src, err := sgcnn.EvalSource(ds, sgcnn.RecordedNorm(m.Info, ds), 64)
	if err != nil {
		return err
	}
	var right [2]int
	n, differ := 0, 0
	var ferr error
	err = src(0, func(b train.Batch) bool {
		var ys [2]*tensor.Tensor
		for i, net := range []*compile.Net{off, on} {
			if ys[i], ferr = net.Forward(b.X); ferr != nil {
				return false
			}
			k := ys[i].Shape[1]
			for j, label := range b.Y {
				row := ys[i].Data[j*k : (j+1)*k]
				if slices.Index(row, slices.Max(row)) == label {
					right[i]++
				}
			}
		}
		k := ys[0].Shape[1]
		for j := range b.Y {
			if !slices.Equal(ys[0].Data[j*k:(j+1)*k], ys[1].Data[j*k:(j+1)*k]) {
				differ++
			}
		}
		n += len(b.Y)
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	fmt.Printf("top-1 on %d test images: int8 without AMX %.2f%%, with AMX %.2f%%; images whose logits differ: %d\n",
		n, 100*float64(right[0])/float64(n), 100*float64(right[1])/float64(n), differ)
	return nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
