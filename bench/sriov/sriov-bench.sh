#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# SR-IOV targets (docs/performance.md, "SR-IOV"):
#  1. sriov_numvfs 0 -> 255 -> 0 through the sysfs file, median of runs
#     (target: <= 50 ms);
#  2. 256 PFs x 255 VFs (65,536 PCI functions): the daemon's resident
#     memory per VF (target: <= 2 KiB), the time to enable them all, the
#     time `lspci` takes to enumerate them, and the daemon's shutdown.
#
#   bench/sriov/sriov-bench.sh [--quick] [BUILD_DIR]
#
# --quick: 5 runs and 32 PFs instead of 11 and 256. Needs root (FUSE) and
# pciutils. Prints the figures; the daemons it starts are stopped at exit.
set -euo pipefail
quick=
build=build
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	*) build=$a ;;
	esac
done
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
devlifed=$build/tools/devlifed
numvfs=$build/bench/sriov/devlife-bench-numvfs
runs=${quick:+5}
runs=${runs:-11}
pfs=${quick:+32}
pfs=${pfs:-256}
work=$(mktemp -d /tmp/devlife-sriovbench.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	fusermount3 -u "$work/m" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
if [ ! -x "$numvfs" ]; then # not hooked into the build: build it here
	numvfs=$work/devlife-bench-numvfs
	cc -O2 -o "$numvfs" "$here/numvfs_time.c"
fi

start() { # start TOPOLOGY: a daemon on $work/m
	mkdir -p "$work/m"
	"$devlifed" -f -s "$work/s" -t "$1" "$work/m" 2>"$work/log" &
	pid=$!
	for _ in $(seq 1 600); do
		[ -e "$work/m/bus/pci/devices" ] && [ -S "$work/s" ] && return 0
		sleep 0.05
	done
	echo "devlifed did not start:" >&2
	cat "$work/log" >&2
	exit 1
}
stop() { # sets stop_ms (not in a subshell: wait needs the daemon's parent)
	local t0
	t0=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
	stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "== sriov_numvfs 0 -> 255 -> 0 (one PF, TotalVFs 255, sriov-pf) =="
python3 "$here/gen-topology.py" 1 >"$work/one.topo"
start "$work/one.topo"
"$numvfs" "$work/m/bus/pci/devices/0000:03:00.0/sriov_numvfs" 255 "$runs"
stop

echo
echo "== $pfs PFs x 255 VFs =="
python3 "$here/gen-topology.py" "$pfs" >"$work/big.topo"
start "$work/big.topo"
before=$(rss_kb)
pflist=$(ls "$work/m/bus/pci/devices" | grep ':00\.0$' | while read -r f; do
	[ -e "$work/m/bus/pci/devices/$f/sriov_numvfs" ] && echo "$f"; done)
t0=$(date +%s%N)
for f in $pflist; do echo 255 >"$work/m/bus/pci/devices/$f/sriov_numvfs"; done
enable_ms=$(ms_since "$t0")
after=$(rss_kb)
nvf=$(( pfs * 255 ))
echo "VFs enabled:          $nvf in $enable_ms ms ($(( enable_ms * 1000 / pfs )) us per PF)"
echo "daemon RSS:           $before kB before, $after kB after"
echo "resident per VF:      $(( (after - before) * 1024 / nvf )) bytes"
t0=$(date +%s%N)
n=$(lspci -A linux-sysfs -O sysfs.path="$work/m/bus/pci" | wc -l)
lspci_ms=$(ms_since "$t0")
echo "lspci:                $n functions ($(( nvf + pfs )) PFs and VFs) in $lspci_ms ms"
echo "daemon RSS after it:  $(rss_kb) kB (the filesystem's nodes for every file lspci opened)"
t0=$(date +%s%N)
n=$(lspci -A linux-sysfs -O sysfs.path="$work/m/bus/pci" | wc -l)
echo "lspci again:          $n functions in $(ms_since "$t0") ms"
first=$(echo "$pflist" | head -1)
python3 - "$work/m/bus/pci/devices/$first/sriov_numvfs" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
t = time.perf_counter()
os.write(fd, b"0")
t1 = time.perf_counter()
os.write(fd, b"255")
t2 = time.perf_counter()
print("one PF whose VFs lspci looked up: 255 -> 0 %.2f ms, then 0 -> 255 %.2f ms"
      % ((t1 - t) * 1e3, (t2 - t1) * 1e3))
PY
t0=$(date +%s%N)
for f in $pflist; do echo 0 >"$work/m/bus/pci/devices/$f/sriov_numvfs"; done
echo "VFs disabled (all PFs, one shell loop): in $(ms_since "$t0") ms"
for f in $pflist; do echo 255 >"$work/m/bus/pci/devices/$f/sriov_numvfs"; done
stop
echo "daemon shutdown with every VF: $stop_ms ms (removes them all, waits for every user)"
