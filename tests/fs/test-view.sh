#!/usr/bin/env bash
# The view is exact: every operation that changes the tree returns only
# once the kernel's view agrees (docs/view.md). For each kind of
# operation (remove and rescan, a bridge's subtree, sriov_numvfs up and
# down with a refused store between, unbind and bind, driver_override,
# mdev create and remove, and the host channel's add with eject, surprise
# and relations through devlifectl), a loop where a separate process
# checks right after each operation returns: new paths resolve, removed
# paths give ENOENT, listings agree. And memory does not follow history:
# once the loops are done, the kernel has forgotten every removed
# device, without memory pressure.
#
# The daemon's invalidations are made slow (DEVLIFE_TEST_INVAL_DELAY_US):
# an operation that answered before the kernel applied them would be
# seen stale every time, not by chance. DL_VIEW_ITERATIONS sets the loop
# count (default 25; the figures in docs/view.md are from 1000).
. "$(dirname "$0")/lib.sh"
require_env
N=${DL_VIEW_ITERATIONS:-25}
export DEVLIFE_TEST_INVAL_DELAY_US=${DEVLIFE_TEST_INVAL_DELAY_US:-1000}
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
unset DEVLIFE_TEST_INVAL_DELAY_US

kinds="remove remove-bridge sriov bind driver-override mdev host-add-eject host-surprise host-relations"
python3 "$(dirname "$0")/view-loops.py" "$MNT" "$SOCK" "$DEVLIFECTL" "$N" $kinds >"$WORK/loops.out" 2>&1
for k in $kinds; do
	line=$(awk -v k="$k" '$1 == k' "$WORK/loops.out")
	if [ -n "$line" ] && [ "$(echo "$line" | awk '{ print $3 }')" = 0 ]; then
		ok "$k: $N iterations, the view agreed after each"
	else
		not_ok "$k: $N iterations"
		{ echo "${line:-no result}"; cat "$WORK/loops.out"; } | diag
	fi
done

# Every device removed above is forgotten: the kernel dropped the nodes
# naming it when it was removed (their forgets come as the kernel evicts
# the inodes, right after the invalidation: wait for them, 10 s at most).
stat_of() { CTL stats | awk -v k="$1" '$1 == k { print $2 }'; }
settled() { [ "$(stat_of devices_allocated)" -eq "$(stat_of devices_live)" ]; }
if wait_until settled; then
	ok "no removed device is still allocated ($(stat_of devices_live) live)"
else
	not_ok "removed devices still allocated"
	echo "allocated $(stat_of devices_allocated), live $(stat_of devices_live)" | diag
fi
# A removed device's files held open keep only tombstones: the device
# itself is freed while a file of it is open and a process's working
# directory is inside it; the open file then reads ENODEV, as kernfs's
# after kernfs_drain().
T5=0000:00:1e.0
CTL add $T5 vendor=0x1b36 device=0x0005 class=0x00ff00 >/dev/null
exec 3<"$MNT/bus/pci/devices/$T5/vendor"
(cd "$MNT/bus/pci/devices/$T5/" && exec sleep 600) &
held_cwd=$!
CTL eject $T5 >/dev/null
check "tombstones: the ejected device is gone" test ! -e "$MNT/bus/pci/devices/$T5"
if wait_until settled; then
	ok "tombstones: freed while its file is open and a cwd is in it ($(stat_of devices_live) live)"
else
	not_ok "tombstones: the removed device is still allocated while its file is open"
	echo "allocated $(stat_of devices_allocated), live $(stat_of devices_live)" | diag
fi
expect_eq "tombstones: the open file reads ENODEV" "$(python3 -c '
import errno, os
try:
    os.read(3, 4096)
    print("data")
except OSError as e:
    print(errno.errorcode[e.errno])')" ENODEV
exec 3<&-
kill "$held_cwd"
wait "$held_cwd" 2>/dev/null

# What never changes for a device's life (its IDs) is cached by the
# kernel; what can change never is. A device added again under the same
# name shows its own IDs, never the cached ones of the one before, and a
# file of the one before held open reads ENODEV, not its cached pages.
D5=$MNT/bus/pci/devices/$T5
CTL add $T5 vendor=0x1b36 device=0x0005 class=0x00ff00 >/dev/null
# read as lspci reads (open, read, close; cat's fstat would refresh the
# size and drop the cache, tests/fs/incore.py says why)
read_files() { python3 -c '
import os, sys
for f in sys.argv[1:]:
    fd = os.open(f, os.O_RDONLY)
    os.read(fd, 4096)
    os.close(fd)' "$@"; }
read_files "$D5/vendor" "$D5/device" "$D5/config" "$D5/driver_override"
cached() { python3 "$(dirname "$0")/incore.py" "$1"; }
expect_eq "caching: vendor is in the page cache" "$(cached "$D5/vendor")" cached
expect_eq "caching: config is not" "$(cached "$D5/config")" "not cached"
expect_eq "caching: driver_override is not" "$(cached "$D5/driver_override")" "not cached"
exec 4<"$D5/vendor"
pread4() { python3 -c '
import errno, os
try:
    print(os.pread(4, 4096, 0).decode().strip())
except OSError as e:
    print(errno.errorcode[e.errno])'; }
expect_eq "caching: the held file reads the first device's vendor" "$(pread4)" 0x1b36
CTL eject $T5 >/dev/null
CTL add $T5 vendor=0x8086 device=0x1234 class=0x020000 >/dev/null
expect_eq "caching: the device added again shows its own vendor" "$(cat "$D5/vendor")" 0x8086
expect_eq "caching: and its own device" "$(cat "$D5/device")" 0x1234
expect_eq "caching: lspci sees the new IDs" "$($LSPCI -n -s "$T5" | awk '{ print $3 }')" 8086:1234
expect_eq "caching: the first device's file held open reads ENODEV" "$(pread4)" ENODEV
exec 4<&-
CTL eject $T5 >/dev/null

# A device's directory, its files and its bus link are cached for a day
# (DEVICE_TIMEOUT, docs/view.md "Caching"): entries the kernel has held
# for longer than the second they were cached for before are invalidated
# all the same when the device goes, by the host channel or by sysfs. A
# separate process checks right after the operation returns.
exists_any() { python3 -c '
import os, sys
print(" ".join(str(os.path.lexists(p)) for p in sys.argv[1:]))' "$@"; }
for how in eject remove; do
	CTL add $T5 vendor=0x1b36 device=0x0005 class=0x00ff00 >/dev/null
	read_files "$D5/config" "$D5/vendor"
	stat "$D5/" "$D5/config" "$D5/remove" >/dev/null
	# not for ordering: the entries must outlive the old cache time
	sleep 1.5
	if [ $how = eject ]; then
		CTL eject $T5 >/dev/null
	else
		echo 1 >"$D5/remove"
	fi
	expect_eq "long-cached entries: gone right after $how returns" \
		"$(exists_any "$D5" "$D5/config" "$D5/vendor" "$D5/remove")" \
		"False False False False"
done

check "no violations" test "$(violations)" = 0
check "the daemon stops cleanly" stop_daemon
finish
