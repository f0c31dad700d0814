#!/usr/bin/env bash
# What the kernel computes for every PCI function rather than stores
# (drivers/pci/pci-sysfs.c, drivers/base/core.c): uevent (dev_uevent(),
# pci_uevent()), the PCI Express link (current_link_speed_show() and its
# siblings, from the capability lspci decodes too), local_cpus and
# local_cpulist (pci_dev_show_local_cpu(): the host's CPUs), the DMA
# masks; and class/mdev_bus, where a driver's registration puts a parent
# of mediated devices (mdev_register_parent()).
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
PF=$D/0000:01:00.0

# uevent, from the function's own attributes
hex() { printf '%04X' "$(cat "$1/$2")"; }
want_uevent() {
	local d=$1 c
	c=$(cat "$d/class")
	[ -L "$d/driver" ] && echo "DRIVER=$(basename "$(readlink "$d/driver")")"
	printf 'PCI_CLASS=%04X\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=%s:%s\nPCI_SLOT_NAME=%s\n' \
		"$c" "$(hex "$d" vendor)" "$(hex "$d" device)" \
		"$(hex "$d" subsystem_vendor)" "$(hex "$d" subsystem_device)" "$(basename "$d")"
	printf 'MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n' \
		"$(cat "$d/vendor")" "$(cat "$d/device")" "$(cat "$d/subsystem_vendor")" \
		"$(cat "$d/subsystem_device")" $((c >> 16)) $(((c >> 8) & 0xff)) $((c & 0xff))
}
expect_eq "the PF's uevent" "$(cat "$PF/uevent")" "$(want_uevent "$PF")"
expect_eq "its MODALIAS is the modalias attribute's" \
	"$(sed -n 's/^MODALIAS=//p' "$PF/uevent")" "$(cat "$PF/modalias")"
for d in "$D"/*; do
	[ "$(cat "$d/uevent")" = "$(want_uevent "$d")" ] || not_ok "uevent of $(basename "$d")"
done
ok "every function's uevent"
check "a driver-less function's uevent has no DRIVER" sh -c "! grep -q DRIVER= '$D/0000:00:00.0/uevent'"
check "one VF" bash -c "echo 1 > '$PF/sriov_numvfs'"
expect_eq "the VF's uevent" "$(cat "$D/0000:01:18.0/uevent")" "$(want_uevent "$D/0000:01:18.0")"
check "no VF" bash -c "echo 0 > '$PF/sriov_numvfs'"

# the link: lspci reads the same capability
lnk() { $LSPCI -vvv -s "$1" 2>/dev/null | sed -n "s/.*$2:.*Speed \([0-9.]*\)GT\/s[^,]*, Width x\([0-9]*\).*/\1 \2/p"; }
speed() { sed 's/^\([0-9.]*\) GT\/s PCIe$/\1/; s/^\([0-9]*\)\.0$/\1/' "$1"; }
for f in 01:00.0 00:01.0; do
	d=$D/0000:$f
	expect_eq "$f: current_link_speed and width are LnkSta's" \
		"$(speed "$d/current_link_speed") $(cat "$d/current_link_width")" "$(lnk "$f" LnkSta)"
	expect_eq "$f: max_link_speed and width are LnkCap's" \
		"$(speed "$d/max_link_speed") $(cat "$d/max_link_width")" "$(lnk "$f" LnkCap)"
done
expect_eq "the format: pci_speed_string()" "$(cat "$PF/max_link_speed")" "5.0 GT/s PCIe"
check "00:02.0 is a Root Complex integrated endpoint" sh -c "$LSPCI -vvv -s 00:02.0 2>/dev/null | grep -q 'Root Complex Integrated Endpoint'"
expect_eq "which has no link: Unknown, 0" \
	"$(cat "$D/0000:00:02.0/current_link_speed") $(cat "$D/0000:00:02.0/max_link_width")" "Unknown 0"
check "a function without the Express capability has no link files" \
	sh -c "! $LSPCI -vvv -s 00:03.0 2>/dev/null | grep -q Express && test ! -e '$D/0000:00:03.0/current_link_speed'"

# local CPUs: those of the function's NUMA node, or every online CPU
node=$(cat "$PF/numa_node")
if [ "$node" -ge 0 ] && [ -e /sys/devices/system/node/node$node ]; then
	want=/sys/devices/system/node/node$node/cpulist
else
	want=/sys/devices/system/cpu/online
fi
expect_eq "local_cpulist: $want" "$(cat "$PF/local_cpulist")" "$(cat $want)"
if [ "$node" = 0 ] && [ -e /sys/devices/system/node/node0 ]; then
	expect_eq "local_cpus: the mask as the kernel prints it (node0's cpumap)" \
		"$(cat "$PF/local_cpus")" "$(cat /sys/devices/system/node/node0/cpumap)"
else
	ok "local_cpus against node0's cpumap # SKIP the PF is not on node 0 here"
fi
expect_eq "the DMA masks: pci_setup_device()'s 32 bits" \
	"$(cat "$PF/dma_mask_bits") $(cat "$PF/consistent_dma_mask_bits")" "32 32"
expect_eq "read-only" "$(stat -c %a "$PF/local_cpus" "$PF/current_link_speed" | sort -u)" 444
# drivers/base/core.c: DEVICE_ATTR_RW(uevent), a write synthesizes an event
expect_eq "uevent is writable by root, as the kernel's" "$(stat -c %a "$PF/uevent")" 644
# class/mdev_bus: the GPU's driver registered it as an mdev parent
GPU=0000:00:02.0
expect_eq "class/mdev_bus lists the parent" "$(ls "$MNT/class/mdev_bus")" $GPU
expect_eq "a link to its directory" "$(readlink "$MNT/class/mdev_bus/$GPU")" "../../devices/pci0000:00/$GPU"
expect_eq "its types through it" "$(ls "$MNT/class/mdev_bus/$GPU/mdev_supported_types" | tr '\n' ' ')" \
	"$(ls "$D/$GPU/mdev_supported_types" | tr '\n' ' ')"
drv=$(basename "$(readlink "$D/$GPU/driver")")
check "unbind the parent's driver" bash -c "echo $GPU > '$MNT/bus/pci/drivers/$drv/unbind'"
check "it leaves the class" test ! -e "$MNT/class/mdev_bus/$GPU"
expect_eq "class/mdev_bus is empty" "$(ls "$MNT/class/mdev_bus")" ""
check "bind it again" bash -c "echo $GPU > '$MNT/bus/pci/drivers/$drv/bind'"
check "it is back" test -L "$MNT/class/mdev_bus/$GPU"
check "a NIC is not an mdev parent" test ! -e "$MNT/class/mdev_bus/0000:01:00.0"
check "the daemon stops cleanly" stop_daemon
finish
