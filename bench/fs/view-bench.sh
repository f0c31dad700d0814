#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The view's targets (docs/view.md, docs/performance.md "The view"):
#  1. churn: 100,000 add/remove cycles of PCI functions, half through the
#     host channel and half through sysfs, lspci looking at each function
#     once (bench/fs/view-churn.py): the daemon's RSS before, after and its
#     maximum, and allocated minus live devices at the end, caches never
#     dropped (targets: RSS after within 5 MB of before, allocated - live
#     <= 64);
#  2. `lspci -vvv -nn -xxxx` over an import of this machine's
#     /sys/bus/pci against a plain tmpfs copy of the same files, in the
#     same run, median of runs (target: at most 1.2 times);
#  3. `lspci` over the 65,536 functions of bench/sriov (256 PFs x 255
#     VFs), and the daemon's RSS after it (target: at most 15 s); then
#     once more, with what the kernel cached of the first run.
#
#   bench/fs/view-bench.sh [--quick] [BUILD_DIR]
#
# --quick (CI's smoke run): 5,000 cycles, 10 runs of the lspci pair, 32
# PFs (8,192 functions). Needs root (FUSE, a tmpfs mount) and pciutils.
# Prints a table and writes BUILD_DIR/bench/view.json.
set -euo pipefail
quick=
build=build
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	-h|--help) sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) build=$a ;;
	esac
done
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
devlifed=$build/tools/devlifed
cycles=${DL_BENCH_CYCLES:-${quick:+5000}}
cycles=${cycles:-100000}
runs=${quick:+10}
runs=${runs:-30}
pfs=${quick:+32}
pfs=${pfs:-256}
work=$(mktemp -d /tmp/devlife-viewbench.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	fusermount3 -u "$work/m" 2>/dev/null || true
	umount "$work/tmpfs" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

start() { # start [devlifed options]: a daemon on $work/m
	mkdir -p "$work/m"
	"$devlifed" -f -s "$work/s" "$@" "$work/m" 2>"$work/log" &
	pid=$!
	for _ in $(seq 1 1200); do
		[ -e "$work/m/bus/pci/devices" ] && [ -S "$work/s" ] && return 0
		sleep 0.05
	done
	echo "view-bench: devlifed did not start:" >&2
	cat "$work/log" >&2
	exit 1
}
stop() {
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

# 1. churn
echo "== churn: $cycles add/remove cycles, lspci looking at each function once ==" >&2
start
python3 "$here/view-churn.py" "$work/m" "$work/s" "$pid" "$cycles" >"$work/churn.json"
# The same, once the daemon has been idle for 2 s (it gives freed memory
# back at most once a second, and once more when idle).
sleep 2
idle=$(rss_kb)
stop

# 2. lspci over an import of this machine against a tmpfs copy of it
echo "== lspci -vvv -nn -xxxx: import of /sys/bus/pci against a tmpfs copy ==" >&2
start --import-sysfs /sys/bus/pci
mkdir -p "$work/tmpfs"
mount -t tmpfs -o size=64m devlife-bench "$work/tmpfs"
# Every file as the daemon serves it, links as links; write-only files
# (remove, rescan, bind, ...) cannot be read and are made empty.
(cd "$work/m" && find . -type d) | (cd "$work/tmpfs" && xargs mkdir -p)
(cd "$work/m" && find . ! -type d -print0) | while IFS= read -r -d '' f; do
	if [ -L "$work/m/$f" ]; then
		ln -s "$(readlink "$work/m/$f")" "$work/tmpfs/$f"
	else
		cat "$work/m/$f" >"$work/tmpfs/$f" 2>/dev/null || : >"$work/tmpfs/$f"
	fi
done
nfunc=$(ls "$work/m/bus/pci/devices" | wc -l)
python3 - "$work/m/bus/pci" "$work/tmpfs/bus/pci" "$runs" >"$work/lspci.json" <<'PY'
import json, statistics, subprocess, sys, time
view, copy, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def one(path):
    t = time.perf_counter()
    out = subprocess.run(["lspci", "-A", "linux-sysfs", "-O", "sysfs.path=" + path,
                          "-vvv", "-nn", "-xxxx"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout
    return time.perf_counter() - t, out
tv, tc = [], []
for i in range(runs):  # interleaved: both see the same machine
    a, out_v = one(view)
    b, out_c = one(copy)
    tv.append(a)
    tc.append(b)
same = out_v == out_c
print(json.dumps({"view_s": statistics.median(tv), "tmpfs_s": statistics.median(tc),
                  "ratio": statistics.median(tv) / statistics.median(tc),
                  "same_output": same, "runs": runs}))
PY
umount "$work/tmpfs"
stop

# 3. lspci over the 65,536 functions of bench/sriov
echo "== lspci over $pfs PFs x 255 VFs ==" >&2
python3 "$here/../sriov/gen-topology.py" "$pfs" >"$work/big.topo"
start -t "$work/big.topo"
for f in "$work"/m/bus/pci/devices/*:00.0; do
	[ -e "$f/sriov_numvfs" ] && echo 255 >"$f/sriov_numvfs"
done
rss_before_lspci=$(rss_kb)
t0=$(date +%s%N)
n=$(lspci -A linux-sysfs -O sysfs.path="$work/m/bus/pci" | wc -l)
lspci_big_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rss_after_lspci=$(rss_kb)
# Again: what the kernel cached of the first run (the IDs, for a day;
# links' targets) it does not ask for (docs/view.md, "Caching").
t0=$(date +%s%N)
lspci -A linux-sysfs -O sysfs.path="$work/m/bus/pci" >/dev/null
lspci_big2_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
stop

python3 - "$work/churn.json" "$work/lspci.json" "$idle" "$n" "$lspci_big_ms" \
	"$rss_before_lspci" "$rss_after_lspci" "$pfs" "$nfunc" "${quick:+quick}" \
	"$build/bench/view.json" "$lspci_big2_ms" <<'PY'
import json, sys
churn = json.load(open(sys.argv[1]))
ls = json.load(open(sys.argv[2]))
idle, n, big_ms, rb, ra, pfs, nfunc, mode, out, big2_ms = sys.argv[3:13]
churn["rss_kb_idle"] = int(idle)
res = {"churn": churn, "lspci_import": dict(ls, functions=int(nfunc)),
       "lspci_sriov": {"pfs": int(pfs), "functions": int(pfs) * 256, "lines": int(n),
                       "seconds": int(big_ms) / 1000,
                       "seconds_second_run": int(big2_ms) / 1000,
                       "rss_kb_before": int(rb), "rss_kb_after": int(ra)},
       "mode": mode or "full"}
grow = (churn["rss_kb_after"] - churn["rss_kb_before"]) / 1024
grow_idle = (churn["rss_kb_idle"] - churn["rss_kb_before"]) / 1024
targets = [
    ("RSS after the churn within 5 MB of before", "%.1f MB (%.1f MB after 2 s idle)" % (grow, grow_idle), grow <= 5),
    ("allocated - live devices <= 64 after the churn", "%d" % churn["allocated_minus_live"], churn["allocated_minus_live"] <= 64),
    ("lspci -vvv -nn -xxxx: import <= 1.2x tmpfs copy", "%.2fx (%.1f / %.1f ms)" % (ls["ratio"], ls["view_s"] * 1e3, ls["tmpfs_s"] * 1e3), ls["ratio"] <= 1.2),
    ("lspci over %d functions <= 15 s" % (int(pfs) * 256), "%.1f s" % (int(big_ms) / 1000), int(big_ms) <= 15000 or int(pfs) != 256),
]
res["targets"] = [{"target": t, "measured": m, "met": ok} for t, m, ok in targets]
json.dump(res, open(out, "w"), indent=1)
print("churn: %d cycles in %.0f s; RSS %d kB before, %d kB after, %d kB max, %d kB after 2 s idle; devices %d allocated, %d live"
      % (churn["cycles"], churn["seconds"], churn["rss_kb_before"], churn["rss_kb_after"],
         churn["rss_kb_max"], churn["rss_kb_idle"], churn["devices_allocated"], churn["devices_live"]))
print("lspci -vvv -nn -xxxx over %s imported functions: %.1f ms (tmpfs copy %.1f ms), median of %d; same output: %s"
      % (nfunc, ls["view_s"] * 1e3, ls["tmpfs_s"] * 1e3, ls["runs"], ls["same_output"]))
print("lspci over %d functions (%s lines): %.1f s (%.1f s the second time); daemon RSS %s kB before, %s kB after"
      % (int(pfs) * 256, n, int(big_ms) / 1000, int(big2_ms) / 1000, rb, ra))
print()
for t, m, ok in targets:
    print("%-52s %-34s %s" % (t, m, "met" if ok else "MISSED"))
PY
