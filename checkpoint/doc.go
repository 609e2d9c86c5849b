// Package checkpoint reads and writes sgcnn's native checkpoint format,
// safetensors, and provides the atomic file write that every sgcnn output
// (checkpoints, reports, exports) goes through.
//
// # Format
//
// A safetensors file (https://github.com/huggingface/safetensors) is:
//
//	8 bytes   N, the header length, unsigned little-endian
//	N bytes   a JSON object, UTF-8, padded with spaces:
//	            {"__metadata__": {"key": "value", ...},
//	             "conv1.weight": {"dtype": "F32", "shape": [16, 3, 3, 3],
//	                              "data_offsets": [begin, end]}, ...}
//	rest      the tensors' bytes, little-endian, row-major; offsets count
//	          from the first byte after the header
//
// Load insists on a well-formed file: offsets inside the data, tensors
// packed back to back with no gap or overlap and covering the data exactly,
// and each byte range exactly the size its dtype and shape need. Every error
// is an *Error naming the file and, where there is one, the tensor.
//
// # Types
//
// Save writes float tensors as F32 and integer tensors as I64. Load converts
// F16, BF16 and F64 to float32 (Names, Tensors) and I64, I32, I16, I8, U8
// and BOOL to int64 (IntNames, Ints); other dtypes are refused. Names and
// IntNames follow the order of the tensors' data in the file, which for
// files written by Save is the order they were given in.
package checkpoint
