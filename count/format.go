package count

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sgcnn/sgcnn/internal/units"
)

// String gives the totals as the paper quotes counts (units.Human), e.g.
// "25.55M params, 4.09G FLOPs".
func (t Totals) String() string {
	return units.Human(t.Params) + " params, " + units.Human(t.FLOPs) + " FLOPs"
}

// String formats the table, one row per layer and a total, aligned in
// columns: name, kind, weight shape, output shape, live filters, pruned
// fraction of connections, params, FLOPs. Layers counted with the masked
// rule have a "*" after their kind; a grouped conv reads "conv g=G", a
// depthwise one "conv dw", and a note under the table says that they stay
// dense.
func (t *Table) String() string {
	// Names are padded by hand so that they align left while the numbers
	// align right.
	nw := len("layer")
	for _, r := range t.Rows {
		nw = max(nw, len(r.Name))
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%-*s\tkind\tweight\toutput\tlive\tpruned\tparams\tFLOPs\t\n", nw, "layer")
	grouped := false
	for _, r := range t.Rows {
		kind := r.Kind
		switch {
		case r.Depthwise:
			kind += " dw"
		case r.Group > 1:
			kind += fmt.Sprintf(" g=%d", r.Group)
		}
		grouped = grouped || r.Group > 1
		if r.Masked {
			kind += "*"
		}
		fmt.Fprintf(w, "%-*s\t%s\t%s\t%s\t%d/%d\t%.3f\t%d\t%d\t\n", nw, r.Name, kind, dims(r.Weight), dims(r.Out),
			r.Live, r.Filters, r.Pruned, r.Params, r.FLOPs)
	}
	fmt.Fprintf(w, "%-*s\t\t\t\t\t\t%d\t%d\t\n", nw, "total", t.Params, t.FLOPs)
	w.Flush()
	if grouped {
		b.WriteString("g=G: grouped conv, dw: depthwise conv; self-grouping leaves them dense, and they are counted dense\n")
	}
	return b.String()
}

// dims writes a shape as 64x3x3x3.
func dims(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "x")
}
