#!/bin/sh
# make run: start devlifed on the default topology at ./sys, in the
# foreground, after a short tour of what to try from another shell.
set -e
BUILD=${BUILD:-build}
MNT=${MNT:-$PWD/sys}
if [ "$(id -u)" -eq 0 ]; then
	SOCK=${DEVLIFE_SOCKET:-/run/devlife/devlifed.sock}
else
	SOCK=${DEVLIFE_SOCKET:-${XDG_RUNTIME_DIR:-/tmp}/devlifed.sock}
fi
mkdir -p "$MNT"
# A mount left behind by a daemon that was killed: take it away.
if ! ls "$MNT" >/dev/null 2>&1; then
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
fi
D=./$BUILD/tools
cat <<TOUR
devlifed: a virtual PCI tree at $MNT, laid out like /sys.

From another shell (as root), try:

  lspci -A linux-sysfs -O sysfs.path=$MNT/bus/pci -tv
  lspci -A linux-sysfs -O sysfs.path=$MNT/bus/pci -vvv -nn -s 01:00.0
  ls -l $MNT/bus/pci/devices/
  cat $MNT/bus/pci/devices/0000:01:00.0/vendor

  $D/devlifectl -s $SOCK tree                   # with state, driver, users
  $D/devlifectl -s $SOCK eject 0000:00:04.0     # the host takes it away
  $D/devlifectl -s $SOCK add 0000:00:04.0 vendor=0x1af4 device=0x1042 class=0x010000
  echo 1 > $MNT/bus/pci/devices/0000:00:03.0/remove   # the OS removes it...
  echo 1 > $MNT/bus/pci/rescan                        # ...and finds it again
  echo 4 > $MNT/bus/pci/devices/0000:01:00.0/sriov_numvfs
  $D/devlifectl -s $SOCK trace

Programs that read /sys itself (driverctl, mdevctl, hwloc, a static or
Go binary) run against the tree with devlife-run, in a private mount
namespace where /sys is the host's with this tree in place of its PCI
parts; a user who is not root is root there:

  $D/devlife-run --attach $MNT -- lspci -tv
  $D/devlife-run -- sh        # with a daemon of its own

Stop with Ctrl-C: every device is removed, then $MNT is unmounted.

TOUR
exec "$D/devlifed" -f -s "$SOCK" "$MNT"
