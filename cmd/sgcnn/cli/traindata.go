package cli

import (
	"github.com/sgcnn/sgcnn"
)

// folderTrainData opens an image folder for sgcnn train: its val/ folder is
// evaluated after every epoch (no split is held out of train/). A named
// data set is opened by sgcnn.Train itself.
func folderTrainData(o *trainOptions, m *sgcnn.Model) (*sgcnn.TrainData, error) {
	switch {
	case o.valSet && o.ValSplit > 0:
		return nil, usagef("--val-split %d: --dataset %s evaluates its val folder instead; give --val-split 0", o.ValSplit, folderDataset)
	case o.TrainLimit > 0:
		return nil, usagef("--train-limit %d: not with --dataset %s; --epoch-size draws a random subset per epoch", o.TrainLimit, folderDataset)
	}
	o.ValSplit = 0
	fs, err := openFolders(o.DataDir, m.Model, m.Info, true, o.TestLimit)
	if err != nil {
		return nil, err
	}
	td := &sgcnn.TrainData{N: fs.train.Len(), Norm: fs.norm, Flip: true, Folder: fs.torch(o.Engine)}
	if td.Loader, err = fs.trainLoader(o.Batch, o.Seed); err != nil {
		return nil, err
	}
	td.During, err = fs.source(fs.test, o.Batch)
	return td, err
}
