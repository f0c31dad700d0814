#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The sysfs view's benchmark, side by side with its baseline in one run:
#  - open + pread(4096) + close of a function's `config` per second through
#    devlifed, against a minimal libfuse filesystem serving a static
#    4096-byte file (1 thread and N threads);
#  - `lspci -vvv` wall time over the default topology and over 1,000
#    functions.
#
#   bench/fs/fs-bench.sh [--quick] [BUILD_DIR]
#
# Prints a table and writes BUILD_DIR/bench/fs.json. Needs root (FUSE
# mounts) and pciutils.
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
secs=${quick:+0.5}
secs=${secs:-3}
runs=${quick:+1}
runs=${runs:-5}
ncpu=$(nproc)
work=$(mktemp -d /tmp/devlife-fsbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for m in "$work"/m*; do fusermount3 -u "$m" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 200); do [ -e "$1" ] && return 0; sleep 0.05; done; echo "timed out waiting for $1" >&2; return 1; }

mkdir -p "$work/mstatic" "$work/mdef" "$work/m1000"
"$build/bench/fs/devlife-bench-static-fs" "$work/mstatic" & pids+=($!)
"$build/tools/devlifed" -f -s "$work/def.sock" "$work/mdef" 2>/dev/null & pids+=($!)
python3 "$here/gen-topology.py" 1000 >"$work/t1000.topo"
"$build/tools/devlifed" -f -t "$work/t1000.topo" -s "$work/t1000.sock" "$work/m1000" 2>/dev/null & pids+=($!)
wait_for "$work/mstatic/config"
wait_for "$work/mdef/bus/pci/devices/0000:01:00.0/config"
wait_for "$work/m1000/bus/pci/devices/0000:03:00.0/config"

loop=$build/bench/fs/devlife-bench-config-loop
cfg=$work/mdef/bus/pci/devices/0000:01:00.0/config
best() { sort -n | tail -1; }
declare -A R
for t in 1 "$ncpu"; do
	R[devlife_t$t]=$(for _ in $(seq 1 "$runs"); do "$loop" "$cfg" "$secs" "$t" | awk '{print $1}'; done | best)
	R[static_t$t]=$(for _ in $(seq 1 "$runs"); do "$loop" "$work/mstatic/config" "$secs" "$t" | awk '{print $1}'; done | best)
done
lspci_time() {
	python3 - "$1" "$runs" <<'PY'
import subprocess, sys, time
best = None
for _ in range(int(sys.argv[2])):
    t = time.monotonic()
    subprocess.run(["lspci", "-A", "linux-sysfs", "-O", "sysfs.path=" + sys.argv[1],
                    "-vvv"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t = time.monotonic() - t
    best = t if best is None or t < best else best
print(f"{best:.4f}")
PY
}
R[lspci_default]=$(lspci_time "$work/mdef/bus/pci")
R[lspci_1000]=$(lspci_time "$work/m1000/bus/pci")

printf '%-46s %14s %14s %8s\n' "measure" "devlifed" "static fs" "ratio"
for t in 1 "$ncpu"; do
	printf '%-46s %14s %14s %8s\n' "config open+pread(4096)+close /s, $t thread(s)" \
		"${R[devlife_t$t]}" "${R[static_t$t]}" \
		"$(python3 -c "print(f'{${R[devlife_t$t]}/${R[static_t$t]}:.2f}')")"
done
printf '%-46s %14s\n' "lspci -vvv, default topology (9 functions), s" "${R[lspci_default]}"
printf '%-46s %14s\n' "lspci -vvv, 1,000 functions, s" "${R[lspci_1000]}"
mkdir -p "$build/bench"
cat >"$build/bench/fs.json" <<JSON
{
  "config_read_per_s": {
    "devlife": {"t1": ${R[devlife_t1]}, "tN": ${R[devlife_t$ncpu]}},
    "static_fs": {"t1": ${R[static_t1]}, "tN": ${R[static_t$ncpu]}}
  },
  "lspci_vvv_s": {"default": ${R[lspci_default]}, "n1000": ${R[lspci_1000]}},
  "threads_N": $ncpu,
  "quick": ${quick:-0}
}
JSON
echo "wrote $build/bench/fs.json"
