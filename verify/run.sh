#!/usr/bin/env bash
# make verify: Spin's full state-space search of verify/removal.pml
# (docs/reliability.md) for the safety assertions and invalid end states
# (deadlock), in two configurations, then each mutant of the model, each
# of which must be caught. Prints one TAP line per run and ends with
# "N passed, N failed, N skipped".
#
#   verify/run.sh [--quick] [--tap]
#     --quick: skip the larger configuration
#     --tap:   TAP alone, for meson (the suite 'model' of make check):
#              no summary line; without spin, the run is skipped with
#              its reason unless DL_REQUIRE_ALL=1 (CI), where it fails.
set -u
cd "$(dirname "$0")"
QUICK=0
TAP=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--tap) TAP=1 ;;
	*) echo "usage: $0 [--quick] [--tap]" >&2; exit 2 ;;
	esac
done
if ! command -v spin >/dev/null; then
	if [ $TAP = 1 ] && [ "${DL_REQUIRE_ALL:-0}" != 1 ]; then
		echo "1..0 # SKIP spin is not installed (apt-get install spin)"
		exit 0
	fi
	echo "Bail out! the model check needs spin: apt-get install -y spin"
	exit 1
fi
CC=${CC:-cc}
WORK=$(mktemp -d /tmp/devlife-verify.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
n=0

# run NAME EXPECT(holds|caught) [spin -D flags...]
run() {
	local name=$1 expect=$2 dir out errors states t0 ms verdict
	shift 2
	dir=$WORK/$name
	mkdir -p "$dir"
	cp removal.pml "$dir/"
	if ! (cd "$dir" && spin "$@" -a removal.pml >spin.log 2>&1 &&
	      $CC -O2 -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1); then
		n=$((n + 1))
		echo "not ok $n - $name: the model does not build"
		cat "$dir"/spin.log "$dir"/cc.log 2>/dev/null | head -20 | sed "s/^/# /"
		fail=$((fail + 1))
		return
	fi
	t0=$(date +%s%N)
	out=$(cd "$dir" && ./pan -m1000000 -w26 2>&1)
	ms=$((($(date +%s%N) - t0) / 1000000))
	errors=$(echo "$out" | sed -n 's/.*errors: \([0-9]*\).*/\1/p')
	states=$(echo "$out" | awk '/states, stored/ { print $1 }')
	if [ "$expect" = holds ]; then
		if [ "$errors" = 0 ] && echo "$out" | grep -q 'invalid end states	+' &&
		   ! echo "$out" | grep -q 'search not completed'; then
			verdict=ok
		else
			verdict="not ok"
		fi
	else
		[ -n "$errors" ] && [ "$errors" -gt 0 ] && verdict=ok || verdict="not ok"
	fi
	n=$((n + 1))
	printf '%s %d - %-28s %-7s %10s states %3d.%d s  %s\n' "$verdict" "$n" "$name" \
		"$expect" "$states" $((ms / 1000)) $((ms % 1000 / 100)) \
		"$(echo "$out" | grep -m1 -E '^pan:1: (assertion violated|invalid end state)' | sed 's/^pan:1: //')"
	if [ "$verdict" = ok ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "$out" | head -30 | sed 's/^/# /'
	fi
}

echo "# the protocol: every assertion holds, no invalid end state"
run model holds
[ $QUICK = 1 ] || run model-7-processes holds -DMORE
echo "# mutants: each removes a protection and must be caught"
run no-gate-check caught -DNO_GATE_CHECK
run add-no-enter-no-state-check caught -DNO_ADD_ENTER -DNO_ADD_STATE_CHECK
run no-single-winner caught -DNO_SINGLE_WINNER
run no-state-wait caught -DNO_STATE_WAIT
run self-remove-keeps-ref caught -DSELF_REMOVE_KEEPS_REF
echo "# one protection of the child add alone is enough"
run add-no-enter holds -DNO_ADD_ENTER
run add-no-state-check holds -DNO_ADD_STATE_CHECK
echo "# the removal's later walks find nothing new unless add skips its state check"
run second-walk-idle holds -DASSERT_SECOND_WALK_IDLE
run second-walk-needed caught -DASSERT_SECOND_WALK_IDLE -DNO_ADD_STATE_CHECK
echo "1..$n"
if [ $TAP = 0 ]; then
	[ -n "${DL_SUMMARY_FILE:-}" ] && echo "$pass $fail 0" >>"$DL_SUMMARY_FILE"
	echo "${pass} passed, ${fail} failed, 0 skipped"
fi
[ "$fail" -eq 0 ]
