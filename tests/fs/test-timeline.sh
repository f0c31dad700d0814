#!/usr/bin/env bash
# The timeline: devlifectl trace as text (relative times, decoded
# arguments) and as the Trace Event format, checked against the raw
# records by timeline-check.py.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
PF=0000:01:00.0

check "four VFs" bash -c "echo 4 > '$D/$PF/sriov_numvfs'"
check "eject 00:04.0" CTL eject 0000:00:04.0
check "surprise 00:02.0" CTL surprise 0000:00:02.0
check "the PF with its VFs ejected" CTL eject $PF
# a subtree removal: each VF's removal span lies inside the PF's
# the raw records first: the other views hold them (and perhaps a later
# deferred release), which timeline-check.py compares
check "three views of the trace" bash -c "CTL() { \"\$DEVLIFECTL\" -s '$SOCK' \"\$@\"; }
	CTL trace --raw >'$WORK/t.raw' && CTL trace --format=json >'$WORK/t.json' &&
	CTL trace >'$WORK/t.txt' && CTL trace --format=text >'$WORK/t2.txt'"
check "--format=text is the default" bash -c "head -n $(wc -l <"$WORK/t.raw") '$WORK/t.txt' | cmp - <(head -n $(wc -l <"$WORK/t.raw") '$WORK/t2.txt')"
check "the timeline matches the records" python3 "$(dirname "$0")/timeline-check.py" "$WORK/t.json" "$WORK/t.raw" "$WORK/t.txt"
check "the surprise removal is decoded" grep -Eq '^ *[0-9]+\.[0-9]{6}  0000:00:02.0 +remove-start +mode=surprise$' "$WORK/t.txt"
check "the eject's drain is a span" python3 -c "
import json, sys
ev = json.load(open('$WORK/t.json'))['traceEvents']
tid = [e['tid'] for e in ev if e['ph'] == 'M' and e['args'].get('name') == '0000:00:04.0'][0]
sys.exit(not [e for e in ev if e['ph'] == 'B' and e['name'] == 'drain' and e['tid'] == tid])"
check "json cannot follow" bash -c "! CTL() { :; }; ! '$DEVLIFECTL' -s '$SOCK' trace --format=json --follow"
check "an unknown format is refused" bash -c "'$DEVLIFECTL' -s '$SOCK' trace --format=xml 2>&1 | grep -q 'unknown format'"
stop_daemon
finish
