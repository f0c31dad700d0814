#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run the devlife benchmarks built in BUILD_DIR, print a table with the
# project's targets and write BUILD_DIR/bench/results.json.
#
#   bench/run.sh [--quick] [BUILD_DIR]      (default BUILD_DIR: build)
#
# Then, as root, the sysfs view's benchmark (bench/fs/view-bench.sh).
#
# --quick: a smoke run (about 15 s, and 40 s for the view) for CI: fewer
# and shorter runs, and the 1M-device lookup shrinks to 100k devices (same
# key, said in "notes").
# The programs themselves take --quick, --json FILE and --threads N; see
# docs/performance.md.
set -euo pipefail

quick=
build=
for a in "$@"; do
	case "$a" in
	--quick) quick=--quick ;;
	-h|--help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/run.sh: unknown option $a" >&2; exit 2 ;;
	*) build=$a ;;
	esac
done
src=$(cd "$(dirname "$0")/.." && pwd)
build=${build:-build}
[ -d "$build" ] || { echo "bench/run.sh: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
bin=$build/bench
out=$build/bench

programs="enter-exit lookup remove churn"
for p in $programs; do
	if [ ! -x "$bin/devlife-bench-$p" ]; then
		echo "bench/run.sh: $bin/devlife-bench-$p is missing; build first: ninja -C $build" >&2
		exit 2
	fi
done

mkdir -p "$out"
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if python3 -c "import sys; sys.exit(0 if float('$load') > 0.5 else 1)"; then
	echo "bench/run.sh: warning: load average is $load: other work (or a previous benchmark) is running; see the CPU-share note" >&2
fi
start=$(date +%s)
for p in $programs; do
	echo "== devlife-bench-$p $quick" >&2
	# Each program stays well under a minute; the timeout only guards
	# against a hang (a drain that never ends).
	rc=0
	timeout 300 "$bin/devlife-bench-$p" $quick --json "$out/frag-$p.json" || rc=$?
	if [ "$rc" != 0 ]; then
		case $rc in
		124) why="timed out after 300 s" ;;
		13[0-9]|14[0-9]) why="killed by signal $((rc - 128))" ;;
		*) why="exit status $rc" ;;
		esac
		echo "bench/run.sh: devlife-bench-$p failed: $why" >&2
		exit 1
	fi
done
elapsed=$(( $(date +%s) - start ))

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null |
	python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o.get("buildtype","unknown"))' 2>/dev/null || echo unknown)

python3 - "$out" "$commit" "$buildtype" "${quick:+quick}" "$elapsed" "$load" $programs <<'EOF'
import json, os, platform, sys, time

out, commit, buildtype, mode, elapsed, load = sys.argv[1:7]
programs = sys.argv[7:]
res = {}
notes = []
compiler = None

def put(d, dotted, v):
    ks = dotted.split(".")
    for k in ks[:-1]:
        d = d.setdefault(k, {})
    d[ks[-1]] = v

for p in programs:
    with open(os.path.join(out, "frag-%s.json" % p)) as f:
        frag = json.load(f)
    notes += [n for n in frag.pop("notes", []) if n not in notes]
    compiler = compiler or frag.pop("compiler", None)
    frag.pop("compiler", None)
    for k, v in frag.items():
        put(res, k, v)

model = "unknown"
try:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
except OSError:
    pass
if model == "unknown":
    model = platform.processor() or platform.machine()

res["machine"] = {"cpu": model, "cores": os.cpu_count(),
                  "kernel": platform.release()}
res["compiler"] = compiler or "unknown"
res["commit"] = commit
res["buildtype"] = buildtype
res["mode"] = mode or "full"
res["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
res["elapsed_s"] = int(elapsed)
res["loadavg_before"] = float(load)

if res.get("devlife_debug_checks"):
    notes.append("libdevlife was built with debug checks (holder tracking, "
                 "lock-order checks): not representative; use a release build")
res["notes"] = notes

ee, lk = res["enter_exit_ns"], res["lookup_ns"]
N = int(res.get("threads_N", os.cpu_count()))
d1, dN = ee["devlife"]["t1"], ee["devlife"]["tN"]
lim1, limN = ee["limit"]["t1"], ee["limit"]["tN"]
n1m = int(res.get("lookup_devices_n1m", 1000000))
n1m_label = "1M" if n1m == 1000000 else "%dk" % (n1m // 1000)
targets = [
    ("enter+exit <= 2 ns per pair at 1 and N threads",
     "%.2f / %.2f ns" % (d1, dN), max(d1, dN) <= 2.0),
    ("enter+exit within 4x of the limit (1 and N threads)",
     "%.1fx / %.1fx" % (d1 / lim1, dN / limN), max(d1 / lim1, dN / limN) <= 4.0),
    ("enter+exit >= 10x faster than atomic_bias at N threads",
     "%.1fx" % (ee["atomic_bias"]["tN"] / dN), ee["atomic_bias"]["tN"] / dN >= 10),
    ("enter+exit >= 25x faster than rwlock at N threads",
     "%.1fx" % (ee["rwlock"]["tN"] / dN), ee["rwlock"]["tN"] / dN >= 25),
    ("stretch: enter+exit within 1.2x of urcu_memb (1 and N threads)",
     "%.1fx / %.1fx" % (d1 / ee["urcu_memb"]["t1"], dN / ee["urcu_memb"]["tN"]),
     max(d1 / ee["urcu_memb"]["t1"], dN / ee["urcu_memb"]["tN"]) <= 1.2),
    ("lookup >= 5x faster than mutex_hash at N threads, %s devices" % n1m_label,
     "%.1fx" % (lk["mutex_hash"]["n1m"]["tN"] / lk["devlife"]["n1m"]["tN"]),
     lk["mutex_hash"]["n1m"]["tN"] / lk["devlife"]["n1m"]["tN"] >= 5),
    ("idle removal p50 <= 20 us", "%.1f us" % res["remove_idle_us"]["p50"],
     res["remove_idle_us"]["p50"] <= 20),
    ("65,536-device teardown <= 1 s", "%.3f s" % res["teardown_64k_s"],
     res["teardown_64k_s"] <= 1.0),
    ("<= 512 bytes per device", "%.0f B" % res["bytes_per_device"],
     res["bytes_per_device"] <= 512),
    ("churn >= 50,000 add+remove cycles/s", "%.0f /s" % res["churn_per_s"],
     res["churn_per_s"] >= 50000),
]
res["targets"] = [{"target": t, "value": v, "met": bool(m)} for t, v, m in targets]

with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(res, f, indent=2, sort_keys=False)
    f.write("\n")

w = print
w("")
w("devlife benchmarks: %s run, %s, %d CPUs, %s, %s build, commit %s"
  % (res["mode"], model, os.cpu_count(), res["compiler"], buildtype, commit))
w("")
w("| enter+exit, ns per pair | 1 thread | %d threads |" % N)
w("|---|---:|---:|")
for v in ("devlife", "atomic_bias", "rwlock", "urcu_memb", "limit"):
    w("| %s | %.2f | %.2f |" % (v, ee[v]["t1"], ee[v]["tN"]))
if "devlife_call_ns" in res:
    dc = res["devlife_call_ns"]
    w("| (devlife_call: dl_device_enter/exit through the .so) | %.2f | %.2f |" % (dc["t1"], dc["tN"]))
if "call_floor_ns" in res:
    cf = res["call_floor_ns"]
    w("| (call_floor: 2 empty calls into a .so) | %.2f | %.2f |" % (cf["t1"], cf["tN"]))
w("")
w("| lookup + put, ns per op | 1k, 1 thread | 1k, %d threads | %s, 1 thread | %s, %d threads |"
  % (N, n1m_label, n1m_label, N))
w("|---|---:|---:|---:|---:|")
for v in ("devlife", "mutex_hash"):
    x = lk[v]
    w("| %s | %.1f | %.1f | %.1f | %.1f |" % (v, x["n1k"]["t1"], x["n1k"]["tN"],
                                            x["n1m"]["t1"], x["n1m"]["tN"]))
w("")
w("| removal and churn | |")
w("|---|---:|")
w("| idle removal, p50 / p99 | %.1f / %.1f us |"
  % (res["remove_idle_us"]["p50"], res["remove_idle_us"]["p99"]))
w("| teardown of 65,536 devices (remove 256 parents) | %.3f s%s |"
  % (res["teardown_64k_s"], " (first run %.3f s)" % res["teardown_64k_first_s"]
     if "teardown_64k_first_s" in res else ""))
if "teardown_64k_tree_free_s" in res:
    w("| teardown of 65,536 devices (dl_tree_free) | %.3f s |" % res["teardown_64k_tree_free_s"])
w("| core memory per device (RSS) | %.0f B |" % res["bytes_per_device"])
w("| churn, add+remove cycles/s (%d thread(s) entering) | %.0f |"
  % (max(1, N - 1), res["churn_per_s"]))
w("")
w("| target | measured | |")
w("|---|---:|---|")
for t, v, m in targets:
    w("| %s | %s | %s |" % (t, v, "met" if m else "MISSED"))
w("")
w("Bounds on this machine: the limit itself is %.1fx faster than atomic_bias "
  "and %.1fx faster than rwlock at %d threads; mutex_hash at %d threads takes "
  "%.1fx its 1-thread time (%s devices)."
  % (ee["atomic_bias"]["tN"] / limN, ee["rwlock"]["tN"] / limN, N, N,
     lk["mutex_hash"]["n1m"]["tN"] / lk["mutex_hash"]["n1m"]["t1"], n1m_label))
w("")
for n in notes:
    w("- " + n)
w("")
w("results: %s (%s s)" % (os.path.join(out, "results.json"), elapsed))
EOF

# The sysfs view's targets (docs/view.md): a FUSE mount, so root only.
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v lspci >/dev/null; then
	echo "== bench/fs/view-bench.sh $quick" >&2
	rc=0
	timeout 3600 "$src/bench/fs/view-bench.sh" $quick "$build" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "bench/run.sh: bench/fs/view-bench.sh failed (exit status $rc)" >&2
		exit 1
	fi
else
	echo "bench/run.sh: the view's benchmark needs root, /dev/fuse and lspci: skipped" >&2
fi

# Event latency (docs/uevents.md): host eject -> udev-group remove, through
# a real devlifed --uevents in a private namespace.
if [ -x "$bin/uevent/devlife-bench-uevent-latency" ] && [ -x "$build/tools/devlifed" ]; then
	echo "== devlife-bench-uevent-latency $quick" >&2
	timeout 300 "$bin/uevent/devlife-bench-uevent-latency" "$build/tools/devlifed" \
		$quick --json "$out/uevent-latency.json" ||
		echo "bench/run.sh: devlife-bench-uevent-latency failed (exit $?)" >&2
fi
