package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// recipe is a named preset of sgcnn prune's flags. Fixed values may not be
// contradicted by a flag given beside --recipe; defaults may be.
type recipe struct {
	name, about string
	fixed       [][2]string // flag, value
	defaults    [][2]string
}

// recipes are the presets of --recipe, in the order --help lists them.
var recipes = []recipe{
	{name: "paper", about: "the paper's schedule (METHOD.md section 3): scheme LG (or --scheme G), 20 local epochs " +
		"at lr 0.01 after every step, 90 global epochs at lr 0.01 divided by 10 after epochs 30 and 60, SGD momentum " +
		"0.9, weight decay 1e-4, batch 128, g = 16, the first-member rule, L1 importance, no extension. Wall time, " +
		"estimated from measured epoch times (2 threads, about 10 s per MNIST epoch, 3.5 min per CIFAR-10 epoch of " +
		"ResNet-56): LeNet-5 Conv-95 in 10 steps about 50 minutes, ResNet-56 Conv-70 in 7 steps about 13 hours",
		fixed: [][2]string{{"method", "self-grouping"}, {"groups", "16"}, {"rule", "first-member"}, {"importance", "l1"},
			{"local-epochs", "20"}, {"local-lr", "0.01"}, {"local-images", "0"}, {"global-epochs", "90"},
			{"global-lr", "0.01"}, {"global-schedule", "multistep:30,60"}, {"momentum", "0.9"}, {"wd", "0.0001"},
			{"batch", "128"}, {"shift", "0"}, {"distill", "false"}, {"cycles", "0"}, {"average", "false"}},
		defaults: [][2]string{{"scheme", "LG"}}},
	{name: "best", about: "sgcnn's strongest method (extensions beyond the paper): scheme LG with 1 local epoch per " +
		"step, then 40 global epochs as 4 cosine cycles from lr 0.01, every epoch distilled from the dense model " +
		"(T 4, alpha 0.9), and the average of the 4 cycles' end models (batch-norm statistics re-estimated) kept " +
		"if it scores higher on the validation split. Wall time, estimated as for paper: LeNet-5 Conv-95 in 10 steps " +
		"(10,000-image local epochs) about 11 minutes, ResNet-56 Conv-70 in 7 steps about 4 hours",
		fixed: [][2]string{{"method", "self-grouping"}, {"distill", "true"}, {"distill-temp", "4"}, {"distill-alpha", "0.9"},
			{"cycles", "4"}, {"average", "true"}, {"global-lr", "0.01"}, {"momentum", "0.9"}},
		defaults: [][2]string{{"scheme", "LG"}, {"local-epochs", "1"}, {"local-lr", "0.01"}, {"global-epochs", "40"}}},
	imagenetRecipe("resnet50", "G", 60, "the paper reports 75.20% top-1 (11.88M params, 1.91G FLOPs) from 76.13%"),
	imagenetRecipe("resnet50", "G", 70, "the paper reports 74.43% top-1 (1.55G FLOPs)"),
	imagenetRecipe("resnet50", "G", 80, "the paper reports 73.22% top-1 (1.20G FLOPs)"),
	imagenetRecipe("densenet201", "G", 70, "the paper reports 76.21% top-1 (6.00M params, 1.34G FLOPs) from 76.90%"),
	imagenetRecipe("densenet201", "LG", 80, "the paper reports 75.17% top-1 (4.32M params, 0.99G FLOPs)"),
}

// imagenetRecipe is a preset of one of the paper's ImageNet runs (METHOD.md
// sections 3 and 5): scheme G or LG in steps of 10 up to rate, FC layers
// capped at 60, 20 local epochs at lr 0.01 after each step (LG), 90 global
// epochs at lr 0.01 divided by 10 after epochs 30 and 60, SGD momentum 0.9,
// weight decay 1e-4, batch 128, g = 16, the first-member rule, L1
// importance, on PyTorch DDP (--trainer torch; add --nproc and --device)
// and an ImageNet folder (--dataset imagefolder --data PATH). Named
// imagenet-ARCH-SCHEMEconvRATE, e.g. imagenet-resnet50-Gconv60.
func imagenetRecipe(arch, scheme string, rate int, paper string) recipe {
	local := "0"
	if scheme != "G" {
		local = "20"
	}
	return recipe{
		name: fmt.Sprintf("imagenet-%s-%sconv%d", arch, scheme, rate),
		about: fmt.Sprintf("the paper's ImageNet %s %s Conv-%d/FC-60 (%s): rates 10, 20, ..., %d, %s local epochs "+
			"at lr 0.01, 90 global epochs at lr 0.01 divided by 10 after epochs 30 and 60, momentum 0.9, wd 1e-4, "+
			"batch 128, g = 16, first-member, L1; --trainer torch and --dataset imagefolder by default (give --data PATH, "+
			"--device and --nproc); wall time in README (an estimate)",
			arch, scheme, rate, paper, rate, local),
		fixed: [][2]string{{"model", arch}, {"scheme", scheme}, {"rate", fmt.Sprint(rate)}, {"step", "10"},
			{"method", "self-grouping"}, {"groups", "16"}, {"rule", "first-member"}, {"importance", "l1"},
			{"local-epochs", local}, {"local-lr", "0.01"}, {"local-images", "0"}, {"global-epochs", "90"},
			{"global-lr", "0.01"}, {"global-schedule", "multistep:30,60"}, {"momentum", "0.9"}, {"wd", "0.0001"},
			{"batch", "128"}, {"distill", "false"}, {"cycles", "0"}, {"average", "false"}},
		defaults: [][2]string{{"fc-cap", "60"}, {"trainer", "torch"}, {"dataset", folderDataset}},
	}
}

// recipeNames lists the recipes for error messages.
func recipeNames() string {
	var b strings.Builder
	for _, r := range recipes {
		fmt.Fprintf(&b, "\n  %s: %s", r.name, r.about)
	}
	return b.String()
}

// recipeHelp is the --recipe part of sgcnn prune --help.
func recipeHelp() string {
	return "--recipe sets the flags of a preset; a flag given beside it that contradicts the preset is an error " +
		"naming both. Recipes:" + recipeNames()
}

// applyRecipe sets cmd's flags to the named recipe's values. A fixed
// value contradicted by a flag the user gave is an error naming both; an
// unknown name is an error listing the recipes.
func applyRecipe(cmd *cobra.Command, name string) error {
	var rc *recipe
	for i := range recipes {
		if recipes[i].name == name {
			rc = &recipes[i]
		}
	}
	if rc == nil {
		return usagef("--recipe %q: no such recipe; the recipes are:%s", name, recipeNames())
	}
	f := cmd.Flags()
	for _, kv := range rc.fixed {
		fl := f.Lookup(kv[0])
		if fl == nil {
			return fmt.Errorf("recipe %s: no flag --%s", rc.name, kv[0]) // a bug in the table
		}
		given, changed := fl.Value.String(), fl.Changed
		if err := f.Set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("recipe %s: --%s %s: %w", rc.name, kv[0], kv[1], err)
		}
		if changed && given != fl.Value.String() {
			return usagef("--recipe %s sets --%s %s; --%s %s contradicts it", rc.name, kv[0], fl.Value.String(), kv[0], given)
		}
	}
	for _, kv := range rc.defaults {
		if f.Changed(kv[0]) {
			continue
		}
		if err := f.Set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("recipe %s: --%s %s: %w", rc.name, kv[0], kv[1], err)
		}
	}
	return nil
}
