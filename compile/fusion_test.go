package compile

import (
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/models"
)

// TestResNetFusions checks the program compiled from ResNet-20's lowered
// graph: one step per conv (BN and ReLU fused; each block's second conv
// also takes the residual add and ReLU, reading its first conv's output in
// the padded layout that conv wrote), the two option-A shortcuts, the
// global pool and the linear layer, which starts the per-share part; and
// that buffers are reused (a handful of slots for 23 steps).
func TestResNetFusions(t *testing.T) {
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Compile(m.Net, m.InputShape[:], Options{Route: Grouped})
	if err != nil {
		t.Fatal(err)
	}
	var convs, shortcuts int
	for i, s := range n.steps {
		switch o := s.op.(type) {
		case *convOp:
			convs++
			if !o.relu {
				t.Errorf("step %d (%s): ReLU not fused", i, o.name)
			}
			if strings.HasSuffix(o.name, ".conv1") && (o.next == nil || o.residual) {
				t.Errorf("step %d (%s): next %v, residual %v, want a handoff to conv2", i, o.name, o.next != nil, o.residual)
			}
			if strings.HasSuffix(o.name, ".conv2") && (!o.padIn || !o.residual) {
				t.Errorf("step %d (%s): padded input %v, residual %v, want both", i, o.name, o.padIn, o.residual)
			}
		case *shortcutAOp:
			shortcuts++
		}
	}
	if len(n.steps) != 23 || convs != 19 || shortcuts != 2 {
		t.Errorf("%d steps (%d convs, %d shortcuts), want 23 (19, 2)", len(n.steps), convs, shortcuts)
	}
	if _, ok := n.steps[n.split].op.(*linearOp); !ok || n.split != len(n.steps)-1 {
		t.Errorf("split at step %d of %d, want the linear layer", n.split, len(n.steps))
	}
	if n.nbuf > 8 {
		t.Errorf("%d buffer slots for %d steps: not reused", n.nbuf, len(n.steps))
	}
}
