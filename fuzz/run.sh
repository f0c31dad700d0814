#!/usr/bin/env bash
# make fuzz: run each libFuzzer target of BUILD (a -Dfuzz=true build) for
# SECONDS, one after the other. New inputs go to BUILD/fuzz-corpus/<t>,
# crashes to BUILD/fuzz-crashes/<t>; the checked-in corpus fuzz/corpus/<t>
# is read, never written (FUZZ_MERGE=1 merges what is new into it,
# minimized). Prints per target the executions, coverage (edges, features)
# and corpus size from libFuzzer's final report; ends with
# "N passed, N failed" (a target fails if it found a crash).
#
#   fuzz/run.sh BUILD SECONDS TARGET...
set -u
BUILD=$1
SECS=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
for t in "$@"; do
	bin=$BUILD/fuzz/fuzz-$t
	new=$BUILD/fuzz-corpus/$t
	crashes=$BUILD/fuzz-crashes/$t
	log=$BUILD/fuzz-$t.log
	mkdir -p "$new" "$crashes"
	dict=()
	[ -f "$HERE/$t.dict" ] && dict=(-dict="$HERE/$t.dict")
	echo "=== fuzz-$t: $SECS s"
	"$bin" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$crashes/" "${dict[@]}" \
		"$new" "$HERE/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[^ ]*\).*/\1/p')
	eps=$(echo "$last" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
	echo "fuzz-$t: ${execs:-?} executions (${eps:-?}/s), coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?}"
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "fuzz-$t FAILED (exit $rc): $(ls "$crashes" | head -5 | tr '\n' ' ')"
		grep -E -A12 'ERROR|check failed|runtime error' "$log" | head -40
	fi
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		"$bin" -merge=1 "$HERE/corpus/$t" "$new" >"$log.merge" 2>&1 &&
			echo "fuzz-$t: merged into fuzz/corpus/$t ($(ls "$HERE/corpus/$t" | wc -l) files)"
	fi
done
echo "${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
