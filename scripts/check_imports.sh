#!/usr/bin/env bash
# Checks sgcnn's layering (docs: ARCHITECTURE.md, STYLE.md's "Layout"): every package sits on a floor, and a
# package may import only packages on lower floors: never one above it, never one beside it. Only non-test
# imports are checked (a test may reach up for a reference, e.g. compile's tests prune with pipeline).
# Like gonum's script.d/check-imports.sh, it runs in CI (scripts/test.sh) and fails on:
#   - an import that is not down (and not a known exception below),
#   - a package with no floor in the table (place a new package before it lands).
# A known exception that no longer occurs is reported so that it can be deleted; it does not fail.
set -euo pipefail
cd "$(dirname "$0")/.."
module=$(go list -m)

# Floors, low to high. A path ending in /... covers the folder and everything under it; the longest match wins.
floors='
0 internal/kernel/... internal/kmeans internal/parallel internal/cpuload internal/cpuinfo internal/maskgroup internal/atomicfile internal/onnxpb internal/units internal/progress
1 tensor
2 data checkpoint pytorch
3 nn
4 graph optim nn/nntest
5 modelfile
6 models onnximport count compile selfgroup
7 prune budget
8 train report export/... quant detect
9 torchtrain
10 pipeline swa transfer
11 .
12 serve
13 cmd/sgcnn/cli
14 cmd/sgcnn bench/... experiments/... scripts/... e2e export/onnx/ort/orttest
'
# data, checkpoint and pytorch: tensor only; modelfile: tensor and graph (STYLE.md), on the floor above
# graph and below models, which builds a network from a file's parts (models.LoadFile). torchtrain drives train's epochs on PyTorch and pipeline drives it, hence a floor between them. optim sits with graph:
# it updates nn parameters. detect is an application of the
# compiled engine. pipeline runs train and maps results to report rows, hence a floor above them; swa and
# transfer drive train too. The module root (.) is the front door, package sgcnn. serve sits with the
# commands at the top, one floor below the command line that starts it. cmd/sgcnn/cli is the command line, next to
# its command (issue 20); internal/ holds only the ground floor.

# Imports against the floors, or against a rule of STYLE.md, known today: "importer importee  reason".
# Delete a line when its import goes; never add one without the lead's word.
known='
'
# Downward imports forbidden all the same: "importer importee". STYLE.md: compile never imports selfgroup;
# issue 20: export reads a layer's groups from internal/maskgroup, not from the method.
forbidden='
compile selfgroup
export/onnx selfgroup
export/torchexport selfgroup
'

# Only packages git tracks: an ignored scratch folder is no package of the project.
pkgs=$(git ls-files '*.go' | grep -v '^internal/kernel/_asm/' | xargs -n1 dirname | sort -u | sed 's|^|./|')
# shellcheck disable=SC2086
go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' $pkgs | awk -v mod="$module" -v floors="$floors" -v known="$known" -v forbidden="$forbidden" '
function rel(p) { if (p == mod) return "."; if (index(p, mod "/") == 1) return substr(p, length(mod) + 2); return "" }
function floor(p,   best, bl, pat, base) {
	best = -1; bl = -1
	for (pat in fl) {
		base = pat; sub(/\/\.\.\.$/, "", base)
		if (p == base || (pat ~ /\/\.\.\.$/ && index(p, base "/") == 1)) {
			if (length(base) > bl) { bl = length(base); best = fl[pat] }
		}
	}
	return best
}
BEGIN {
	n = split(floors, lines, "\n")
	for (i = 1; i <= n; i++) { k = split(lines[i], f, " "); for (j = 2; j <= k; j++) fl[f[j]] = f[1] + 0 }
	n = split(known, lines, "\n")
	for (i = 1; i <= n; i++) { if (split(lines[i], f, " ") >= 2) ok[f[1] " " f[2]] = 1 }
	n = split(forbidden, lines, "\n")
	for (i = 1; i <= n; i++) { if (split(lines[i], f, " ") >= 2) bad[f[1] " " f[2]] = 1 }
	fail = 0
}
{
	from = rel($1); ff = floor(from)
	if (ff < 0) { printf "check_imports: package %s has no floor: add it to scripts/check_imports.sh\n", from; fail = 1; next }
	for (i = 2; i <= NF; i++) {
		to = rel($i)
		if (to == "") continue
		tf = floor(to)
		why = ""
		if (tf < 0) continue # reported as an importer itself
		if (tf >= ff) why = sprintf("floor %d imports floor %d", ff, tf)
		else if ((from " " to) in bad) why = "a forbidden import, see scripts/check_imports.sh"
		if (why == "") continue
		if ((from " " to) in ok) { seen[from " " to] = 1; continue }
		printf "check_imports: %s imports %s (%s)\n", from, to, why
		fail = 1
	}
}
END {
	for (e in ok) if (!(e in seen)) printf "check_imports: known exception \"%s\" no longer occurs: delete it from scripts/check_imports.sh\n", e
	exit fail
}'
