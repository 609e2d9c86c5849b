package cli

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// distillFlags are the knowledge-distillation settings shared by train
// and prune; they are stored with a run so that --resume keeps them.
type distillFlags struct {
	Temp  float64 `json:"distill_temp,omitempty"`
	Alpha float64 `json:"distill_alpha,omitempty"`
}

// Default distillation settings (Hinton et al. 2015 use T in 2..20; 4
// and 0.9 are the common CIFAR choice).
const (
	defaultDistillTemp  = 4
	defaultDistillAlpha = 0.9
)

func (d distillFlags) validate() error {
	switch {
	case !(d.Temp > 0):
		return usagef("--distill-temp %g: want a temperature > 0", d.Temp)
	case !(d.Alpha >= 0 && d.Alpha <= 1):
		return usagef("--distill-alpha %g: want a weight in [0, 1]", d.Alpha)
	}
	return nil
}

// teacherOf returns distillation from the teacher model m for a student
// fed with norm: m runs compiled (BN folded, evaluation mode), or through
// package nn where the compiler does not take it. The teacher must read
// the student's input: the same shape and, where its file records one,
// the same normalisation.
func teacherOf(m *models.Model, recorded data.Norm, norm data.Norm, student *models.Model, d distillFlags) (*train.Distill, error) {
	if m.InputShape != student.InputShape || m.Classes != student.Classes {
		return nil, usagef("--teacher: a %s for %v inputs and %d classes cannot teach a %s for %v inputs and %d classes",
			m.Arch, m.InputShape, m.Classes, student.Arch, student.InputShape, student.Classes)
	}
	if recorded.Mean != nil && (!slices.Equal(recorded.Mean, norm.Mean) || !slices.Equal(recorded.Std, norm.Std)) {
		return nil, usagef("--teacher: its file records the input normalisation mean %v std %v, the student is fed mean %v std %v",
			recorded.Mean, recorded.Std, norm.Mean, norm.Std)
	}
	forward := func(x *tensor.Tensor) (*tensor.Tensor, error) { return m.Net.Forward(nn.NewCtx(false), x) }
	if net, err := compile.Compile(m, compile.Options{Route: compile.Dense}); err == nil {
		forward = net.Forward
	}
	return &train.Distill{Teacher: forward, Temp: d.Temp, Alpha: d.Alpha}, nil
}

// describe is the distillation's line in a run's log.
func (d distillFlags) describe(teacher string) string {
	return fmt.Sprintf("distilling from %s (T %g, alpha %g)", teacher, d.Temp, d.Alpha)
}
