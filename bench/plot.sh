#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sweep enter+exit over 1 .. 2N threads and plot it.
#
#   bench/plot.sh [--quick] [--no-sweep] [BUILD_DIR]   (default BUILD_DIR: build)
#
# Runs BUILD_DIR/bench/devlife-bench-enter-exit --sweep, which writes
# BUILD_DIR/bench/sweep.dat (ns per enter+exit pair, per variant and thread
# count), then draws docs/performance-enter-exit.svg with gnuplot
# (apt-get install -y gnuplot-nox). --no-sweep only redraws an existing
# sweep.dat. The machine and commit in the title come from
# BUILD_DIR/bench/results.json when bench/run.sh has written one.
set -euo pipefail

quick=
sweep=1
build=
for a in "$@"; do
	case "$a" in
	--quick) quick=--quick ;;
	--no-sweep) sweep= ;;
	-h|--help) sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/plot.sh: unknown option $a" >&2; exit 2 ;;
	*) build=$a ;;
	esac
done
src=$(cd "$(dirname "$0")/.." && pwd)
build=${build:-build}
[ -d "$build" ] || { echo "bench/plot.sh: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
dat=$build/bench/sweep.dat
svg=$src/docs/performance-enter-exit.svg

command -v gnuplot >/dev/null || {
	echo "bench/plot.sh: gnuplot not found (apt-get install -y gnuplot-nox)" >&2
	exit 2
}
if [ -n "$sweep" ]; then
	prog=$build/bench/devlife-bench-enter-exit
	[ -x "$prog" ] || { echo "bench/plot.sh: $prog missing; build first: ninja -C $build" >&2; exit 2; }
	mkdir -p "$build/bench"
	timeout 300 "$prog" $quick --sweep "$dat"
fi
[ -f "$dat" ] || { echo "bench/plot.sh: no $dat" >&2; exit 2; }

cpus=$(getconf _NPROCESSORS_ONLN)
title=$(python3 - "$build/bench/results.json" "$cpus" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    m = r["machine"]
    print("%s, %s CPUs, %s" % (m["cpu"], m["cores"], r["compiler"]))
except Exception:
    print("%s CPUs" % sys.argv[2])
EOF
)

# devlife_call and call_floor are plotted when the sweep has them (older
# sweeps lack one or both): columns are found by name in the header.
col() { awk -v n="$1" '/^# threads/ { for (i = 3; i <= NF; i++) if ($i == n) print i - 1 }' "$dat"; }
extra=
c=$(col devlife_call)
[ -n "$c" ] && extra="$extra"', "" using 1:'"$c"' with linespoints lw 1 pt 6 lc rgb "#9400d3" title "devlife, called (.so)"'
c=$(col call_floor)
[ -n "$c" ] && extra="$extra"', "" using 1:'"$c"' with lines lw 1 lc rgb "black" title "2 empty calls (.so)"'

mkdir -p "$src/docs"
gnuplot <<EOF
set terminal svg size 800,500 dynamic enhanced font "sans,12" background rgb "white"
set output "$svg"
set title "enter + exit of one shared device, ns per pair (log scale)\n{/*0.8 $title}"
set xlabel "threads (all on the same device; beyond $cpus they share CPUs)"
set ylabel "ns per enter+exit pair, per thread"
set logscale y
set grid ytics xtics
set key outside right center
set xtics 1
set arrow from $cpus, graph 0 to $cpus, graph 1 nohead dashtype 2 lc rgb "gray"
plot "$dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#9400d3" title "devlife, inline", \
     "" using 1:3 with linespoints lw 2 pt 5 title "atomic\\\\_bias (kernfs)", \
     "" using 1:4 with linespoints lw 2 pt 9 title "rwlock (global lock)", \
     "" using 1:5 with linespoints lw 2 pt 11 title "urcu\\\\_memb read lock", \
     "" using 1:6 with linespoints lw 2 pt 13 lc rgb "gray40" title "limit (per-thread counter)"$extra
EOF
echo "bench/plot.sh: wrote $svg from $dat" >&2
