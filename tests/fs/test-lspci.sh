#!/usr/bin/env bash
# The default topology as the real lspci and setpci see it.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }

names=$(ls "$MNT/bus/pci/devices" | tr '\n' ' ')
expect_eq "bus/pci/devices lists the default functions" "$names" \
	"0000:00:00.0 0000:00:01.0 0000:00:02.0 0000:00:03.0 0000:00:04.0 0000:00:05.0 0000:01:00.0 0000:01:00.1 "

out=$($LSPCI -nn 2>/dev/null)
check "lspci -nn lists 8 functions" test "$(echo "$out" | wc -l)" -eq 8
check "lspci sees the NIC PF with its IDs" grep -q '^01:00.0 Ethernet controller \[0200\]: .*\[8086:10fb\]' <<<"$out"
check "no function reads as absent (rev ff / 0000:0000)" bash -c "! grep -qE 'rev ff|\[0000:0000\]' <<<\"\$0\"" "$out"

tree=$($LSPCI -tv 2>/dev/null)
check "lspci -tv shows the root port's secondary buses" grep -q -- '+-01.0-\[01-02\]--+-00.0' <<<"$tree"
check "lspci -tv shows the second PF behind the root port" grep -q '\\-00.1' <<<"$tree"

vvv=$($LSPCI -vvv -nn -s 01:00.0 2>/dev/null)
check "lspci -vvv decodes the PCI Express capability" grep -q 'Express (v2) Endpoint' <<<"$vvv"
check "lspci -vvv decodes the SR-IOV capability" grep -q 'Initial VFs: 64, Total VFs: 64, Number of VFs: 0' <<<"$vvv"
check "lspci -vvv reads BAR sizes from resource" grep -q 'Region 0: Memory at .* \[size=' <<<"$vvv"
check "lspci -v shows IRQ and NUMA node" bash -c 'grep -q "routed to IRQ" <<<"$0" && grep -q "NUMA node" <<<"$0"' "$vvv"

real=$(realpath "$MNT/bus/pci/devices/0000:01:00.0/..")
expect_eq "realpath(device/..) names the parent bridge" "$real" "$MNT/devices/pci0000:00/0000:00:01.0"
expect_eq "config of a PCIe function is 4096 bytes" "$(stat -c %s "$MNT/bus/pci/devices/0000:01:00.0/config")" 4096
expect_eq "config of a conventional function is 256 bytes" "$(stat -c %s "$MNT/bus/pci/devices/0000:00:05.0/config")" 256
expect_eq "vendor attribute" "$(cat "$MNT/bus/pci/devices/0000:01:00.0/vendor")" 0x8086
expect_eq "class attribute" "$(cat "$MNT/bus/pci/devices/0000:01:00.0/class")" 0x020000
check "modalias attribute" grep -q '^pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00$' "$MNT/bus/pci/devices/0000:01:00.0/modalias"
expect_eq "remove is write-only, 0220 as in pci-sysfs.c" "$(stat -c '%A %U' "$MNT/bus/pci/devices/0000:01:00.0/remove")" "--w--w---- root"
expect_eq "config is 0644" "$(stat -c '%a' "$MNT/bus/pci/devices/0000:01:00.0/config")" 644
expect_eq "subsystem link" "$(readlink "$MNT/bus/pci/devices/0000:01:00.0/subsystem")" "../../../../bus/pci"

# setpci: a writable register changes, a read-only one does not.
before=$($SETPCI -s 01:00.0 COMMAND 2>/dev/null)
$SETPCI -s 01:00.0 COMMAND=0x0006 2>/dev/null
expect_eq "setpci writes COMMAND and reads it back" "$($SETPCI -s 01:00.0 COMMAND 2>/dev/null)" 0006
$SETPCI -s 01:00.0 COMMAND="$before" 2>/dev/null
$SETPCI -s 01:00.0 VENDOR_ID=0x1234 2>/dev/null
expect_eq "setpci cannot change read-only VENDOR_ID" "$($SETPCI -s 01:00.0 VENDOR_ID 2>/dev/null)" 8086
$SETPCI -s 01:00.0 BASE_ADDRESS_0=0xffffffff 2>/dev/null
expect_eq "BAR sizing: all-ones reads back the size mask" "$($SETPCI -s 01:00.0 BASE_ADDRESS_0 2>/dev/null)" fff80004
$SETPCI -s 01:00.0 BASE_ADDRESS_0=0xc0000004 2>/dev/null

# -k names the bound driver through the driver link.
k=$($LSPCI -k -s 00:03.0 2>/dev/null)
check "lspci -k names the bound driver" grep -q 'Kernel driver in use: virtio-pci' <<<"$k"

check "devlifed exits 0 on SIGTERM" stop_daemon
check "the mount is gone after exit" bash -c "! mountpoint -q '$MNT'"
finish
