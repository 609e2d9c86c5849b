package pipeline

import (
	"math"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/selfgroup"
)

// TestValidateBeforeWork checks the settings issue 19 found refused only
// after the pruning steps (a bad global schedule) or never (NaN rates,
// momentum out of range).
func TestValidateBeforeWork(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*Config)
		want string
	}{
		"global schedule foo":  {func(c *Config) { c.GlobalSchedule = "foo" }, "global schedule"},
		"descending milestone": {func(c *Config) { c.GlobalSchedule = "multistep:60,30" }, "increase"},
		"NaN global lr":        {func(c *Config) { c.GlobalLR = math.NaN() }, "global learning rate"},
		"NaN local lr":         {func(c *Config) { c.LocalLR = math.NaN() }, "local learning rate"},
		"momentum -1":          {func(c *Config) { c.Momentum = -1 }, "momentum"},
		"momentum NaN":         {func(c *Config) { c.Momentum = math.NaN() }, "momentum"},
		"weight decay Inf":     {func(c *Config) { c.WeightDecay = math.Inf(1) }, "weight decay"},
	} {
		cfg := DefaultConfig(selfgroup.LG, 70)
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one about %s", name, err, c.want)
		}
	}
	cfg := DefaultConfig(selfgroup.LG, 70)
	if err := cfg.Validate(); err != nil {
		t.Errorf("the paper's settings refused: %v", err)
	}
}
