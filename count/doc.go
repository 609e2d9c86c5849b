// Package count counts parameters and FLOPs the way the self-grouping
// paper does (METHOD.md section 4), layer by layer. A FLOP is one
// multiply-accumulate.
//
// Only convs and fully connected layers (Conv, ConvTranspose, Gemm) count; BN,
// ReLU, pooling and the shortcuts are free. For a layer with N filters, C
// input channels, a k x k kernel and an Hout x Wout output:
//
//	masked conv    params = k*k*sum(m) + a*live      FLOPs = Hout*Wout*k*k*sum(m) + live
//	unmasked conv  params = N*C*k*k (+ N with bias)  FLOPs = N*Hout*Wout*C*k*k
//	linear         params = sum(m) + live (bias)     FLOPs = the same
//
// where live is the number of filters with at least one kept input and a
// is the number of per-channel parameters that go with a filter: 2 when the
// network has any BatchNorm (its scale and shift, as METHOD.md's "2*(live
// output channels)"), plus 1 when the conv has a bias. In the paper's
// networks that is a = 2 (ResNets, DenseNets: no conv bias), a = 3 (CIFAR
// VGG: bias and BN) and a = 1 (LeNet-5: bias, no BN anywhere, so the count
// is the network's true 431,080 parameters; reading METHOD.md literally, 2
// per filter and no conv biases, gives 431,110, also "431K"). The 2 is
// charged whether or not a BN directly follows the conv: DenseNet's BNs
// come before its convs, and charging only the BN that follows (norm2 after
// conv1) gives DenseNet-201 19.81M, not the paper's 19.82M. An unmasked
// linear layer counts N*C (+ N with bias) for both.
//
// A layer is "masked" when it carries a mask, or when its name is passed to
// Count in asMasked (then an absent mask reads as all ones). The paper's
// dense baselines are counted that way: with all masks = 1, the kernel
// terms equal the dense ones (k*k*sum(m) = N*C*k*k), linear layers count
// exactly as dense ones, and every prunable conv adds its BN term to the
// dense count: b*N params and N FLOPs, with b = 2 in a network with
// BatchNorm and 0 without (a bias counts in both). So
//
//	Count(net, in, prunable...)  =  Count(net, in)  +  sum over prunable convs of (b*N params, N FLOPs)
//
// and only the former reproduces the paper's baselines (ResNet-50 25.55M /
// 4.09G, DenseNet-201 19.82M / 4.29G, LeNet-5 431K / 2294K, CIFAR
// DenseNet-121 6.89M / 888.36M); Count(net, in) alone gives ResNet-50 25.50M.
//
// Count reads only the lowered graph (graph.Of): the nodes in order, their
// ops and attributes, the shapes graph.Infer gave every tensor, and, for a
// prunable node (graph.Node.Prunable: a Conv with one group or a Gemm), the
// mask of its layer. Conv, ConvTranspose and Gemm nodes count; every other
// op is free, as BN, ReLU, pooling and the shortcuts are in the paper: the
// activations (LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish), the
// elementwise ops (Add, Sub, Mul, Div, with or without a constant operand),
// pools, Concat, Split, Slice, Flatten, Reshape, Transpose, Pad and
// Dropout. A conv's kernel may be rectangular (k*k above reads KH*KW) and
// dilated (no effect on the count).
//
// A grouped conv (group G > 1; depthwise when G equals its input channels)
// is never pruned: self-grouping leaves it dense, and it counts dense with
// its groups, params = N*(C/G)*KH*KW (+ N with bias) and FLOPs =
// N*Hout*Wout*(C/G)*KH*KW. The table marks it "conv g=G" or "conv dw". A
// transposed conv (never pruned either) counts C*(N/G)*KH*KW params (+ N)
// and Hin*Win*C*(N/G)*KH*KW FLOPs.
//
// A network that cannot be lowered (a layer type package graph does not
// know) is refused with an error naming the layer.
package count
