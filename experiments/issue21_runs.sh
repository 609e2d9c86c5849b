#!/usr/bin/env bash
# Runs issue 21's three predeclared runs (docs/RESULTS.md section 9) in order, resuming an interrupted one.
#
#   bash experiments/issue21_runs.sh        # in the background: nohup bash experiments/issue21_runs.sh &
#
# Each run's command is the one section 9 declares, run with the binary bin/sgcnn-r56, built here from commit
# 9890b68 (the one that settled section 9) when missing.
# A run folder that holds report.json, or whose report issue21_finalize.sh collected into
# docs/results/predeclared/ (on an earlier machine), is finished and skipped; one that holds a checkpoint is resumed with
# --resume (the same run); otherwise the run starts. Logs go to runs/logs/<name>.log (appended). An unfinished
# run saved by `bash experiments/issue21_carry.sh save` (committed at a session's end) is restored first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/sgcnn-r56
if [ ! -x "$bin" ]; then # built once per machine from the commit that settled section 9
	src=$(mktemp -d)/r56
	git worktree add -f "$src" 9890b68 >/dev/null
	(cd "$src" && go build -o "$OLDPWD/$bin" ./cmd/sgcnn)
	git worktree remove --force "$src"
fi
mkdir -p runs/logs
bash experiments/issue21_carry.sh restore # a run carried over from another machine

# run NAME ARGS...: start or resume runs/NAME with ARGS (the predeclared flags).
run() {
	local name=$1; shift
	local out=runs/$name log=runs/logs/$name.log
	while pgrep -f -- "--out $out( |$)" >/dev/null; do sleep 60; done # already running (started by hand)
	if [ -f "$out/report.json" ]; then
		echo "issue21_runs: $name is finished ($out/report.json)"
		return
	fi
	if [ -f "docs/results/predeclared/$name.json" ]; then # finished and collected on another machine
		echo "issue21_runs: $name is finished and collected (docs/results/predeclared/$name.json)"
		return
	fi
	if [ -f "$out/checkpoint.safetensors" ]; then
		echo "issue21_runs: resuming $name ($(date -u +%FT%TZ))" | tee -a "$log"
		"$bin" prune --out "$out" --resume >>"$log" 2>&1
	else
		echo "issue21_runs: starting $name ($(date -u +%FT%TZ))" | tee -a "$log"
		"$bin" prune "$@" --out "$out" >>"$log" 2>&1
	fi
}

run r56-predeclared-conv62 --model resnet56 --rate 62 --rates 10,20,30,40,50,60,62 --recipe best --global-epochs 60 --seed 1 --threads 2
run r20-predeclared-conv51 --model resnet20 --rate 51 --rates 10,20,30,40,50,51 --recipe best --global-epochs 60 --seed 1 --threads 2
run r56-predeclared-conv70 --model resnet56 --rate 70 --step 10 --recipe best --global-epochs 60 --seed 1 --threads 2
