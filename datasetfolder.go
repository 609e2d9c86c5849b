package sgcnn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// ImageFolderDataset is the Dataset of an ImageNet-style folder at
// DataDir: DataDir/train and DataDir/val (or DataDir itself for both),
// each holding one sub-folder of .jpg/.jpeg/.png files per class, sorted
// by name (label = position), as torchvision's ImageFolder reads them.
// The folder is decoded as it is read, never held in memory. Training
// images get a random resized crop and a random flip (Augment and Shift
// do not apply), evaluation images Resize then CenterCrop to the model's
// input (Resize = input*8/7: 256 then 224 for ImageNet).
//
// By default the val folder is the evaluation set of every step: a capped
// ValSplit (a default) becomes 0. A ValSplit of n > 0 asked for holds out
// n images of DataDir/train (drawn with ValSeed) as the validation split,
// evaluated at every step (resize and centre crop) and never trained on,
// by either trainer; the val folder is then evaluated once, at the end
// (Report.FinalTest). It needs both DataDir/train and DataDir/val.
// TrainLimit must be 0 (EpochSize draws a random subset per epoch
// instead); TestLimit evaluates every k-th image of the val folder, every
// class kept.
const ImageFolderDataset = "imagefolder"

// imageFolders are the folders of a run: training (less the validation
// split), the split (nil without one) and the evaluation folder, all
// normalised by norm.
type imageFolders struct {
	train, val, test *data.ImageFolder
	norm             data.Norm
}

// folderNorm is the normalisation a model file records, ImageNet's when
// it records none.
func folderNorm(info modelfile.Info) data.Norm {
	if len(info.Mean) == 3 && len(info.Std) == 3 {
		return data.Norm{Mean: info.Mean, Std: info.Std}
	}
	return data.ImageNetNorm
}

// openEvalFolder opens the evaluation folder at root for m (every k-th
// of testLimit images), checking the model's input, the settings and the
// classes before any work.
func openEvalFolder(m *Model, root string, testLimit int) (*data.ImageFolder, error) {
	in := m.Model.InputShape
	switch {
	case root == "":
		return nil, configErr("DataDir", `""`, "dataset %s needs the folder of class sub-folders (or of train/ and val/)", ImageFolderDataset)
	case testLimit < 0:
		return nil, configErr("TestLimit", testLimit, "want 0 (all) or more")
	case in[0] != 3 || in[1] != in[2]:
		return nil, configErr("Dataset", ImageFolderDataset, "%s takes %dx%dx%d inputs; image folders give square RGB crops", m.Model.Arch, in[0], in[1], in[2])
	}
	f, err := data.LoadImageFolder(data.ImageFolderSplit(root, false), in[1])
	if err != nil {
		return nil, err
	}
	if n := len(f.Classes); n != m.Model.Classes {
		return nil, configErr("DataDir", root, "%s has %d class folders (%s) but %s has %d outputs: the labels would not line up",
			f.Root, n, abbreviate(f.Classes, 3), m.Model.Arch, m.Model.Classes)
	}
	norm := folderNorm(m.Info)
	f.Mean, f.Std = norm.Mean, norm.Std
	return everyKth(f, testLimit), nil
}

// abbreviate lists the first n names and how many more there are.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// ImageFolderEval opens the evaluation folder of the ImageFolderDataset
// at root for m: root/val (or root itself), every k-th of testLimit
// images (0: all), in order, through the evaluation transform and m's
// recorded normalisation (ImageNet's without one), in batches of batch.
// The model's input, the settings and the classes are checked before any
// work; bad settings are *ConfigError.
func ImageFolderEval(m *Model, root string, testLimit, batch int) (train.Source, error) {
	f, err := openEvalFolder(m, root, testLimit)
	if err != nil {
		return nil, err
	}
	return folderSource(f, folderNorm(m.Info), batch)
}

// openImageFolders opens the folders at root for m, checking the model's
// input, the settings and the classes before any work, and holds out a
// validation split of valSplit training images.
func openImageFolders(m *Model, root string, trainLimit, testLimit, valSplit int) (*imageFolders, error) {
	switch {
	case valSplit < 0:
		return nil, configErr("ValSplit", valSplit, "want 0 (none) or a number of training images")
	case trainLimit != 0:
		return nil, configErr("TrainLimit", trainLimit, "not with dataset %s: EpochSize draws a random subset of the training folder per epoch", ImageFolderDataset)
	}
	fs := &imageFolders{norm: folderNorm(m.Info)}
	var err error
	if fs.test, err = openEvalFolder(m, root, testLimit); err != nil {
		return nil, err
	}
	if fs.train, err = data.LoadImageFolder(data.ImageFolderSplit(root, true), m.Model.InputShape[1]); err != nil {
		return nil, err
	}
	if !slices.Equal(fs.train.Classes, fs.test.Classes) {
		return nil, configErr("DataDir", root, "the training folder %s and the evaluation folder %s have different classes (%d and %d sub-folders)",
			fs.train.Root, fs.test.Root, len(fs.train.Classes), len(fs.test.Classes))
	}
	fs.train.RandomResized = true
	fs.train.Mean, fs.train.Std = fs.norm.Mean, fs.norm.Std
	if valSplit == 0 {
		return fs, nil
	}
	switch {
	case fs.train.Root == fs.test.Root:
		return nil, configErr("ValSplit", valSplit, "holds training images out of %s/train, but %s has no train/ and val/ sub-folders: give 0", root, root)
	case valSplit >= fs.train.Len():
		return nil, configErr("ValSplit", valSplit, "the training folder %s has only %d images (at least one must be left to train on)", fs.train.Root, fs.train.Len())
	}
	fs.train, fs.val = holdOutFiles(fs.train, valSplit)
	return fs, nil
}

// holdOutFiles draws n of f's images with ValSeed: the rest, and the
// split with the evaluation transform (resize, centre crop).
func holdOutFiles(f *data.ImageFolder, n int) (rest, val *data.ImageFolder) {
	out := make([]bool, f.Len())
	for _, i := range rand.New(rand.NewPCG(ValSeed, 0)).Perm(f.Len())[:n] {
		out[i] = true
	}
	r, v := *f, *f
	r.Files, r.Labels, v.Files, v.Labels = nil, nil, nil, nil
	for i, held := range out {
		dst := &r
		if held {
			dst = &v
		}
		dst.Files, dst.Labels = append(dst.Files, f.Files[i]), append(dst.Labels, f.Labels[i])
	}
	v.RandomResized, v.RandomCrop = false, false
	return &r, &v
}

// excluded lists the held-out split's files relative to the training
// folder, for the torch trainer.
func (fs *imageFolders) excluded() ([]string, error) {
	if fs.val == nil {
		return nil, nil
	}
	rel := make([]string, len(fs.val.Files))
	for i, f := range fs.val.Files {
		var err error
		if rel[i], err = filepath.Rel(fs.train.Root, f); err != nil {
			return nil, err
		}
	}
	return rel, nil
}

// everyKth keeps n of f's images (every k-th, so that every class stays),
// or all when n is 0 or not below their count.
func everyKth(f *data.ImageFolder, n int) *data.ImageFolder {
	if n <= 0 || n >= f.Len() {
		return f
	}
	g := *f
	g.Files, g.Labels = make([]string, n), make([]int, n)
	for i := range n {
		j := i * f.Len() / n
		g.Files[i], g.Labels[i] = f.Files[j], f.Labels[j]
	}
	return &g
}

// loadFolderData is loadData for ImageFolderDataset: the validation split
// held out of the training folder (none when the split asked is a
// default), recorded in st.
func loadFolderData(m *Model, cfg *PruneConfig, st *pipeline.State) (*dataSets, error) {
	if st.Config.Shift > 0 {
		return nil, configErr("Shift", st.Config.Shift, "not with dataset %s, whose training crops are random resized crops: give 0", ImageFolderDataset)
	}
	n := st.Config.ValSplit
	if cfg.ValSplitCapped && !cfg.Resume { // a default: the val folder instead
		n = 0
	}
	fs, err := openImageFolders(m, cfg.DataDir, cfg.TrainLimit, cfg.TestLimit, n)
	if err != nil {
		return nil, err
	}
	if st.Config.ValSplit != n {
		st.Config.ValSplit = n
		if st.Report.Config, err = report.ConfigOf(st.Config); err != nil {
			return nil, err
		}
	}
	st.Report.Validation = nil
	if n > 0 {
		st.Report.Validation = &report.Validation{Images: n, Of: fs.train.Len() + n, Seed: ValSeed}
	}
	if fs.train.Root == fs.test.Root && cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "warning: %s has no train/ and val/ sub-folders: the run trains and evaluates on the same images\n", cfg.DataDir)
	}
	m.Info.Mean, m.Info.Std = fs.norm.Mean, fs.norm.Std
	return &dataSets{folder: fs, norm: fs.norm}, nil
}

// folderRun is the training side of a run on image folders: the Go
// engine's batches (random resized crops and flips), the evaluation
// batches (as evalSources returns them: the split and the val folder, or
// the val folder alone), and the torch trainer's folder settings
// (decoding in DataLoader workers on GPUs, in the ranks themselves on
// CPUs, whose cores the ranks already use).
func folderRun(fs *imageFolders, norm data.Norm, batch int, seed uint64, e torchtrain.Engine) (*runData, error) {
	l, err := data.NewLoader(fs.train, data.Config{BatchSize: batch, Shuffle: true, Seed: seed, Flip: true, Norm: norm})
	if err != nil {
		return nil, err
	}
	rd := &runData{loader: l, n: fs.train.Len(), flip: true}
	if rd.during, err = folderSource(fs.test, norm, batch); err != nil {
		return nil, err
	}
	if fs.val != nil {
		rd.final = rd.during
		if rd.during, err = folderSource(fs.val, norm, batch); err != nil {
			return nil, err
		}
	}
	exclude, err := fs.excluded()
	if err != nil {
		return nil, err
	}
	workers := 0
	if e.Device == "cuda" {
		workers = max(1, min(8, runtime.NumCPU()/max(1, e.NProc)-1))
	}
	rd.folder = &torchtrain.Folder{Train: fs.train.Root, Size: fs.train.Size, Resize: fs.test.Resize, Workers: workers,
		Mean: norm.Mean, Std: norm.Std, Exclude: exclude}
	return rd, nil
}

// folderSource streams f in order through the evaluation transform.
func folderSource(f *data.ImageFolder, norm data.Norm, batch int) (train.Source, error) {
	l, err := data.NewLoader(f, data.Config{BatchSize: batch, Norm: norm})
	if err != nil {
		return nil, err
	}
	return train.FromLoader(context.Background(), l), nil
}

// folderTrainSets opens the image folder of a training run: its val
// folder is measured after every epoch; no split is held out of its
// training folder, so a ValSplit asked for (not a default) is refused.
func folderTrainSets(m *Model, cfg *TrainConfig, rec *TrainRecord) (*trainSets, error) {
	if cfg.ValSplit > 0 && !(cfg.ValSplitDefault && cfg.From == nil) {
		return nil, configErr("ValSplit", cfg.ValSplit, "dataset %s evaluates its val folder instead; give 0", ImageFolderDataset)
	}
	cfg.ValSplit, rec.Config.ValSplit = 0, 0
	fs, err := openImageFolders(m, cfg.DataDir, cfg.TrainLimit, cfg.TestLimit, 0)
	if err != nil {
		return nil, err
	}
	rd, err := folderRun(fs, fs.norm, cfg.Batch, cfg.Seed, cfg.Engine)
	if err != nil {
		return nil, err
	}
	return &trainSets{n: rd.n, loader: rd.loader, during: rd.during, norm: fs.norm, flip: rd.flip, folder: rd.folder}, nil
}
