// Package pytorch reads PyTorch checkpoints (".pth", ".pt", ".th" files
// written by torch.save) into an ordered state dict, and writes state dicts
// back in PyTorch's zip format.
//
// # Formats
//
// Two on-disk formats exist, and Load tells them apart by their first bytes:
//
//   - Zip (torch >= 1.6, the default since): a stored (uncompressed) zip
//     archive with one top-level directory, holding <dir>/data.pkl (the
//     pickled object, in which every storage is a persistent id) and one file
//     <dir>/data/<key> of raw little-endian bytes per storage.
//   - Legacy (torch < 1.6, or _use_new_zipfile_serialization=False): five
//     concatenated pickles (magic number, protocol version, sys_info, the
//     object, the list of storage keys), then for each key an int64 element
//     count and the raw storage bytes.
//
// # Safety
//
// Unpickling uses github.com/nlpodyssey/gopickle with a restricted class
// resolver: only the handful of globals that a state dict needs (see
// allowedGlobals) may appear, and any other one is refused with an error
// that names the file and the class. (gopickle itself resolves three
// harmless names before asking: collections.OrderedDict, and
// __builtin__.object and copy_reg._reconstructor, which only build inert
// placeholder objects; the GLOBAL opcodes that protocol-2 files use are
// checked by the scanner, so only a protocol-4 STACK_GLOBAL can reach
// those two.) Before gopickle sees a pickle, a small
// opcode scanner checks that every length-prefixed argument fits inside the
// input, so corrupt lengths cannot make gopickle allocate gigabytes. Any
// panic inside gopickle is turned into an *Error. Tensor views are bounds
// checked against their storage before any data is copied.
//
// # What a StateDict holds
//
// Floating-point tensors (float16, bfloat16, float32, float64) are converted
// to float32 and kept, in file order, in Names and Tensors. Integer and bool
// tensors, such as BatchNorm's int64 num_batches_tracked, are kept apart in
// IntNames and Ints as int64 values, so that code iterating Names sees only
// float tensors. Non-tensor values in the state dict (rare) are skipped and
// listed in Skipped. A leading "module." (left by nn.DataParallel) is
// stripped from every name.
package pytorch
