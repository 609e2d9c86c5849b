package cli

// The LeNet-5 demo's defaults (sgcnn prune with no flags), chosen on the
// validation split alone: docs/results/lenet-default-search.md and
// experiments/lenet_default_search.sh.
var (
	lenetRates          = []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 95}
	lenetPretrainEpochs = 6
	lenetPretrainLR     = 0.02
)

// lenetDefaults puts the LeNet-5 demo's defaults into o for every flag the
// user did not give (changed reports that): Conv-95/FC-95 in 10 steps
// (10, 20, ..., 90, 95; --step 5 when --rate or --step is given), scheme
// LG with one local epoch of 10,000 images at lr 0.01 after each step, 6
// global epochs at lr 0.02 cosine, batch 64, weight decay 5e-4, 2-pixel
// random shifts, and distillation from the dense model (candidate C12).
// Without --weights the dense model is trained first: --pretrain-epochs
// (lenetPretrainEpochs) at --pretrain-lr (lenetPretrainLR), cosine, with
// the same shifts.
func lenetDefaults(changed func(string) bool, o *pruneOptions) {
	c := &o.cfg
	setDefault(changed("rate"), &c.Rate, 95)
	setDefault(changed("step"), &c.Step, 5)
	if !changed("rate") && !changed("step") && !changed("rates") {
		c.Rates = append([]float64(nil), lenetRates...)
	}
	setDefault(changed("fc-cap"), &c.FCCap, 95)
	setDefault(changed("scheme"), &c.Scheme, "LG")
	setDefault(changed("local-epochs"), &c.LocalEpochs, 1)
	setDefault(changed("local-images"), &c.LocalImages, 10000)
	setDefault(changed("global-epochs"), &c.GlobalEpochs, 6)
	setDefault(changed("global-lr"), &c.GlobalLR, 0.02)
	setDefault(changed("batch"), &c.Batch, 64)
	setDefault(changed("global-schedule"), &c.GlobalSchedule, "cosine")
	setDefault(changed("wd"), &c.WeightDecay, 5e-4)
	setDefault(changed("shift"), &c.Shift, 2)
	setDefault(changed("distill"), &c.Distill, true)
}
