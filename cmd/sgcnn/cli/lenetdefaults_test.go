package cli

import (
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// TestLenetDefaults checks the demo's defaults and that every flag given
// keeps its value: --rate alone falls back to steps of 5.
func TestLenetDefaults(t *testing.T) {
	none := func(string) bool { return false }
	o := &pruneOptions{cfg: pipeline.DefaultConfig(selfgroup.LG, 70)}
	o.cfg.DistillTemp, o.cfg.DistillAlpha = defaultDistillTemp, defaultDistillAlpha // the flags' defaults
	lenetDefaults(none, o)
	c := o.cfg
	if !slices.Equal(c.Rates, lenetRates) || c.Rate != 95 || c.FCCap != 95 || c.Scheme != "LG" || c.LocalEpochs != 1 ||
		c.LocalImages != 10000 || c.GlobalEpochs != 6 || c.GlobalSchedule != "cosine" || c.GlobalLR != 0.02 || c.Batch != 64 || c.Shift != 2 || !c.Distill {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	given := map[string]bool{"rate": true, "distill": true, "scheme": true}
	o = &pruneOptions{cfg: pipeline.DefaultConfig(selfgroup.LG, 70)}
	o.cfg.Rate, o.cfg.Scheme = 90, "G"
	lenetDefaults(func(n string) bool { return given[n] }, o)
	if c := o.cfg; c.Rates != nil || c.Step != 5 || c.Rate != 90 || c.Distill || c.Scheme != "G" {
		t.Errorf("with --rate 90 --scheme G --distill=false: %+v", c)
	}
}
