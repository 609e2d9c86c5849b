package sgcnn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/sgcnn/sgcnn/data"
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
// split), the split (nil without one) and the evaluation folder.
type imageFolders struct {
	train, val, test *data.ImageFolder
}

// openImageFolders opens the folders at root for m, checking the model's
// input, the settings and the classes before any work, and holds out a
// validation split of valSplit training images.
func openImageFolders(m *Model, root string, rs *RunSettings, valSplit int) (*imageFolders, error) {
	in := m.Model.InputShape
	switch {
	case root == "":
		return nil, configErr("DataDir", `""`, "dataset %s needs the folder of class sub-folders (or of train/ and val/)", ImageFolderDataset)
	case valSplit < 0:
		return nil, configErr("ValSplit", valSplit, "want 0 (none) or a number of training images")
	case rs.TrainLimit != 0:
		return nil, configErr("TrainLimit", rs.TrainLimit, "not with dataset %s: EpochSize draws a random subset of the training folder per epoch", ImageFolderDataset)
	case rs.TestLimit < 0:
		return nil, configErr("TestLimit", rs.TestLimit, "want 0 (all) or more")
	case in[0] != 3 || in[1] != in[2]:
		return nil, configErr("Dataset", ImageFolderDataset, "%s takes %dx%dx%d inputs; image folders give square RGB crops", m.Model.Arch, in[0], in[1], in[2])
	}
	fs := &imageFolders{}
	var err error
	if fs.test, err = data.LoadImageFolder(data.ImageFolderSplit(root, false), in[1]); err != nil {
		return nil, err
	}
	if n := len(fs.test.Classes); n != m.Model.Classes {
		return nil, fmt.Errorf("image folder %s has %d class folders but %s has %d outputs: the labels would not line up", fs.test.Root, n, m.Model.Arch, m.Model.Classes)
	}
	fs.test = everyKth(fs.test, rs.TestLimit)
	if fs.train, err = data.LoadImageFolder(data.ImageFolderSplit(root, true), in[1]); err != nil {
		return nil, err
	}
	if !slices.Equal(fs.train.Classes, fs.test.Classes) {
		return nil, fmt.Errorf("image folder %s: the training folder %s and the evaluation folder %s have different classes (%d and %d sub-folders)",
			root, fs.train.Root, fs.test.Root, len(fs.train.Classes), len(fs.test.Classes))
	}
	fs.train.RandomResized = true
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

// setNorm makes norm the folders' normalisation.
func (fs *imageFolders) setNorm(norm data.Norm) {
	for _, f := range []*data.ImageFolder{fs.train, fs.val, fs.test} {
		if f != nil {
			f.Mean, f.Std = norm.Mean, norm.Std
		}
	}
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
	fs, err := openImageFolders(m, cfg.DataDir, &cfg.RunSettings, n)
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
	norm := data.ImageNetNorm
	if len(m.Info.Mean) == 3 && len(m.Info.Std) == 3 {
		norm = data.Norm{Mean: m.Info.Mean, Std: m.Info.Std}
	}
	fs.setNorm(norm)
	m.Info.Mean, m.Info.Std = norm.Mean, norm.Std
	return &dataSets{folder: fs, norm: norm}, nil
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
