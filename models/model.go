package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sgcnn/sgcnn/nn"
)

// Model is a network together with what sgcnn needs to know about it.
type Model struct {
	// Arch is the registry name, e.g. "resnet56".
	Arch string
	// Net is the network; its leaf names are PyTorch state_dict prefixes.
	Net nn.Layer
	// InputShape is one input's shape: channels, height, width.
	InputShape [3]int
	// Classes is the number of outputs of the classifier.
	Classes int
	// Prunable lists the names of the layers pruned by default, in forward
	// order. Each names an nn.Prunable inside Net.
	Prunable []string
}

// PrunableLayers returns the layers named in m.Prunable, in forward order.
func (m *Model) PrunableLayers() []nn.Prunable {
	want := make(map[string]bool, len(m.Prunable))
	for _, n := range m.Prunable {
		want[n] = true
	}
	var ps []nn.Prunable
	for _, p := range nn.Prunables(m.Net) {
		if want[p.Name()] {
			ps = append(ps, p)
		}
	}
	return ps
}

// Layer returns the layer of Net with the given name, or nil. Containers and
// leaves are both searched, leaves last, so a leaf wins over a container of
// the same name.
func (m *Model) Layer(name string) nn.Layer {
	var found nn.Layer
	nn.Walk(m.Net, func(l nn.Layer) {
		if l.Name() == name {
			found = l
		}
	})
	return found
}

// Option changes how New builds a model.
type Option func(*config)

type config struct {
	shortcutB bool
}

// ShortcutB makes the CIFAR ResNets use option B shortcuts (a strided 1x1
// conv and a BatchNorm, named layerX.0.shortcut.0 and .1) where the width
// or resolution changes, instead of the parameter-free option A.
func ShortcutB() Option { return func(c *config) { c.shortcutB = true } }

type builder struct {
	build          func(classes int, rng *rand.Rand, c config) *Model
	defaultClasses int
	takesShortcut  bool
}

var registry = map[string]builder{
	"lenet5":      {build: lenet5, defaultClasses: 10},
	"resnet20":    {build: cifarResNet(3), defaultClasses: 10, takesShortcut: true},
	"resnet32":    {build: cifarResNet(5), defaultClasses: 10, takesShortcut: true},
	"resnet44":    {build: cifarResNet(7), defaultClasses: 10, takesShortcut: true},
	"resnet56":    {build: cifarResNet(9), defaultClasses: 10, takesShortcut: true},
	"resnet110":   {build: cifarResNet(18), defaultClasses: 10, takesShortcut: true},
	"resnet50":    {build: resnet50, defaultClasses: 1000},
	"vgg16":       {build: vgg16, defaultClasses: 10},
	"densenet40":  {build: densenet40, defaultClasses: 10},
	"densenet121": {build: densenet121CIFAR, defaultClasses: 10},
	"densenet201": {build: densenet201, defaultClasses: 1000},
}

// Names lists the architectures New knows, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds architecture arch with the given number of classes (0 or less
// picks the architecture's default: 10 for the CIFAR and MNIST networks,
// 1000 for the ImageNet ones). Weights are initialised from seed, so equal
// seeds give equal networks.
func New(arch string, classes int, seed uint64, opts ...Option) (*Model, error) {
	b, ok := registry[arch]
	if !ok {
		return nil, fmt.Errorf("models: unknown architecture %q (known: %v)", arch, Names())
	}
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.shortcutB && !b.takesShortcut {
		return nil, fmt.Errorf("models: option ShortcutB applies to the CIFAR ResNets only, not %s", arch)
	}
	if classes <= 0 {
		classes = b.defaultClasses
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e))
	m := b.build(classes, rng, c)
	m.Arch = arch
	return m, nil
}

// prunableNames lists the names of the prunable layers of net in forward
// order, leaving out those for which skip reports true.
func prunableNames(net nn.Layer, skip func(name string) bool) []string {
	var names []string
	for _, p := range nn.Prunables(net) {
		if !skip(p.Name()) {
			names = append(names, p.Name())
		}
	}
	return names
}

// heNormal redraws w from N(0, 2/fan), He et al.'s initialisation as
// PyTorch's kaiming_normal_(nonlinearity="relu") computes it; fan is
// fan_in (C*k*k) or, with fanOut, fan_out (N*k*k).
func heNormal(w *nn.Param, fanOut bool, rng *rand.Rand) {
	s := w.Value.Shape
	rf := 1
	for _, d := range s[2:] {
		rf *= d
	}
	fan := s[1] * rf
	if fanOut {
		fan = s[0] * rf
	}
	std := math.Sqrt(2 / float64(fan))
	for i := range w.Value.Data {
		w.Value.Data[i] = float32(std * rng.NormFloat64())
	}
}
