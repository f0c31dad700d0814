#!/usr/bin/env bash
# The scenario examples of docs/scenarios.md (examples/*.scen), each
# against the real program its "# command:" line names, under
# devlife-run: each must pass every assertion, and docs/scenarios.md
# must show each file as it is. Then: one example (or those of
# DL_SCEN_REPEAT_EXAMPLES, "all") run DL_SCEN_REPEAT times (20 unless
# told) gives the same verdicts every time; a bad file
# runs nothing (exit 2, "FILE:LINE: message", COMMAND not started); a
# scenario asserting the unsafe outcome fails (exit 1); devlifectl
# scenario against a running daemon.
. "$(dirname "$0")/../fs/lib.sh"
require_env
[ "$(id -u)" -eq 0 ] || skip_all "needs root (devlife-run's namespace, nsenter)"
[ -x "${DEVLIFE_RUN:-}" ] || { echo "Bail out! DEVLIFE_RUN not set"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
EX=$HERE/examples
DOC=$HERE/../../docs/scenarios.md
REPEAT=${DL_SCEN_REPEAT:-20}

# scen FILE COMMAND: run FILE against COMMAND (a shell line); the report
# in $WORK/report; returns devlife-run's status
scen() { timeout 120 "$DEVLIFE_RUN" --scenario "$1" -- sh -c "$2" >"$WORK/out" 2>"$WORK/report"; }
# the verdicts of the last report, without what changes from run to run
verdicts() { grep -E '^(pass|FAIL|result) ' "$WORK/report" | sed -E 's/pid [0-9]+/pid N/'; }
command_of() { sed -n 's/^# command: //p' "$1"; }
# no sanitizer report from the daemon (its stderr is in the report)
clean() { ! grep -qE 'Sanitizer|runtime error|devlife: fatal' "$WORK/report"; }
in_doc() { python3 -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' "$1" "$DOC"; }

n=0
for f in "$EX"/*.scen; do
	name=$(basename "$f" .scen)
	n=$((n + 1))
	scen "$f" "$(command_of "$f")"
	st=$?
	passed=$(sed -n 's/^result \([0-9]*\) passed, 0 failed$/\1/p' "$WORK/report")
	if [ "$st" -eq 0 ] && [ "${passed:-0}" -ge 3 ] && ! grep -q '^FAIL' "$WORK/report" && clean; then
		ok "$name: $passed assertions pass against '$(command_of "$f" | cut -c1-40)...'"
	else
		not_ok "$name: devlife-run exited $st"
		diag <"$WORK/report"
	fi
	check "$name: docs/scenarios.md shows the file as it is" in_doc "$f"
done
expect_eq "five examples" "$n" 5

# Determinism: the same verdicts on every run (DL_SCEN_REPEAT_EXAMPLES:
# which examples, "all" for every one; eject-shell-loop unless told).
for name in ${DL_SCEN_REPEAT_EXAMPLES:-eject-shell-loop}; do
	[ "$name" = all ] && name=$(cd "$EX" && ls *.scen | sed 's/\.scen$//')
	for x in $name; do
		f=$EX/$x.scen
		scen "$f" "$(command_of "$f")"
		verdicts >"$WORK/first"
		same=0
		for i in $(seq "$REPEAT"); do
			scen "$f" "$(command_of "$f")"
			if verdicts | cmp -s - "$WORK/first" && clean; then
				same=$((same + 1))
			else
				echo "# run $i differs:"; verdicts | diag
			fi
		done
		expect_eq "$x: $REPEAT runs, the same verdicts each time" "$same" "$REPEAT"
		check "and those verdicts are passes" grep -q '^result [1-9][0-9]* passed, 0 failed$' "$WORK/first"
	done
done

# The timeline shows the held read as a span on its device's track, with
# the removal it held up beginning inside it.
f=$EX/eject-shell-loop.scen
scen "$f" "$(command_of "$f"); '$DEVLIFECTL' trace --format=json >'$WORK/t.json'; '$DEVLIFECTL' trace >'$WORK/t.txt'"
check "the trace text shows the scenario's steps, hold and verdicts" \
	grep -qE '0000:00:03.0 +scen-hold +line=5' "$WORK/t.txt"
check "the JSON timeline: a held span, the removal beginning inside it" python3 -c '
import json, sys
evs = json.load(open(sys.argv[1]))["traceEvents"]
tid = [e["tid"] for e in evs if e.get("ph") == "M" and e["args"].get("name") == "0000:00:03.0"][0]
held = [e for e in evs if e.get("ph") == "X" and e["name"] == "held" and e["tid"] == tid]
rem = [e for e in evs if e.get("ph") == "B" and e["name"] == "removal" and e["tid"] == tid]
assert len(held) == 1 and held[0]["dur"] > 0 and held[0]["args"]["line"] == 5, held
assert rem and held[0]["ts"] < rem[0]["ts"] < held[0]["ts"] + held[0]["dur"], (held, rem)
' "$WORK/t.json"

# Each kind of rule, end to end: fail and delay on operations, a pid
# filter, a tree event and a host event starting tree actions.
cat >"$WORK/features.scen" <<'SCEN'
on open /sys/devices/*/0000:00:05.0/vendor as f: fail EIO
on read /sys/devices/*/0000:00:03.0/device comm cat as d: delay 20ms
on read /sys/devices/*/0000:00:03.0/device pid 1 as init: fail EIO
on add 0000:01:18.0 as vf: surprise 0000:01:00.1
on host-surprise 0000:01:00.1 as hs: eject 0000:00:04.0
await f
await d
expect f = EIO
expect d = 7
numvfs 0000:01:00.0 1
await vf
await hs
wait dead 0000:01:00.1
wait dead 0000:00:04.0
expect present 0000:01:18.0
expect absent 0000:01:00.1
expect absent 0000:00:04.0
expect no host-eject 0000:00:03.0
SCEN
scen "$WORK/features.scen" "cat /sys/bus/pci/devices/0000:00:05.0/vendor; cat /sys/bus/pci/devices/0000:00:03.0/device"
expect_eq "fail, delay, pid, tree and host triggers: all pass" "$? $(sed -n 's/^result //p' "$WORK/report")" "0 6 passed, 0 failed"
check "the program saw the injected EIO" grep -q "0000:00:05.0/vendor'\?: Input/output error" "$WORK/report"
check "and the delayed read its text (not pid 1's rule: EIO)" grep -qx '0x1000\|0x1041' "$WORK/out"

# The bus's own files are operations too: a rule fails the rescan and
# the drivers_probe writes, and the rescan then finds nothing again.
cat >"$WORK/bus.scen" <<'SCEN'
on write /sys/bus/pci/rescan as r: fail EIO
on write /sys/bus/pci/drivers_probe as p: fail EIO
await r
await p
expect r = EIO
expect p = EIO
SCEN
scen "$WORK/bus.scen" "echo 1 > /sys/bus/pci/devices/0000:00:05.0/remove; echo 1 > /sys/bus/pci/rescan; [ -e /sys/bus/pci/devices/0000:00:05.0 ] || echo still-gone; echo 0000:00:03.0 > /sys/bus/pci/drivers_probe"
expect_eq "rescan and drivers_probe writes failed by rules" "$? $(sed -n 's/^result //p' "$WORK/report")" "0 2 passed, 0 failed"
# (dash says "echo: I/O error", naming no file: both writes, counted)
expect_eq "the program saw both writes fail with EIO" "$(grep -cE 'I/O error|Input/output error' "$WORK/report")" 2
check "and the failed rescan found nothing" grep -qx still-gone "$WORK/out"

# A bad file: nothing runs.
printf 'on read */config as r: hold\nawait r\nexpect r = EWHAT\n' >"$WORK/bad.scen"
scen "$WORK/bad.scen" "touch $WORK/ran"
expect_eq "a bad file: exit 2" "$?" 2
check "with FILE:LINE: message" grep -q "^devlife-run: EINVAL $WORK/bad.scen:3: 'EWHAT' is not an errno name" "$WORK/report"
check "and COMMAND never started" test ! -e "$WORK/ran"

# The unsafe outcome asserted: the verdict says so.
sed 's/^expect r = 7 .*/expect r = ENODEV/' "$EX/eject-shell-loop.scen" >"$WORK/wrong.scen"
f=$EX/eject-shell-loop.scen
scen "$WORK/wrong.scen" "$(command_of "$f")"
expect_eq "a failed assertion: exit 1" "$?" 1
check "reported FAIL with what it got" grep -q "^FAIL $WORK/wrong.scen:12: expect r = ENODEV (got 7 (ok))" "$WORK/report"

# devlifectl scenario against a running daemon (its own devlife-run)
cat >"$WORK/ctl.scen" <<'SCEN'
numvfs 0000:01:00.0 2
wait add 0000:01:18.0
expect present 0000:01:18.0
eject 0000:01:00.1
wait dead 0000:01:00.1
expect absent 0000:01:00.1
expect present 0000:01:00.0
SCEN
timeout 120 "$DEVLIFE_RUN" -- sh -c "'$DEVLIFECTL' scenario '$WORK/ctl.scen'; echo status \$?; '$DEVLIFECTL' scenario '$WORK/bad.scen'; echo status \$?" >"$WORK/out" 2>"$WORK/report"
expect_eq "devlifectl scenario: 3 passed, exit 0" "$(grep -c '^pass ' "$WORK/out") $(sed -n 's/^status //p' "$WORK/out" | head -1)" "3 0"
expect_eq "devlifectl scenario with a bad file: exit 2" "$(sed -n 's/^status //p' "$WORK/out" | tail -1)" 2
finish
