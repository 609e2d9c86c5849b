package sgcnn

import (
	"context"
	"fmt"
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
// The val folder is the evaluation set of every step: a pruning run on a
// folder holds out no validation split (ValSplit must be 0; a capped
// default becomes 0), TrainLimit must be 0 (EpochSize draws a random
// subset per epoch instead), and TestLimit evaluates every k-th image of
// the val folder, every class kept.
const ImageFolderDataset = "imagefolder"

// imageFolders are the training and evaluation folders of a run.
type imageFolders struct {
	train, test *data.ImageFolder
}

// openImageFolders opens the folders at root for m, checking the
// model's input, the settings and the classes before any work. valSplit
// is the split asked; capped says it is a default (then dropped).
func openImageFolders(m *Model, root string, rs *RunSettings, valSplit int, capped bool) (*imageFolders, error) {
	in := m.Model.InputShape
	switch {
	case root == "":
		return nil, configErr("DataDir", `""`, "dataset %s needs the folder of class sub-folders (or of train/ and val/)", ImageFolderDataset)
	case valSplit != 0 && !capped:
		return nil, configErr("ValSplit", valSplit, "dataset %s evaluates its val folder instead of a split of the training images: give 0", ImageFolderDataset)
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
	return fs, nil
}

// setNorm makes norm the folders' normalisation.
func (fs *imageFolders) setNorm(norm data.Norm) {
	fs.train.Mean, fs.train.Std = norm.Mean, norm.Std
	fs.test.Mean, fs.test.Std = norm.Mean, norm.Std
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

// loadFolderData is loadData for ImageFolderDataset: no validation split
// (recorded in st as 0), the val folder evaluated at every step.
func loadFolderData(m *Model, cfg *PruneConfig, st *pipeline.State) (*dataSets, error) {
	if st.Config.Shift > 0 {
		return nil, configErr("Shift", st.Config.Shift, "not with dataset %s, whose training crops are random resized crops: give 0", ImageFolderDataset)
	}
	capped := cfg.ValSplitCapped || cfg.Resume // a resumed run stored its split
	fs, err := openImageFolders(m, cfg.DataDir, &cfg.RunSettings, st.Config.ValSplit, capped)
	if err != nil {
		return nil, err
	}
	if st.Config.ValSplit != 0 {
		st.Config.ValSplit = 0
		if st.Report.Config, err = report.ConfigOf(st.Config); err != nil {
			return nil, err
		}
	}
	st.Report.Validation = nil
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
// engine's batches (random resized crops and flips), the images per epoch,
// the evaluation batches of the val folder, and the torch trainer's folder
// settings (decoding in DataLoader workers on GPUs, in the ranks
// themselves on CPUs, whose cores the ranks already use).
func folderRun(ctx context.Context, fs *imageFolders, norm data.Norm, batch int, seed uint64, e torchtrain.Engine) (*data.Loader, train.Source, *torchtrain.Folder, error) {
	l, err := data.NewLoader(fs.train, data.Config{BatchSize: batch, Shuffle: true, Seed: seed, Flip: true, Norm: norm})
	if err != nil {
		return nil, nil, nil, err
	}
	el, err := data.NewLoader(fs.test, data.Config{BatchSize: batch, Norm: norm})
	if err != nil {
		return nil, nil, nil, err
	}
	workers := 0
	if e.Device == "cuda" {
		workers = max(1, min(8, runtime.NumCPU()/max(1, e.NProc)-1))
	}
	tf := &torchtrain.Folder{Train: fs.train.Root, Size: fs.train.Size, Resize: fs.test.Resize, Workers: workers, Mean: norm.Mean, Std: norm.Std}
	return l, train.FromLoader(ctx, el), tf, nil
}
