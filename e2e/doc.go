// Package e2e holds sgcnn's end-to-end tests on networks it did not write.
// It has no code of its own outside tests.
//
// The networks are torchvision 0.14's resnet18, vgg11_bn, mobilenet_v2,
// densenet121, squeezenet1_1, shufflenet_v2_x1_0 and efficientnet_b0, a
// small CIFAR CNN (with BatchNorm kept and folded), and the pretrained CIFAR
// ResNet-20 and ResNet-56 of ../shared/models/cifar10, exported to ONNX by
// PyTorch (scripts/gen_torchvision_onnx.py, which also writes PyTorch's
// outputs and one training step's gradients). The files are tens of MB and
// stay out of git: the tests write them on first use into $SGCNN_CACHE/onnx
// or runs/.cache/onnx, with /usr/bin/python3 (python3-torch and
// python3-torchvision), and skip with a message where those are missing,
// except under CI=true, where they fail. ONNX Runtime is found as
// export/onnx/ort finds it.
//
//	torchvision_test.go  per network: import; forward against ONNX Runtime;
//	                     one self-grouping step, then the compiled network
//	                     against nn and the exported pruned ONNX in ONNX
//	                     Runtime; model file round trip; the pruned
//	                     networks' PyTorch state_dict export loaded by
//	                     PyTorch into its own definitions; for four
//	                     networks, one SGD step's gradients against PyTorch
//	cifar_test.go        the pretrained CIFAR ResNets through ONNX: test
//	                     accuracy, and one-shot self-grouping against the
//	                     built-in path (same masks, same accuracy)
//	cli_test.go          sgcnn import, then every command, on each
//	                     torchvision network
//	setup_test.go        the network files, ONNX Runtime, comparisons
package e2e
