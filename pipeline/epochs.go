package pipeline

import "github.com/sgcnn/sgcnn/train"

// dataEpochs returns Train as the current phase sees it: the phase's epoch
// e is the run's epoch dataEpoch(st, local, e) for the training source,
// so that every fine-tuning epoch of a run gets its own shuffle and
// augmentation. Without it every local phase would replay epoch 0: the
// same order and, with --epoch-size or --local-images, the same subset of
// the training set after every step.
func (r *Runner) dataEpochs(st *State, local int) train.Source {
	base := 0
	if st.Phase == PhaseLocal {
		base = (st.Step - 1) * local
	} else if rates, err := st.Config.Schedule(); err == nil {
		base = len(rates) * local
	}
	return func(e int, yield func(train.Batch) bool) error { return r.Train(base+e, yield) }
}
