// Package models builds the networks sgcnn prunes, with PyTorch's parameter
// names, so that checkpoints map one to one.
//
// Every architecture is a tree of nn layers whose leaf names are the
// state_dict prefixes of the reference implementation:
//
//	lenet5                     Caffe's LeNet (lenet_train_test.prototxt)      lenet.go
//	resnet20 ... resnet110     He et al.'s CIFAR ResNet, akamaster layout     resnet_cifar.go
//	resnet50                   torchvision resnet50                           resnet_imagenet.go
//	vgg16                      the common CIFAR VGG-16 with BN (kuangliu)     vgg.go
//	densenet40, densenet121    CIFAR DenseNets, torchvision names             densenet.go
//	densenet201                torchvision densenet201                        densenet.go
//
// Containers (Sequential, Residual, DenseConcat) carry names too, but no
// parameters, so their names never reach a state_dict; they are chosen to be
// unique and readable ("layer1.0", "layer1.0.body", ...).
//
// A residual block is Sequential(Residual(body, shortcut), ReLU): the
// addition happens inside Residual and the final ReLU runs in place on the
// sum, as in torchvision.
//
// Each Model lists its prunable layers (METHOD.md section 1): every conv and
// fully connected layer except the stem conv and the 1x1 shortcut or
// downsample convs; in DenseNets, both convs of every dense layer, the
// transition convs and the classifier.
//
// StateDict and LoadStateDict move parameters and BatchNorm running
// statistics in and out under their PyTorch names; num_batches_tracked is
// ignored.
//
// LoadFile and SaveFile read and write a model as an sgcnn model file
// (package modelfile holds the format; models builds the network from its
// parts: a built-in architecture, or an imported graph via FromGraph).
package models
