package prune

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sgcnn/sgcnn/selfgroup"
)

// Names of the built-in methods, as pipeline.Config.Method and
// report.Run.Method hold them.
const (
	MethodSelfGrouping = "self-grouping"
	MethodTaylor       = "taylor"
	MethodRegular      = "regular"
	MethodRandom       = "random"
	MethodL1Filter     = "l1filter"
)

// Importance names for Options.Importance.
const (
	ImportanceL1     = "l1"     // L1 norms of the masked weights (the paper)
	ImportanceTaylor = "taylor" // Options.Scores, e.g. TaylorImportance
)

// Options are the settings a method is built from; each method uses those
// that apply to it. Zero values take the paper's: 16 groups, the
// first-member rule, L1 importance.
type Options struct {
	Groups int    // g; 0: selfgroup.DefaultGroups
	Rule   string // keep rule: "first-member" (or "") or "own-mask"
	// Importance is ImportanceL1 (or "") or ImportanceTaylor; a method
	// with Method.Taylor set always takes it as taylor.
	Importance string
	Seed       uint64
	// Scores computes the taylor importance. Check ignores it; New needs
	// it where the importance is taylor, and passes it on only then.
	Scores ImportanceFunc
}

// Method is a registered pruning method.
type Method struct {
	Name    string
	Summary string // one line, for help text
	// Taylor says the method always ranks by the taylor importance.
	Taylor bool
	// Check, when set, refuses options the method cannot take, beyond
	// the checks every method shares (groups, rule, importance).
	Check func(Options) error
	// New builds the method's pruner from checked options.
	New func(Options) (Pruner, error)
}

var registry struct {
	sync.RWMutex
	methods []Method // in registration order: the built-ins first
}

// Register adds m to the methods New and Lookup know. A method without a
// name or New, or whose name is taken, is a programming error: Register
// panics.
func Register(m Method) {
	if m.Name == "" || m.New == nil {
		panic("prune: Register: a method needs a Name and New")
	}
	registry.Lock()
	defer registry.Unlock()
	if slices.ContainsFunc(registry.methods, func(x Method) bool { return x.Name == m.Name }) {
		panic(fmt.Sprintf("prune: Register: method %q registered twice", m.Name))
	}
	registry.methods = append(registry.methods, m)
}

// Names lists the registered methods, self-grouping first, then the other
// built-ins, then the rest in registration order.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, len(registry.methods))
	for i, m := range registry.methods {
		names[i] = m.Name
	}
	return names
}

// Lookup returns the method named name, or an error naming the valid ones.
func Lookup(name string) (Method, error) {
	registry.RLock()
	i := slices.IndexFunc(registry.methods, func(x Method) bool { return x.Name == name })
	var m Method
	if i >= 0 {
		m = registry.methods[i]
	}
	registry.RUnlock()
	if i < 0 {
		return Method{}, fmt.Errorf("method %q: want one of %s", name, strings.Join(Names(), ", "))
	}
	return m, nil
}

// Check returns an error when method name does not exist or cannot take
// opts. It needs no model, so a command can call it before any work. It
// is the one place a method and its options are validated.
func Check(name string, opts Options) error {
	m, err := Lookup(name)
	if err != nil {
		return err
	}
	switch {
	case opts.Groups < 0:
		return fmt.Errorf("groups %d: want 0 (the default, %d) or more", opts.Groups, selfgroup.DefaultGroups)
	case opts.Importance != "" && opts.Importance != ImportanceL1 && opts.Importance != ImportanceTaylor:
		return fmt.Errorf("importance %q: want %s or %s", opts.Importance, ImportanceL1, ImportanceTaylor)
	}
	if _, err := ParseRule(opts.Rule); err != nil {
		return err
	}
	if m.Check != nil {
		return m.Check(opts)
	}
	return nil
}

// New returns the pruner of method name built from opts, after Check.
// Where the importance is taylor (opts.Importance, or a Method.Taylor
// method) opts.Scores must be set; otherwise it is not passed on.
func New(name string, opts Options) (Pruner, error) {
	if err := Check(name, opts); err != nil {
		return nil, err
	}
	m, _ := Lookup(name)
	if m.Taylor {
		opts.Importance = ImportanceTaylor
	}
	if opts.Importance != ImportanceTaylor {
		opts.Scores = nil
	} else if opts.Scores == nil {
		return nil, fmt.Errorf("method %s with taylor importance: no importance function (Options.Scores) given", name)
	}
	return m.New(opts)
}

// ParseRule returns the keep rule named s: "first-member" (or "", the
// default) or "own-mask".
func ParseRule(s string) (selfgroup.KeepRule, error) {
	switch s {
	case "first-member", "":
		return selfgroup.FirstMember, nil
	case "own-mask":
		return selfgroup.OwnMask, nil
	}
	return 0, fmt.Errorf("keep rule %q: want first-member or own-mask", s)
}

func init() {
	selfGrouping := func(o Options) (Pruner, error) {
		rule, _ := ParseRule(o.Rule)
		return &SelfGrouping{Groups: o.Groups, Rule: rule, Seed: o.Seed, Importance: o.Scores}, nil
	}
	Register(Method{Name: MethodSelfGrouping, Summary: "the paper's: k-means groups of importance vectors, centroid threshold",
		New: selfGrouping})
	Register(Method{Name: MethodTaylor, Summary: "self-grouping ranked by the first-order Taylor importance |w*dL/dw|",
		Taylor: true, New: selfGrouping})
	Register(Method{Name: MethodRegular, Summary: "regular group convolution (ResNeXt) at the same connection budget",
		New: func(o Options) (Pruner, error) { return &Regular{Groups: o.Groups, Importance: o.Scores}, nil }})
	Register(Method{Name: MethodRandom, Summary: "random filter clusters, then self-grouping's threshold and keep rule",
		New: func(o Options) (Pruner, error) {
			rule, _ := ParseRule(o.Rule)
			return &Random{Groups: o.Groups, Rule: rule, Seed: o.Seed, Importance: o.Scores}, nil
		}})
	Register(Method{Name: MethodL1Filter, Summary: "L1-norm filter pruning (Li et al. 2017): whole filters",
		Check: func(o Options) error {
			if o.Importance == ImportanceTaylor {
				return fmt.Errorf("method l1filter ranks filters by L1 norm: importance %q does not apply", o.Importance)
			}
			return nil
		},
		New: func(Options) (Pruner, error) { return &L1Filter{}, nil }})
}
