#!/usr/bin/env bash
# IOMMU groups (drivers/iommu/iommu.c): every function's iommu_group link,
# kernel/iommu_groups/N/{devices/,type,reserved_regions}, groups formed
# as pci_device_group() forms them (ACS, DMA aliases through conventional
# bridges, multi-function slots), numbered as iommu_group_alloc() numbers
# them (in the order functions are added, the lowest free number), gone
# with their last function; vfio-pci's probe refusals.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon -t "$(dirname "$0")/data/iommu.topo" ||
	{ echo "Bail out! devlifed did not start"; exit 1; }
P=$MNT/bus/pci
D=$P/devices
G=$MNT/kernel/iommu_groups
grp() { if [ -L "$D/$1/iommu_group" ]; then basename "$(readlink "$D/$1/iommu_group")"; else echo none; fi; }
all_groups() { for d in "$D"/*; do printf '%s=%s ' "${d##*/}" "$(grp "${d##*/}")"; done; }
members() { ls "$G/$1/devices" | tr '\n' ' '; }
w() { write_err "$2" "$1"; }
drv_of() { if [ -L "$D/$1/driver" ]; then basename "$(readlink "$D/$1/driver")"; else echo none; fi; }

# Linux adds a root bus's functions, then each child bus's in turn
# (pci_bus_add_devices()); a group takes the lowest free number.
#  00:1e.x multi-function with ACS: a group each; 00:1f.x without: one;
#  03:00.x behind a port without ACS: the port's; 04:00.0 (an upstream
#  port) and the downstream ports behind an isolating root port: their
#  own; 06:00.0 behind a downstream port with ACS: its own; 07:00.0
#  behind one without: that port's; 09:0x.0 behind a conventional bridge:
#  the bridge's (its requests carry the bridge's ID).
expect_eq "the groups" "$(all_groups)" "0000:00:00.0=0 0000:00:01.0=1 0000:00:02.0=2 0000:00:03.0=3 0000:00:04.0=4 0000:00:05.0=40 0000:00:06.0=none 0000:00:07.0=none 0000:00:08.0=none 0000:00:08.1=none 0000:00:1e.0=5 0000:00:1e.1=6 0000:00:1f.0=7 0000:00:1f.3=7 0000:01:00.0=8 0000:03:00.0=2 0000:03:00.1=2 0000:04:00.0=9 0000:05:00.0=10 0000:05:01.0=11 0000:06:00.0=12 0000:07:00.0=11 0000:08:00.0=13 0000:09:00.0=13 0000:09:01.0=13 "
expect_eq "the link of a function behind a bridge" "$(readlink "$D/0000:03:00.1/iommu_group")" ../../../../kernel/iommu_groups/2
expect_eq "kernel/iommu_groups lists each group once" "$(ls "$G" | sort -n | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 10 11 12 13 40 "
expect_eq "a group's entries" "$(ls "$G/2" | tr '\n' ' ')" "devices reserved_regions type "
expect_eq "its devices" "$(members 2)" "0000:00:02.0 0000:03:00.0 0000:03:00.1 "
expect_eq "a device link" "$(readlink "$G/2/devices/0000:03:00.0")" ../../../../devices/pci0000:00/0000:00:02.0/0000:03:00.0
check "which leads to the function" test "$(cd "$G/2/devices/0000:03:00.0" && pwd -P)" = "$(cd "$D/0000:03:00.0" && pwd -P)"
expect_eq "type (iommu_group_show_type())" "$(cat "$G/2/type")" DMA-FQ
expect_eq "reserved_regions (the x86 interrupt range)" "$(cat "$G/2/reserved_regions")" "0x00000000fee00000 0x00000000feefffff msi"
expect_eq "no group, no link" "$(ls "$D/0000:00:06.0" | grep -c iommu_group)" 0
check "no such group" test ! -e "$G/14" -a ! -e "$G/02" -a ! -e "$G/x"
check "a member of another group is not in this one" test ! -e "$G/2/devices/0000:00:01.0"
check "lspci shows the group" sh -c "$LSPCI -vvv -s 03:00.1 | grep -qx '	IOMMU group: 2'"

# SR-IOV: VFs behind an isolating port get a group each, the lowest free
PF=0000:01:00.0
check "2 VFs" sh -c "echo 2 > '$D/$PF/sriov_numvfs'"
expect_eq "a group each" "$(grp 0000:01:10.0) $(grp 0000:01:10.2)" "14 15"
check "0 VFs" sh -c "echo 0 > '$D/$PF/sriov_numvfs'"
check "their groups are gone" test ! -e "$G/14" -a ! -e "$G/15"
# a function's removal frees its group; a group with members left stays
check "remove 06:00.0" sh -c "echo 1 > '$D/0000:06:00.0/remove'"
check "remove 07:00.0" sh -c "echo 1 > '$D/0000:07:00.0/remove'"
check "group 12 is gone" test ! -e "$G/12"
expect_eq "group 11 keeps its port" "$(members 11)" "0000:05:01.0 "
check "2 VFs again" sh -c "echo 2 > '$D/$PF/sriov_numvfs'"
expect_eq "the lowest free numbers: 12, then 14" "$(grp 0000:01:10.0) $(grp 0000:01:10.2)" "12 14"
check "rescan" sh -c "echo 1 > '$P/rescan'"
expect_eq "06:00.0 back: the next free number" "$(grp 0000:06:00.0)" 15
expect_eq "07:00.0 back: its port's group" "$(grp 0000:07:00.0)" 11

# vfio-pci takes a function in a group (vfio_pci_core_register_device())
check "0 VFs" sh -c "echo 0 > '$D/$PF/sriov_numvfs'"
NET=0000:03:00.1
check "driver_override vfio-pci" sh -c "echo vfio-pci > '$D/$NET/driver_override'"
check "drivers_probe binds it" sh -c "echo $NET > '$P/drivers_probe'"
expect_eq "bound to vfio-pci" "$(drv_of $NET)" vfio-pci
expect_eq "in its group still" "$(grp $NET)" 2
check "unbind" sh -c "echo $NET > '$P/drivers/vfio-pci/unbind'"
check "override on a bridge" sh -c "echo vfio-pci > '$D/0000:00:02.0/driver_override'"
check "unbind the bridge from pcieport" sh -c "echo 0000:00:02.0 > '$P/drivers/pcieport/unbind'"
expect_eq "vfio-pci refuses a bridge: EINVAL" "$(w 0000:00:02.0 "$P/drivers/vfio-pci/bind")" EINVAL
expect_eq "left unbound" "$(drv_of 0000:00:02.0)" none
check "override on the function without a group" sh -c "echo vfio-pci > '$D/0000:00:06.0/driver_override'"
check "unbind it from virtio-pci" sh -c "echo 0000:00:06.0 > '$P/drivers/virtio-pci/unbind'"
expect_eq "vfio-pci refuses a function in no group: EINVAL" "$(w 0000:00:06.0 "$P/drivers/vfio-pci/bind")" EINVAL
PF2=0000:00:07.0
expect_eq "a PF without a group has VFs without one" "$(grp $PF2) $(grp 0000:00:08.0) $(grp 0000:00:08.1)" "none none none"
check "override on the PF" sh -c "echo vfio-pci > '$D/$PF2/driver_override'"
expect_eq "vfio-pci refuses a PF with VFs enabled: EBUSY (checked before the group)" "$(w $PF2 "$P/drivers/vfio-pci/bind")" EBUSY
check "the daemon stops cleanly" stop_daemon

# bad keys
printf '0000:00:00.0 vendor=0x8086 device=0x1234 class=0x020000 iommu_group=x\n' >"$WORK/bad1.topo"
printf '0000:00:00.0 vendor=0x8086 device=0x1234 class=0x020000 acs=yes\n' >"$WORK/bad2.topo"
expect_eq "iommu_group=x is refused" "$("$DEVLIFED" -f -t "$WORK/bad1.topo" "$MNT" 2>&1 | head -1)" "devlifed: $WORK/bad1.topo:1: iommu_group: expected a number up to 65535 or 'none', got 'x'"
expect_eq "acs without PCI Express is refused" "$("$DEVLIFED" -f -t "$WORK/bad2.topo" "$MNT" 2>&1 | head -1)" "devlifed: $WORK/bad2.topo:1: acs needs pcie=yes"
finish
