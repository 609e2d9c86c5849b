#!/usr/bin/env bash
# Collects a finished predeclared run of issue 21 (docs/RESULTS.md section 9) for the record, as its
# reporting rule asks: the run's log, report and final weights under docs/results/predeclared/, the
# paired (exact McNemar) test against the dense model, and a summary of the figures the rule reports.
#
#   bash experiments/issue21_finalize.sh r56-predeclared-conv62 [DEPTH]   # DEPTH: the dense ResNet (default 56)
#
# It reads only what the run wrote (runs/NAME/report.json, its final checkpoint, runs/logs/NAME.log);
# it chooses nothing. The test top-1 it prints from report.json is the one the run printed at its end
# (the test set's one evaluation); the paired test recomputes the pruned network's top-1 in PyTorch as
# a check. Refuses a run without report.json (unfinished), and never overwrites a collected run.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: issue21_finalize.sh RUN_NAME [DEPTH]}
depth=${2:-56}
run=runs/$name
dst=docs/results/predeclared
if [ ! -f "$run/report.json" ]; then
	echo "issue21_finalize: $run/report.json not found: the run is not finished" >&2
	exit 1
fi
if [ -e "$dst/$name.json" ]; then
	echo "issue21_finalize: $dst/$name.json exists: this run was collected already" >&2
	exit 1
fi
mkdir -p "$dst"
[ -x bin/sgcnn ] || go build -o bin/sgcnn ./cmd/sgcnn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The paired test first: nothing is copied unless every step works.
bin/sgcnn export --weights "$run/checkpoint.safetensors" --format torch -o "$tmp/pruned.pt"
/usr/bin/python3 experiments/paired_test.py "$tmp/pruned.pt" --depth "$depth" --json "$tmp/paired.json"
cp "$run/report.json" "$dst/$name.json"
[ -f "$run/report.md" ] && cp "$run/report.md" "$dst/$name.md"
cp "$run/checkpoint.safetensors" "$dst/$name.safetensors"
cp "runs/logs/$name.log" "$dst/$name.log"
cp "$tmp/paired.json" "$dst/$name-paired.json"
/usr/bin/python3 - "$dst/$name.json" "$dst/$name-paired.json" <<'EOF'
import json, sys
r, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
f = r.get("final") or {}
print(f"model {r['model']}: conv rate {f.get('rate')}, FLOPs {f.get('flops')} ({f.get('flops_reduction', 0):.3f}x fewer), "
      f"params {f.get('params')} ({f.get('compression', 0):.3f}x fewer)")
print(f"validation top-1 of the kept model: {f.get('acc_tuned')} (on {r.get('validation')})")
print(f"test top-1 (the run's one evaluation): {r.get('final_test_top1')}")
print(f"choices: {json.dumps(r.get('choices'))}")
print(f"paired test vs dense: {json.dumps(p)}")
EOF
echo "issue21_finalize: collected in $dst/ (commit it, then fill in docs/RESULTS.md section 9)"
