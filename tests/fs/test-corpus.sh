#!/usr/bin/env bash
# Real machines, imported exactly: each dump of the corpus
# (tests/pci/data/corpus, see its README.md for where each comes from)
# is imported with --import-lspci, and lspci over the import must print
# what `lspci -F DUMP` prints from the dump: `-vvv -nn` line for line
# apart from the classes corpus-compare.py lists (each with the reason
# lspci reads sysfs differently), and `-tv` identical.
. "$(dirname "$0")/lib.sh"
require_env
command -v python3 >/dev/null || { echo "Bail out! python3 is needed"; exit 1; }
CORPUS=$(dirname "$0")/../pci/data/corpus
COMPARE=$(dirname "$0")/corpus-compare.py

# compare_dump DUMP: import it; lspci over the import against lspci -F
compare_dump() {
	local dump=$1 name
	name=$(basename "$dump")
	lspci -F "$dump" -vvv -nn >"$WORK/ref.txt" 2>/dev/null
	lspci -F "$dump" -tv >"$WORK/ref-t.txt" 2>/dev/null
	if ! start_daemon --import-lspci "$dump"; then
		not_ok "$name: imported"
		not_ok "$name: lspci -tv is the dump's"
		return 1
	fi
	$LSPCI -vvv -nn >"$WORK/ours.txt" 2>/dev/null
	$LSPCI -tv >"$WORK/ours-t.txt" 2>/dev/null
	if python3 "$COMPARE" "$dump" "$WORK/ref.txt" "$WORK/ours.txt" >"$WORK/cmp.txt"; then
		ok "$name: lspci -vvv -nn is the dump's"
	else
		not_ok "$name: lspci -vvv -nn is the dump's"
		head -40 "$WORK/cmp.txt" | diag
	fi
	if diff -u "$WORK/ref-t.txt" "$WORK/ours-t.txt" >"$WORK/diff-t.txt"; then
		ok "$name: lspci -tv is the dump's"
	else
		not_ok "$name: lspci -tv is the dump's"
		head -20 "$WORK/diff-t.txt" | diag
	fi
	if ! stop_daemon; then
		not_ok "$name: devlifed exits 0"
		diag <"$WORK/daemon.log"
	fi
}

n=0
for dump in "$CORPUS"/*; do
	[ "$(basename "$dump")" = README.md ] && continue
	n=$((n + 1))
	compare_dump "$dump" || continue
	# a dump with text and no group: its outputs stay for a check below
	if [ "$(basename "$dump")" = cap-pcie-2 ]; then
		cp "$WORK/ours.txt" "$WORK/nogroup-ours.txt"
		cp "$WORK/ref.txt" "$WORK/nogroup-ref.txt"
	fi
	# the last dump's outputs stay for the check below
	cp "$WORK/ours.txt" "$WORK/last-ours.txt"
	cp "$WORK/ref.txt" "$WORK/last-ref.txt"
	last=$dump
done
check "the corpus has at least 30 dumps ($n)" test "$n" -ge 30

# What real hardware has and a description would refuse: a bus no bridge
# leads to (a root bus of its own), a bridge the firmware left without
# buses. Each is imported as the kernel enumerates it, and said once.
for dump in "$(dirname "$0")"/data/edge/*.lspci; do
	compare_dump "$dump" || continue
	expect_eq "$(basename "$dump"): one note on stderr" \
		"$(grep -c '^devlifed: note: ' "$WORK/daemon.log")" 1
	grep '^devlifed: note: ' "$WORK/daemon.log" | diag
done

# A sysfs tree imports as it is: the tree of an import, copied to a plain
# directory as a kernel without CONFIG_PCI_IOV would have it (`resource`
# of 7 lines, 11 for a bridge), with IRQs and NUMA nodes of its own and a
# driver; lspci over its import prints what lspci prints over the copy.
copy_tree() {
	python3 - "$MNT/bus/pci/devices" "$1" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst + "/devices")
os.makedirs(dst + "/drivers/pci-stub")
for n, name in enumerate(sorted(os.listdir(src))):
    d = os.path.join(dst, "devices", name)
    os.makedirs(d)
    for attr in ("config", "vendor", "device", "class", "revision",
                 "subsystem_vendor", "subsystem_device"):
        with open(os.path.join(src, name, attr), "rb") as f, open(os.path.join(d, attr), "wb") as g:
            g.write(f.read())
    res = open(os.path.join(src, name, "resource")).read().splitlines()
    res = res[:7] + res[13:]  # no IOV lines; a bridge keeps its windows
    open(os.path.join(d, "resource"), "w").write("\n".join(res) + "\n")
    open(os.path.join(d, "irq"), "w").write("%d\n" % (40 + n))
    open(os.path.join(d, "numa_node"), "w").write("%d\n" % (n % 2))
    if n % 3 == 0:
        os.symlink("../../drivers/pci-stub", os.path.join(d, "driver"))
    if n % 2 == 0:
        # lspci takes the group from the link's resolved path
        os.makedirs(os.path.join(dst, "../kernel/iommu_groups/%d" % (7 + n)), exist_ok=True)
        os.symlink("../../../kernel/iommu_groups/%d" % (7 + n), os.path.join(d, "iommu_group"))
PY
}
for name in PCI-X-bridges-and-domains tree-asus-p6t6 cap-dvsec-cxl; do
	rm -rf "$WORK/src"
	if ! start_daemon --import-lspci "$CORPUS/$name"; then
		not_ok "$name as sysfs: imported"
		continue
	fi
	copy_tree "$WORK/src"
	stop_daemon
	lspci -A linux-sysfs -O sysfs.path="$WORK/src" -vvv -nn >"$WORK/src.txt" 2>/dev/null
	if ! start_daemon --import-sysfs "$WORK/src"; then
		not_ok "$name as sysfs: imported"
		continue
	fi
	$LSPCI -vvv -nn >"$WORK/ours.txt" 2>/dev/null
	if diff -u "$WORK/src.txt" "$WORK/ours.txt" >"$WORK/diff.txt"; then
		ok "$name as sysfs: lspci -vvv -nn is the source's"
	else
		not_ok "$name as sysfs: lspci -vvv -nn is the source's"
		head -30 "$WORK/diff.txt" | diag
	fi
	bad=
	for f in "$WORK"/src/devices/*; do
		for attr in resource irq numa_node; do
			# through a pipe: cmp trusts a regular file's size, and a
			# sysfs file's is 4096
			cat "$MNT/bus/pci/devices/$(basename "$f")/$attr" | cmp -s "$f/$attr" - ||
				bad="$bad $(basename "$f")/$attr"
		done
	done
	expect_eq "$name as sysfs: resource, irq, numa_node are the source's" "${bad:-none}" none
	for f in "$WORK"/src/devices/*; do
		src_g=$(readlink "$f/iommu_group")
		our_g=$(readlink "$MNT/bus/pci/devices/$(basename "$f")/iommu_group")
		[ "${src_g##*/}" = "${our_g##*/}" ] || bad="$bad $(basename "$f")/iommu_group"
	done
	expect_eq "$name as sysfs: the iommu_group links' groups are the source's" "${bad:-none}" none
	stop_daemon
done

# The group a dump's text shows is kept: lspci shows it over the import,
# and the comparison catches its line missing or changed.
if start_daemon --import-lspci "$CORPUS/cap-dev3"; then
	lspci -F "$CORPUS/cap-dev3" -vvv -nn >"$WORK/ref.txt" 2>/dev/null
	$LSPCI -vvv -nn >"$WORK/ours.txt" 2>/dev/null
	expect_eq "cap-dev3: the dump's IOMMU group" "$(grep 'IOMMU group' "$WORK/ours.txt")" "	IOMMU group: 14"
	expect_eq "and its link" "$(readlink "$MNT/bus/pci/devices/0000:01:00.0/iommu_group")" ../../../kernel/iommu_groups/14
	grep -v 'IOMMU group' "$WORK/ours.txt" >"$WORK/changed.txt"
	check "a missing IOMMU group line is caught" sh -c "! python3 '$COMPARE' '$CORPUS/cap-dev3' '$WORK/ref.txt' '$WORK/changed.txt'"
	sed 's/IOMMU group: 14/IOMMU group: 15/' "$WORK/ours.txt" >"$WORK/changed.txt"
	check "a changed IOMMU group is caught" sh -c "! python3 '$COMPARE' '$CORPUS/cap-dev3' '$WORK/ref.txt' '$WORK/changed.txt'"
	stop_daemon
else
	not_ok "cap-dev3 imported"
fi
sed '0,/^	Control:/s//	IOMMU group: 3\n&/' "$WORK/nogroup-ours.txt" >"$WORK/changed.txt"
check "a group where the dump's text shows none is caught" sh -c "! python3 '$COMPARE' '$CORPUS/cap-pcie-2' '$WORK/nogroup-ref.txt' '$WORK/changed.txt'"

# The comparison can fail: one changed line of the import's output (an
# IRQ, a region's address, a capability flag) is caught.
while IFS='|' read -r pat rep; do
	sed "0,/$pat/s//$rep/" "$WORK/last-ours.txt" >"$WORK/changed.txt"
	if cmp -s "$WORK/changed.txt" "$WORK/last-ours.txt"; then
		ok "a changed line is caught # SKIP '$pat' matches nothing in $(basename "$last")"
	elif python3 "$COMPARE" "$last" "$WORK/last-ref.txt" "$WORK/changed.txt" >/dev/null; then
		not_ok "a changed line is caught ('$pat' on $(basename "$last"))"
	else
		ok "a changed line is caught ('$pat' on $(basename "$last"))"
	fi
done <<'EDITS'
routed to IRQ [0-9]*|routed to IRQ 99
Region \([0-5]\): Memory at [0-9a-f]*|Region \1: Memory at 12345678
Cap+|Cap-
EDITS
finish
