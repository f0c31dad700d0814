#!/usr/bin/env bash
# Draws docs/timeline-s4.svg from a real run of seed S4 (a PF removed
# while a writer is inside its sriov_numvfs): a PF whose sriov_configure
# takes 200 ms; `echo 0 > sriov_numvfs` (taking its four VFs away) is
# inside it when the host ejects the PF. Usage, from the source tree
# after a build:  scripts/timeline-example.sh [OUT.svg]
set -e
cd "$(dirname "$0")/.."
export DEVLIFED=${DEVLIFED:-build/tools/devlifed} DEVLIFECTL=${DEVLIFECTL:-build/tools/devlifectl}
OUT=$(realpath -m "${1:-docs/timeline-s4.svg}")
. tests/fs/lib.sh
require_env
start_daemon
PF=0000:01:00.0
CTL eject $PF >/dev/null
CTL add $PF vendor=0x8086 device=0x1572 class=0x020000 bar0=1M,64 \
	sriov=8,offset=0x80,stride=1,vfdev=0x154c vfbar0=16K,64,pref \
	driver=sriov-pf probe_vfs=4 op_delay_us=200000 >/dev/null
from=$(CTL trace --raw | tail -1 | awk '{ print $1 + 1 }')
( echo 0 >"$MNT/bus/pci/devices/$PF/sriov_numvfs" ) &
w=$!
wait_until users_is $PF 1   # the writer is inside the PF
CTL eject $PF
wait $w
CTL trace --format=json >"$WORK/trace.json"
python3 scripts/timeline-svg.py "$WORK/trace.json" --from "$from" >"$OUT"
echo "wrote $OUT"
stop_daemon
cleanup
