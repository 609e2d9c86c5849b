#!/usr/bin/env bash
# Carries issue 21's predeclared runs (docs/RESULTS.md section 9) across machines. A session's machine
# keeps only what is committed, so an unfinished run folder under runs/ (gitignored) would be lost with it,
# and the run could then only start again. At a session's end `save` copies each unfinished run's state
# (its checkpoint, teacher and any other file of the folder but the lock) and its log into
# experiments/inflight/<name>/, to be committed; on the next machine `restore` (which issue21_runs.sh
# calls) puts them back where they were, and the run goes on with --resume: the same run.
#
#   bash experiments/issue21_carry.sh save      # stops nothing: checkpoints are written by rename
#   bash experiments/issue21_carry.sh restore   # only where runs/<name> is missing
set -euo pipefail
cd "$(dirname "$0")/.."
names="r56-predeclared-conv62 r20-predeclared-conv51 r56-predeclared-conv70"
store=experiments/inflight

case ${1:-} in
save)
	for n in $names; do
		src=runs/$n
		[ -f "$src/checkpoint.safetensors" ] && [ ! -f "$src/report.json" ] || continue
		rm -rf "$store/$n.new" && mkdir -p "$store/$n.new"
		find "$src" -maxdepth 1 -type f ! -name lock ! -name '*.tmp*' -exec cp -p {} "$store/$n.new/" \;
		[ -f "runs/logs/$n.log" ] && cp -p "runs/logs/$n.log" "$store/$n.new/run.log"
		rm -rf "${store:?}/$n" && mv "$store/$n.new" "$store/$n"
		echo "issue21_carry: saved $src ($(du -sh "$store/$n" | cut -f1)) to $store/$n"
	done
	# A finished run's carried state is no longer needed.
	for n in $names; do
		[ -f "runs/$n/report.json" ] && [ -d "$store/$n" ] && rm -rf "${store:?}/$n" && echo "issue21_carry: $n finished, dropped $store/$n"
	done
	true
	;;
restore)
	for n in $names; do
		[ -d "$store/$n" ] && [ ! -e "runs/$n" ] || continue
		mkdir -p "runs/$n" runs/logs
		find "$store/$n" -maxdepth 1 -type f ! -name run.log -exec cp -p {} "runs/$n/" \;
		[ -f "$store/$n/run.log" ] && [ ! -f "runs/logs/$n.log" ] && cp -p "$store/$n/run.log" "runs/logs/$n.log"
		echo "issue21_carry: restored runs/$n from $store/$n"
	done
	;;
*)
	echo "usage: bash experiments/issue21_carry.sh save|restore" >&2
	exit 2
	;;
esac
