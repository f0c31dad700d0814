#!/usr/bin/env bash
# Hot-plug through the host channel and through sysfs, seen by lspci.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
has() { $LSPCI 2>/dev/null | grep -q "^$1 "; }

check "00:04.0 is there" has 00:04.0
check "host eject succeeds" CTL eject 0000:00:04.0
check "ejected: gone from lspci" bash -c "! $LSPCI 2>/dev/null | grep -q '^00:04.0 '"
check "ejected: gone from bus/pci/devices" test ! -e "$D/0000:00:04.0"
check "rescan after the eject succeeds" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
check "ejected hardware does not come back on rescan" test ! -e "$D/0000:00:04.0"
check "host add succeeds" CTL add 0000:00:04.0 vendor=0x1af4 device=0x1042 class=0x010000
check "added: lspci lists it" has 00:04.0
expect_eq "added: its vendor" "$(cat "$D/0000:00:04.0/vendor")" 0x1af4

check "echo 1 > remove succeeds" bash -c "echo 1 > '$D/0000:00:03.0/remove'"
check "removed: gone from lspci" bash -c "! $LSPCI 2>/dev/null | grep -q '^00:03.0 '"
check "rescan succeeds" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
check "removed but present hardware comes back on rescan" has 00:03.0

check "surprise removal succeeds" CTL surprise 0000:00:02.0
check "surprise-removed: gone" test ! -e "$D/0000:00:02.0"

check "relations without 00:05.0 succeeds" CTL relations 0000:00 0000:00:00.0 0000:00:01.0 0000:00:03.0 0000:00:04.0
check "relations: the missing device is ejected" test ! -e "$D/0000:00:05.0"
check "relations: the listed devices stay" has 00:03.0
check "relations: other buses are untouched" has 01:00.0

# SR-IOV through sysfs.
check "echo 4 > sriov_numvfs" bash -c "echo 4 > '$D/0000:01:00.0/sriov_numvfs'"
expect_eq "lspci lists 4 VFs with the VF Device ID" "$($LSPCI -nn 2>/dev/null | grep -c '\[8086:10ed\]')" 4
check "the PF's SR-IOV capability says 4 VFs" bash -c "$LSPCI -vvv -s 01:00.0 2>/dev/null | grep -q 'Number of VFs: 4'"
expect_eq "virtfn0 link" "$(readlink "$D/0000:01:00.0/virtfn0")" "../0000:01:18.0"
expect_eq "physfn link" "$(readlink "$D/0000:01:18.0/physfn")" "../0000:01:00.0"
expect_eq "sriov_numvfs reads 4" "$(cat "$D/0000:01:00.0/sriov_numvfs")" 4
check "the PF's SR-IOV capability says VF Enable+" bash -c "$LSPCI -vvv -s 01:00.0 2>/dev/null | grep -q 'IOVCtl:.*Enable+'"
expect_eq "lspci shows the VFs under the PF's port" "$($LSPCI -t 2>/dev/null | grep -c '18\.[0246]')" 4
check "echo 0 > sriov_numvfs" bash -c "echo 0 > '$D/0000:01:00.0/sriov_numvfs'"
expect_eq "VFs are gone" "$($LSPCI -nn 2>/dev/null | grep -c '\[8086:10ed\]')" 0
check "the PF's SR-IOV capability says 0 VFs" bash -c "$LSPCI -vvv -s 01:00.0 2>/dev/null | grep -q 'Number of VFs: 0,'"
check "and VF Enable-" bash -c "$LSPCI -vvv -s 01:00.0 2>/dev/null | grep -q 'IOVCtl:.*Enable-'"

# Drivers: unbind and bind through the driver's directory.
check "virtio-pci driver directory lists 00:03.0" test -L "$MNT/bus/pci/drivers/virtio-pci/0000:00:03.0"
check "unbind" bash -c "echo 0000:00:03.0 > '$MNT/bus/pci/drivers/virtio-pci/unbind'"
check "unbound: no driver link" test ! -e "$D/0000:00:03.0/driver"
check "bind" bash -c "echo 0000:00:03.0 > '$MNT/bus/pci/drivers/virtio-pci/bind'"
expect_eq "bound again: driver link" "$(basename "$(readlink "$D/0000:00:03.0/driver")")" virtio-pci

check "devlifectl tree works" CTL tree
check "devlifectl stats works" CTL stats
check "devlifed exits 0 on SIGTERM" stop_daemon
finish
