// Package sgcnn is the front door of the toolkit for Go programs: it does
// what the sgcnn command does, on the same lower packages, without a
// command line: the command parses flags into these calls and prints what
// they return. Bad settings are *ConfigError, found before any work.
//
// The data flow:
//
//	Open(path)           a model file: sgcnn .safetensors (an imported graph
//	                     too), a PyTorch .th/.pt (WithArch), or an ONNX file
//	New(arch)            or a fresh, untrained model of a registered architecture
//	OpenData(name, dir)  the training and test splits of a data set by name
//	Prune(ctx, m, cfg)   package pipeline's schedule (package prune's
//	                     methods) on the model: a checkpoint in cfg.Dir after
//	                     every step and epoch, cfg.Resume to continue, ctx to
//	                     stop; accuracies on a validation split held out of
//	                     the training set, the test set evaluated once;
//	                     optionally distillation from the dense model, cosine
//	                     cycles and their average, the PyTorch DDP trainer,
//	                     and per-layer rates to a cost budget (PlanBudget)
//	Train(ctx, m, cfg)   SGD epochs on the model's data set, a checkpoint in
//	                     cfg.Out after every epoch (ReadTrainCheckpoint and
//	                     cfg.From to continue, bit for bit), optionally
//	                     distilled from teachers or on PyTorch DDP
//	Average(ctx, cfg)    the weights of a run's snapshots averaged, batch norm
//	                     re-estimated, evaluated and written (SWA)
//	Transfer(ctx, m, cfg) a new classifier for another data set, the whole
//	                     network fine-tuned with its masks held (package transfer)
//	m.Save(path)         the pruned model, masks and normalisation
//	WriteReports(dir)    report.json, report.md and the plots of package report
//	Compile(m)           package compile's grouped executor for the masks
//	Quantize(m, cfg)     the same with its convs in int8 (package quant),
//	                     calibrated on images of the validation split
//	c.Predict(images)    classes of raw images (uint8 CHW or image.Image),
//	                     normalised with the model's recorded mean and std
//
// A compiled network runs on the threads given by WithThreads; without it,
// and for training, the program's default applies, which SetThreads (and
// sgcnn's --threads) sets.
package sgcnn
