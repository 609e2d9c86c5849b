package cli

import (
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// trainData is what sgcnn train reads: a named data set held in memory, or
// an ImageNet-style folder decoded as it goes.
type trainData struct {
	set         *data.Dataset // the training set in memory (nil for a folder)
	n           int           // training images
	loader      *data.Loader  // the Go engine's shuffled, augmented batches
	test, final train.Source  // as evalSources returns them
	norm        data.Norm
	pad         int
	flip        bool
	folder      *torchtrain.Folder // the torch trainer's folders (nil for a named set)
}

// openTrainData opens o's data for m, holding out the validation split of
// a named data set (recorded in st).
func openTrainData(o *trainOptions, st *trainState, m *models.Model, info modelfile.Info) (*trainData, error) {
	if o.Dataset == folderDataset {
		return folderTrainData(o, st, m, info)
	}
	trainSet, testSet, err := openSplits(o.Dataset, o.DataDir, [2]int{o.TrainLimit, o.TestLimit})
	if err != nil {
		return nil, err
	}
	if err := checkFits(m, trainSet, o.Dataset); err != nil {
		return nil, err
	}
	valSet, err := trainHoldout(o, st, &trainSet)
	if err != nil {
		return nil, err
	}
	td := &trainData{set: trainSet, n: trainSet.Len()}
	td.pad, td.flip = augmentation(trainSet.H, o.Augment, o.Shift)
	// A model file's recorded normalisation (an imported network's
	// --mean/--std) wins over the data set's default.
	td.norm = normFor(info, testSet)
	td.loader, err = data.NewLoader(trainSet, data.Config{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed,
		Pad: td.pad, Flip: td.flip, Norm: td.norm})
	if err != nil {
		return nil, err
	}
	// The training batch size lets the layers keep their buffers.
	td.test, td.final, err = evalSources(valSet, testSet, td.norm, o.Batch)
	return td, err
}

// folderTrainData opens an image folder: its val/ folder is evaluated
// after every epoch (no split is held out of train/).
func folderTrainData(o *trainOptions, st *trainState, m *models.Model, info modelfile.Info) (*trainData, error) {
	switch {
	case o.valSet && o.ValSplit > 0:
		return nil, usagef("--val-split %d: --dataset %s evaluates its val folder instead; give --val-split 0", o.ValSplit, folderDataset)
	case o.TrainLimit > 0:
		return nil, usagef("--train-limit %d: not with --dataset %s; --epoch-size draws a random subset per epoch", o.TrainLimit, folderDataset)
	}
	o.ValSplit, st.Config.ValSplit = 0, 0
	fs, err := openFolders(o.DataDir, m, info, true, o.TestLimit)
	if err != nil {
		return nil, err
	}
	td := &trainData{n: fs.train.Len(), norm: fs.norm, flip: true, folder: fs.torch(o.Engine)}
	if td.loader, err = fs.trainLoader(o.Batch, o.Seed); err != nil {
		return nil, err
	}
	td.test, err = fs.source(fs.test, o.Batch)
	return td, err
}
