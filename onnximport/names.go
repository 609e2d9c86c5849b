package onnximport

import (
	"strconv"
	"strings"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// nodeName picks a unique graph node name. A node with parameters whose
// weight initializer is named "prefix.weight" is named prefix (PyTorch's
// state_dict names); otherwise the name comes from the ONNX node name's
// module path, which torch writes as "/layer1/layer1.0/conv1/Conv": the
// module "layer1.0.conv1", then the op. Parameter nodes drop the op part,
// so that a Conv whose weights torch renamed (after folding a BatchNorm
// into it) still carries its module's name.
func (im *importer) nodeName(n *onnxpb.NodeProto, weight string) string {
	base := ""
	if p, ok := strings.CutSuffix(weight, ".weight"); ok && p != "" {
		base = sanitize(p)
	}
	if base == "" {
		path, op := modulePath(n)
		switch {
		case weight != "" && path != "":
			base = path
		case path != "" && op != "":
			base = path + "." + op
		case path != "":
			base = path
		default:
			base = op
		}
	}
	if base == "" {
		base = strings.ToLower(sanitize(n.OpType))
	}
	name := base
	for k := 2; im.names[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	im.names[name] = true
	return name
}

// modulePath splits a torch-style node name into its dotted module path and
// its last part (the op, as "Relu" or "Relu_1"). Names without slashes are
// the op part alone.
func modulePath(n *onnxpb.NodeProto) (path, op string) {
	parts := strings.Split(strings.Trim(n.Name, "/"), "/")
	op = sanitize(parts[len(parts)-1])
	for _, p := range parts[:len(parts)-1] {
		if p = sanitize(p); p == "" {
			continue
		}
		path = joinScope(path, p)
	}
	return path, op
}

// joinScope appends a scope part to a module path. torch writes each part
// relative to a parent whose own name it may repeat: "layer1" then
// "layer1.0", or "block" then "block.0" then "block.0.0"; a part that starts
// with a dotted tail of the path plus "." replaces that tail.
func joinScope(path, p string) string {
	if path == "" {
		return p
	}
	for i := 0; i <= len(path); i++ {
		if i > 0 && path[i-1] != '.' {
			continue
		}
		if strings.HasPrefix(p, path[i:]+".") {
			return path[:i] + p // the longest tail that p repeats
		}
	}
	return path + "." + p
}

// sanitize keeps letters, digits, '_', '.' and '-', replacing the rest.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	return strings.Trim(string(b), ".")
}
