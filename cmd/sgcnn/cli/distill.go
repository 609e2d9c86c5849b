package cli

// Default distillation settings (Hinton et al. 2015 use T in 2..20; 4
// and 0.9 are the common CIFAR choice), for train's and prune's flags;
// sgcnn.Train and sgcnn.Prune carry the distillation.
const (
	defaultDistillTemp  = 4
	defaultDistillAlpha = 0.9
)
