package compile_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/models"
)

// TestSplitOneBitIdentical compiles pruned and dense networks with and
// without SplitOne (same routes) on 2 threads and checks that batch-1
// forwards agree bit for bit, over several images run back to back (so
// that the helper joins, leaves and rejoins) and after pauses long enough
// for it to park, with 2 Ps and with 1 (no helper): ResNet-20 and -56
// (positions split on the 32x32 and 16x16 stages, groups on the 8x8 one
// and the stride-2 convs; residual convs in the fused residual form) and
// VGG-16 (no residuals).
func TestSplitOneBitIdentical(t *testing.T) {
	cases := []struct {
		arch  string
		rate  float64
		dense bool
	}{{"resnet20", 70, false}, {"resnet20", 70, true}, {"resnet56", 70, false}, {"vgg16", 70, false}}
	if testing.Short() {
		cases = cases[:2]
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%g/dense=%v", tc.arch, tc.rate, tc.dense), func(t *testing.T) {
			m, err := models.New(tc.arch, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(11, 12))
			randomizeBN(m.Net, r)
			pruneModel(t, m, tc.rate, 5)
			opt := compile.Options{Threads: 2, IgnoreMasks: tc.dense, SplitOne: compile.SplitOff}
			ref, err := compile.Compile(m.Net, m.InputShape[:], opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.Plan, opt.SplitOne = ref.Plan(), compile.SplitAuto
			auto, err := compile.Compile(m.Net, m.InputShape[:], opt)
			if err != nil {
				t.Fatal(err)
			}
			checkAuto(t, auto, ref, r, m.InputShape)
			opt.SplitOne = compile.SplitOn
			for _, procs := range []int{2, 1} {
				prev := runtime.GOMAXPROCS(procs)
				split, err := compile.Compile(m.Net, m.InputShape[:], opt)
				if err != nil {
					runtime.GOMAXPROCS(prev)
					t.Fatal(err)
				}
				for i := range 12 {
					x := randInput(r, 1, m.InputShape)
					want, err := ref.Forward(x)
					if err != nil {
						t.Fatal(err)
					}
					want = want.Clone()
					if i%4 == 3 {
						time.Sleep(2 * time.Millisecond) // the helper parks
					}
					for k := range 3 {
						got, err := split.Forward(x)
						if err != nil {
							t.Fatal(err)
						}
						for q := range want.Data {
							if math.Float32bits(got.Data[q]) != math.Float32bits(want.Data[q]) {
								t.Fatalf("GOMAXPROCS %d, image %d, run %d: logit %d = %v split, %v on one thread", procs, i, k, q, got.Data[q], want.Data[q])
							}
						}
					}
				}
				runtime.GOMAXPROCS(prev)
			}
		})
	}
}

// TestSplitOneHelpersEnd checks that a SplitOne network's helper
// goroutines end once the network is garbage collected.
func TestSplitOneHelpersEnd(t *testing.T) {
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	func() {
		net, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: 2, SplitOne: compile.SplitOn, Route: compile.Grouped})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Forward(randInput(rand.New(rand.NewPCG(1, 1)), 1, m.InputShape)); err != nil {
			t.Fatal(err)
		}
	}()
	for range 100 {
		runtime.GC()
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after the network was collected, %d before it was compiled", runtime.NumGoroutine(), before)
}

// checkAuto runs a SplitAuto network on 8 single images, through its
// trials (split and unsplit in turn) and past its choice, and checks
// that every output equals ref's (unsplit) bit for bit and that it then
// reports a choice.
func checkAuto(t *testing.T, auto, ref *compile.Net, r *rand.Rand, in [3]int) {
	t.Helper()
	if c := auto.SplitChoice(); c != "measuring" {
		t.Fatalf("SplitChoice before any forward = %q, want measuring", c)
	}
	for i := range 8 {
		x := randInput(r, 1, in)
		want, err := ref.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		want = want.Clone()
		got, err := auto.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		for q := range want.Data {
			if math.Float32bits(got.Data[q]) != math.Float32bits(want.Data[q]) {
				t.Fatalf("SplitAuto, image %d: logit %d = %v, %v unsplit", i, q, got.Data[q], want.Data[q])
			}
		}
	}
	if c := auto.SplitChoice(); c != "split" && c != "unsplit" {
		t.Errorf("SplitChoice after 8 forwards = %q, want split or unsplit", c)
	}
}
