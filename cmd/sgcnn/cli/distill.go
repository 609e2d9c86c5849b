package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
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

// teacherForward returns the logits of the teacher model m for a student
// fed with norm: m runs compiled (BN folded, evaluation mode), or through
// package nn where the compiler does not take it. The teacher must read
// the student's input: the same shape and, where its file records one,
// the same normalisation.
func teacherForward(m *models.Model, recorded data.Norm, norm data.Norm, student *models.Model) (func(*tensor.Tensor) (*tensor.Tensor, error), error) {
	forward, err := sgcnn.TeacherForward(m, recorded, norm, student)
	if err != nil {
		return nil, usagef("--teacher: %v", errors.Unwrap(err))
	}
	return forward, nil
}

// openTeachers opens the --teacher files for the student fed with norm,
// as one teacher: with several, the mean of their logits (an ensemble).
// Each spec is FILE or ARCH=FILE: an sgcnn file names its architecture, a
// PyTorch file is read as ARCH, else as the student's architecture.
func openTeachers(specs []string, student *models.Model, norm data.Norm, d distillFlags) (*train.Distill, error) {
	var forwards []func(*tensor.Tensor) (*tensor.Tensor, error)
	for _, spec := range specs {
		arch, path := teacherSpec(spec)
		if arch == "" && !isNative(path) {
			arch = student.Arch
		}
		t, info, err := openModel(arch, path)
		if err != nil {
			return nil, fmt.Errorf("--teacher %s: %w", spec, err)
		}
		f, err := teacherForward(t, data.Norm{Mean: info.Mean, Std: info.Std}, norm, student)
		if err != nil {
			return nil, fmt.Errorf("%w (--teacher %s)", err, spec)
		}
		forwards = append(forwards, f)
	}
	return &train.Distill{Teacher: train.Ensemble(forwards...), Temp: d.Temp, Alpha: d.Alpha}, nil
}

// teacherSpec splits a --teacher value ARCH=FILE, where ARCH is a known
// architecture; any other value is a file name alone.
func teacherSpec(spec string) (arch, path string) {
	if a, p, ok := strings.Cut(spec, "="); ok && slices.Contains(models.Names(), a) {
		return a, p
	}
	return "", spec
}

// describe is the distillation's line in a run's log.
func (d distillFlags) describe(teachers ...string) string {
	if len(teachers) > 1 {
		return fmt.Sprintf("distilling from the mean logits of %s (T %g, alpha %g)", strings.Join(teachers, ", "), d.Temp, d.Alpha)
	}
	return fmt.Sprintf("distilling from %s (T %g, alpha %g)", strings.Join(teachers, ""), d.Temp, d.Alpha)
}
