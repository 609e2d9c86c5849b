// Package count counts parameters and FLOPs the way the self-grouping
// paper does (METHOD.md section 4), layer by layer. A FLOP is one
// multiply-accumulate.
//
// Only convs and fully connected layers (every nn.Prunable) count; BN,
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
// Shapes are inferred by walking the network, without running it, for
// every layer type of package nn; a layer of another type is asked through
// the Shaper interface or, failing that, run forward once on a zero batch of
// one.
package count
