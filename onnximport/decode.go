package onnximport

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// Field numbers of the official onnx.proto3 that the decoder handles by hand.
const (
	modelGraph       = 7 // ModelProto.graph
	graphInitializer = 5 // GraphProto.initializer
	tensorRawData    = 9 // TensorProto.raw_data
)

// model is a decoded ModelProto: the graph's initializers keep their
// raw_data as slices of the file's bytes (never copied), and the rest of the
// model is ordinary onnxpb messages.
type model struct {
	proto *onnxpb.ModelProto // without graph.initializer
	inits []*onnxpb.TensorProto
}

// unmarshal is how every message but the initializers' raw bytes is read:
// fields sgcnn does not know are dropped, not kept as copies.
var unmarshal = proto.UnmarshalOptions{DiscardUnknown: true}

// decode splits data into the model's messages. Initializers' raw_data
// alias data, so data must outlive the returned model's use.
func decode(data []byte) (*model, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	rest, graphs, err := splitField(data, modelGraph)
	if err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	m := &model{proto: &onnxpb.ModelProto{}}
	if err := unmarshal.Unmarshal(rest, m.proto); err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	switch len(graphs) {
	case 0:
		return nil, errors.New("ModelProto has no graph")
	case 1:
	default:
		return nil, fmt.Errorf("ModelProto holds %d graph fields, want one", len(graphs))
	}
	grest, inits, err := splitField(graphs[0], graphInitializer)
	if err != nil {
		return nil, fmt.Errorf("GraphProto: %w", err)
	}
	m.proto.Graph = &onnxpb.GraphProto{}
	if err := unmarshal.Unmarshal(grest, m.proto.Graph); err != nil {
		return nil, fmt.Errorf("GraphProto: %w", err)
	}
	m.inits = make([]*onnxpb.TensorProto, len(inits))
	for i, b := range inits {
		t, err := decodeTensor(b)
		if err != nil {
			return nil, fmt.Errorf("GraphProto.initializer[%d]: %w", i, err)
		}
		m.inits[i] = t
	}
	return m, nil
}

// decodeTensor reads a TensorProto whose raw_data stays a slice of b.
func decodeTensor(b []byte) (*onnxpb.TensorProto, error) {
	rest, raws, err := splitField(b, tensorRawData)
	if err != nil {
		return nil, err
	}
	t := &onnxpb.TensorProto{}
	if err := unmarshal.Unmarshal(rest, t); err != nil {
		return nil, err
	}
	if len(raws) > 0 {
		t.RawData = raws[len(raws)-1] // protobuf: the last scalar wins
	}
	return t, nil
}

// splitField walks the top-level fields of a message. The values of field
// num (which must be length-delimited) come back as slices of b; every other
// field is copied, whole, into rest.
func splitField(b []byte, num protowire.Number) (rest []byte, vals [][]byte, err error) {
	for off := 0; off < len(b); {
		n, typ, tl := protowire.ConsumeTag(b[off:])
		if tl < 0 {
			return nil, nil, fmt.Errorf("byte %d: %w (truncated or not an ONNX file)", off, protowire.ParseError(tl))
		}
		vl := protowire.ConsumeFieldValue(n, typ, b[off+tl:])
		if vl < 0 {
			return nil, nil, fmt.Errorf("byte %d, field %d: %w (truncated or not an ONNX file)", off, n, protowire.ParseError(vl))
		}
		if n == num {
			if typ != protowire.BytesType {
				return nil, nil, fmt.Errorf("byte %d: field %d has wire type %d, want length-delimited", off, n, typ)
			}
			v, _ := protowire.ConsumeBytes(b[off+tl:])
			vals = append(vals, v)
		} else {
			rest = append(rest, b[off:off+tl+vl]...)
		}
		off += tl + vl
	}
	return rest, vals, nil
}

// IsONNX reports whether head, the first bytes of a file, looks like an
// ONNX ModelProto: it must start with ir_version (field 1, a small varint,
// which every ONNX writer puts first), and every field that head holds
// whole must be one of ModelProto's with its wire type.
func IsONNX(head []byte) bool {
	for off, first := 0, true; off < len(head); first = false {
		n, typ, tl := protowire.ConsumeTag(head[off:])
		if tl < 0 {
			// Only a head that ends inside the tag may fail here.
			return !first && errors.Is(protowire.ParseError(tl), io.ErrUnexpectedEOF)
		}
		want, ok := modelFields[n]
		if !ok || want != typ || (first && n != 1) {
			return false
		}
		if first {
			v, vl := protowire.ConsumeVarint(head[off+tl:])
			if vl < 0 || v < 1 || v > 100 {
				return false
			}
		}
		vl := protowire.ConsumeFieldValue(n, typ, head[off+tl:])
		if vl < 0 {
			// The field runs past head: fine, head is only the start.
			return !first && typ == protowire.BytesType
		}
		off += tl + vl
	}
	return len(head) > 0
}

// modelFields are ModelProto's field numbers and wire types.
var modelFields = map[protowire.Number]protowire.Type{
	1:  protowire.VarintType, // ir_version
	2:  protowire.BytesType,  // producer_name
	3:  protowire.BytesType,  // producer_version
	4:  protowire.BytesType,  // domain
	5:  protowire.VarintType, // model_version
	6:  protowire.BytesType,  // doc_string
	7:  protowire.BytesType,  // graph
	8:  protowire.BytesType,  // opset_import
	14: protowire.BytesType,  // metadata_props
	20: protowire.BytesType,  // training_info
	25: protowire.BytesType,  // functions
}
