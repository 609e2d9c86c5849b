#!/usr/bin/env bash
# Runs transfer of dense and self-grouped ResNet-56 to Fashion-MNIST (issue 8).
#
# Issue 8: do locally fine-tuned (L) self-grouped models transfer best?
# Sources: the pretrained ResNet-56 (dense) and its Conv-70 self-grouped
# versions from experiments/cifar.sh (stages r56-L, r56-G, r56-LG; run
# those first). Target: Fashion-MNIST (28x28 grey, zero-padded to 32x32,
# grey copied to 3 channels), a new dense 10-way head, masks kept fixed.
# Budget (far below the paper's 21 epochs on all 60k images): EPOCHS
# epochs over the first LIMIT training images, lr 0.01 divided by 10 from
# the last epoch, tested on the first TEST test images; seeds SEEDS.
#
#   bash experiments/transfer_r56.sh
#
# Results: runs/transfer/r56-<source>-fmnist-s<seed>.json, gathered into
# docs/results/transfer-r56.md. Finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
LIMIT=${LIMIT:-5000}
TEST=${TEST:-2000}
EPOCHS=${EPOCHS:-4}
SEEDS=${SEEDS:-1 2}
out=runs/transfer
mkdir -p "$out"
dense=$out/resnet56.safetensors
[ -f "$dense" ] || $bin import ../shared/models/cifar10/resnet56-4bfd9763.th --model resnet56 -o "$dense"
for s in $SEEDS; do
	for src in dense L G LG; do
		m=$dense
		[ $src = dense ] || m=runs/cifar/r56-$src-conv70/checkpoint.safetensors
		[ -f "$m" ] || { echo "missing source $m (run experiments/cifar.sh r56-$src)" >&2; exit 1; }
		j=$out/r56-$src-fmnist-s$s.json
		[ -f "$j" ] && continue
		$bin transfer "$m" --dataset fashion-mnist --train-limit "$LIMIT" --test-limit "$TEST" --epochs "$EPOCHS" \
			--lr 0.01 --milestones $((EPOCHS - 1)) --seed "$s" --json -o "$out/r56-$src-fmnist-s$s.safetensors" > "$j.tmp"
		mv "$j.tmp" "$j"
	done
done

# The table: Fashion-MNIST top-1 after the last epoch, per source and seed.
/usr/bin/python3 - "$LIMIT" "$TEST" "$EPOCHS" $SEEDS > docs/results/transfer-r56.md <<'PY'
import json, statistics, sys, datetime
limit, test, epochs, seeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
print("# ResNet-56 CIFAR-10 -> Fashion-MNIST: dense and Conv-70 self-grouped sources (issue 8)\n")
print(f"Command: `LIMIT={limit} TEST={test} EPOCHS={epochs} SEEDS=\"{' '.join(seeds)}\" bash experiments/transfer_r56.sh`, "
      f"written {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC. Transfer: new dense 10-way head, masks kept, "
      f"{epochs} epochs over the first {limit} Fashion-MNIST training images (3x32x32: zero-padded, grey "
      f"copied to 3 channels), SGD lr 0.01 divided by 10 for the last epoch, momentum 0.9, wd 5e-4, batch 128; "
      f"top-1 on the first {test} test images.\n")
src = {"dense": None, "L": "runs/cifar/r56-L-conv70/report.json", "G": "runs/cifar/r56-G-conv70/report.json",
       "LG": "runs/cifar/r56-LG-conv70/report.json"}
print("| source | how it was fine-tuned on CIFAR-10 | CIFAR-10 top-1 | pruned | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |")
print("|---|---|---:|---:|" + "---:|" * (len(seeds) + 1))
how = {"dense": "pretrained (akamaster)", "L": "1 local epoch after each of 7 steps",
       "G": "8 global epochs after the last step", "LG": "L, then 8 global epochs"}
for name, rep in src.items():
    acc = "93.39"
    if rep:
        d = json.load(open(rep))  # scheme L has no global phase, hence no final row
        acc = f"{(d.get('final') or d['steps'][-1])['acc_tuned']:.2f}"
    vals, frac = [], 0.0
    for s in seeds:
        d = json.load(open(f"runs/transfer/r56-{name}-fmnist-s{s}.json"))
        vals.append(d["final_test_top1"])
        frac = d["pruned_fraction"]
    print(f"| {name} | {how[name]} | {acc} | {100 * frac:.1f}% | " + " | ".join(f"{v:.2f}" for v in vals) +
          f" | {statistics.mean(vals):.2f} |")
PY
