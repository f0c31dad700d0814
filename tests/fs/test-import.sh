#!/usr/bin/env bash
# An imported tree looks to lspci exactly like its source: a checked-in
# `lspci -D -vvv -nn -xxxx` dump of a virtual machine, a dump of the
# default tree, and this machine's own /sys/bus/pci when it has devices.
# (Real machines' dumps: test-corpus.sh.)
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
CMD="-D -vvv -nn -xxxx"

# The dump: what lspci printed on the source is the expected output.
start_daemon --import-lspci "$DATA/vm-D-vvv-nn-xxxx.txt" || { echo "Bail out! devlifed did not start"; exit 1; }
$LSPCI $CMD 2>/dev/null >"$WORK/ours.txt"
check "imported dump: lspci $CMD shows functions" grep -q '^0000:' "$WORK/ours.txt"
if diff -u "$DATA/vm-D-vvv-nn-xxxx.txt" "$WORK/ours.txt" >"$WORK/diff.txt"; then
	ok "imported dump: lspci $CMD is identical to the source's"
else
	not_ok "imported dump: lspci $CMD is identical to the source's"
	head -40 "$WORK/diff.txt" | diag
fi
$LSPCI -tv 2>/dev/null >"$WORK/ours-t.txt"
check "imported dump: lspci -tv draws a tree" test -s "$WORK/ours-t.txt"
check "devlifed exits 0" stop_daemon

# The default tree, dumped with -vvv -xxxx and imported: its region sizes,
# IRQs, NUMA nodes and drivers come back from the text. One line cannot:
# the mdev-parent driver's probe needs the function's mediated-device
# types, which no dump carries, so it stays unbound.
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
$LSPCI $CMD 2>/dev/null >"$WORK/default.txt"
stop_daemon
start_daemon --import-lspci "$WORK/default.txt" || { echo "Bail out! devlifed did not start"; exit 1; }
$LSPCI $CMD 2>/dev/null >"$WORK/ours-default.txt"
grep -v '^	Kernel driver in use: mdev-parent$' "$WORK/default.txt" >"$WORK/default-want.txt"
if diff -u "$WORK/default-want.txt" "$WORK/ours-default.txt" >"$WORK/diff-default.txt"; then
	ok "the default tree's dump: lspci $CMD is the default tree's"
else
	not_ok "the default tree's dump: lspci $CMD is the default tree's"
	head -40 "$WORK/diff-default.txt" | diag
fi
check "devlifed exits 0" stop_daemon

# This machine: only where its sysfs has PCI devices.
if [ -n "$(ls /sys/bus/pci/devices 2>/dev/null)" ] && [ "$(id -u)" -eq 0 ]; then
	lspci $CMD 2>/dev/null >"$WORK/host.txt"
	check "this machine: lspci $CMD shows functions" grep -q '^[0-9a-f]\{4\}:' "$WORK/host.txt"
	start_daemon --import-sysfs /sys/bus/pci || { echo "Bail out! devlifed did not start"; exit 1; }
	$LSPCI $CMD 2>/dev/null >"$WORK/ours-host.txt"
	check "imported /sys/bus/pci: lspci $CMD shows functions" grep -q '^[0-9a-f]\{4\}:' "$WORK/ours-host.txt"
	if diff -u "$WORK/host.txt" "$WORK/ours-host.txt" >"$WORK/diff2.txt"; then
		ok "imported /sys/bus/pci: lspci $CMD is identical to the host's"
	else
		not_ok "imported /sys/bus/pci: lspci $CMD is identical to the host's"
		head -40 "$WORK/diff2.txt" | diag
	fi
	check "devlifed exits 0" stop_daemon
else
	ok "imported /sys/bus/pci # SKIP no readable PCI devices in this machine's sysfs"
fi
finish
