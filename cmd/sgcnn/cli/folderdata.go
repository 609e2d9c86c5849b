package cli

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// folderDataset is the --dataset name of ImageNet-style folders, whose
// root --data names (see folderHelp).
const folderDataset = "imagefolder"

// folderHelp is the image folder part of eval's and train's --help.
const folderHelp = `
--dataset imagefolder --data PATH reads an ImageNet-style folder: PATH/train
and PATH/val (or PATH itself for both), each holding one sub-folder of
.jpg/.jpeg/.png files per class, sorted by name (label = position), as
torchvision's ImageFolder reads them. Training images get RandomResizedCrop
and a random flip, evaluation images Resize 256 then CenterCrop 224 (scaled
to the model's input: Resize = input*8/7). The folder's classes must be as
many as the model's outputs. --test-limit N evaluates every k-th image
(N in all, every class kept); --val-split does not apply (the val folder
is the evaluation set).`

// folderSplits is an ImageNet-style data set opened for a model.
type folderSplits struct {
	train, test *data.ImageFolder
	norm        data.Norm
}

// openFolders opens the training (when trainSplit) and evaluation folders
// of root for m, checking the model's input, the classes and the folders
// before any work. norm is the model file's recorded normalisation
// (ImageNet's when it records none).
func openFolders(root string, m *models.Model, info modelfile.Info, trainSplit bool, testLimit int) (*folderSplits, error) {
	if root == "" {
		return nil, usagef("--dataset %s needs --data PATH, the folder of class sub-folders (or of train/ and val/)", folderDataset)
	}
	in := m.InputShape
	if in[0] != 3 || in[1] != in[2] {
		return nil, usagef("--dataset %s: %s takes %dx%dx%d inputs; image folders give square RGB crops", folderDataset, m.Arch, in[0], in[1], in[2])
	}
	fs := &folderSplits{norm: data.ImageNetNorm}
	if len(info.Mean) == 3 && len(info.Std) == 3 {
		fs.norm = data.Norm{Mean: info.Mean, Std: info.Std}
	}
	var err error
	if fs.test, err = data.LoadImageFolder(data.ImageFolderSplit(root, false), in[1]); err != nil {
		return nil, err
	}
	if err := fitsClasses(fs.test, m); err != nil {
		return nil, err
	}
	fs.test.Mean, fs.test.Std = fs.norm.Mean, fs.norm.Std
	if fs.test, err = strided(fs.test, testLimit); err != nil {
		return nil, err
	}
	if !trainSplit {
		return fs, nil
	}
	if fs.train, err = data.LoadImageFolder(data.ImageFolderSplit(root, true), in[1]); err != nil {
		return nil, err
	}
	if !slices.Equal(fs.train.Classes, fs.test.Classes) {
		return nil, fmt.Errorf("--data %s: the training folder %s and the evaluation folder %s have different classes (%d and %d sub-folders)",
			root, fs.train.Root, fs.test.Root, len(fs.train.Classes), len(fs.test.Classes))
	}
	fs.train.RandomResized = true
	fs.train.Mean, fs.train.Std = fs.norm.Mean, fs.norm.Std
	return fs, nil
}

// fitsClasses refuses a folder whose class count is not the model's.
func fitsClasses(f *data.ImageFolder, m *models.Model) error {
	if n := len(f.Classes); n != m.Classes {
		return usagef("--data %s has %d class folders (%s) but %s has %d outputs: the labels would not line up",
			f.Root, n, abbreviate(f.Classes, 3), m.Arch, m.Classes)
	}
	return nil
}

// abbreviate lists the first n names and how many more there are.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// strided keeps n of f's images (every k-th, so that every class stays),
// or all when n is 0 or not below their count.
func strided(f *data.ImageFolder, n int) (*data.ImageFolder, error) {
	if n < 0 {
		return nil, usagef("--test-limit %d: want 0 (all) or more", n)
	}
	if n == 0 || n >= f.Len() {
		return f, nil
	}
	g := *f
	g.Files, g.Labels = make([]string, n), make([]int, n)
	for i := range n {
		j := i * f.Len() / n
		g.Files[i], g.Labels[i] = f.Files[j], f.Labels[j]
	}
	return &g, nil
}

// source returns the evaluation batches of f.
func (fs *folderSplits) source(f *data.ImageFolder, batch int) (train.Source, error) {
	l, err := data.NewLoader(f, data.Config{BatchSize: batch, Norm: fs.norm})
	if err != nil {
		return nil, err
	}
	return train.FromLoader(context.Background(), l), nil
}

// trainLoader returns the shuffled, flipped training batches (the random
// resized crops are the folder's own).
func (fs *folderSplits) trainLoader(batch int, seed uint64) (*data.Loader, error) {
	return data.NewLoader(fs.train, data.Config{BatchSize: batch, Shuffle: true, Seed: seed, Flip: true, Norm: fs.norm})
}

// torch returns the folder settings of the torch trainer: decoding in
// DataLoader workers on GPUs, in the ranks themselves on CPUs (whose
// cores the ranks already use).
func (fs *folderSplits) torch(e torchtrain.Engine) *torchtrain.Folder {
	workers := 0
	if e.Device == "cuda" {
		workers = max(1, min(8, runtime.NumCPU()/max(1, e.NProc)-1))
	}
	return &torchtrain.Folder{Train: fs.train.Root, Eval: "", Size: fs.train.Size, Resize: fs.test.Resize,
		Workers: workers, Mean: fs.norm.Mean, Std: fs.norm.Std}
}
