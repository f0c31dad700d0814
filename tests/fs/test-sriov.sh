#!/usr/bin/env bash
# SR-IOV through sysfs, as Linux has it: the sriov_* attributes, VFs
# made and taken away by sriov_numvfs (n -> m is EBUSY, above TotalVFs
# ERANGE, no driver ENOENT), VF identity from the PF's capability
# (routing IDs crossing to the next bus), physfn/virtfnN links,
# sriov_drivers_autoprobe. (lspci's view of `echo 4` and `echo 0` is in
# test-hotplug.sh.)
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
PF=$D/0000:01:00.0
nvfs() { $LSPCI -n 2>/dev/null | grep -c ' 8086:10ed'; }

expect_eq "sriov_totalvfs" "$(cat "$PF/sriov_totalvfs")" 64
expect_eq "sriov_offset" "$(cat "$PF/sriov_offset")" 192
expect_eq "sriov_stride" "$(cat "$PF/sriov_stride")" 2
expect_eq "sriov_vf_device" "$(cat "$PF/sriov_vf_device")" 10ed
expect_eq "sriov_numvfs" "$(cat "$PF/sriov_numvfs")" 0
expect_eq "sriov_drivers_autoprobe" "$(cat "$PF/sriov_drivers_autoprobe")" 1
expect_eq "the PF's driver" "$(basename "$(readlink "$PF/driver")")" devlife-nic

# All 64: VF n is 01:00.0 + 0xc0 + 2n, so VFs 32..63 are on bus 02.
check "echo 64 > sriov_numvfs" bash -c "echo 64 > '$PF/sriov_numvfs'"
expect_eq "64 VFs in lspci" "$(nvfs)" 64
expect_eq "64 VFs in bus/pci/devices" "$(ls "$D" | grep -c '^0000:01:1[89a-f]\.[0246]$\|^0000:02:0[0-7]\.[0246]$')" 64
expect_eq "VF 0 is 01:18.0" "$(readlink "$PF/virtfn0")" ../0000:01:18.0
expect_eq "VF 32 crosses to bus 02" "$(readlink "$PF/virtfn32")" ../0000:02:00.0
expect_eq "VF 63 is 02:07.6" "$(readlink "$PF/virtfn63")" ../0000:02:07.6
check "no virtfn64" test ! -e "$PF/virtfn64"
expect_eq "VF 63's physfn" "$(readlink "$D/0000:02:07.6/physfn")" ../0000:01:00.0
expect_eq "the VF sits beside its PF" "$(readlink -f "$D/0000:02:07.6/..")" "$(readlink -f "$PF/..")"
expect_eq "a VF's vendor and device" "$(cat "$D/0000:02:07.6/vendor") $(cat "$D/0000:02:07.6/device")" "0x8086 0x10ed"
expect_eq "lspci -n of VF 63" "$($LSPCI -n -s 02:07.6 2>/dev/null | awk '{ print $3 }')" 8086:10ed
check "a VF has no sriov_* files" test ! -e "$D/0000:01:18.0/sriov_numvfs"
# The capability follows: NumVFs, VF Enable and VF MSE (setpci reads it).
expect_eq "NumVFs in config" "$($SETPCI -s 01:00.0 ECAP_SRIOV+10.w 2>/dev/null)" 0040
expect_eq "VF Enable and MSE in config" "$($SETPCI -s 01:00.0 ECAP_SRIOV+8.w 2>/dev/null)" 0009
expect_eq "the VF's config reads ffff for its IDs" "$($SETPCI -s 01:18.0 0.l 2>/dev/null)" ffffffff

# Linux's rules
expect_eq "64 -> 5: EBUSY" "$(write_err "$PF/sriov_numvfs" 5)" EBUSY
expect_eq "64 -> 64: nothing to do" "$(write_err "$PF/sriov_numvfs" 64)" OK
expect_eq "65 > TotalVFs: ERANGE" "$(write_err "$PF/sriov_numvfs" 65)" ERANGE
expect_eq "65536: EINVAL" "$(write_err "$PF/sriov_numvfs" 65536)" EINVAL
expect_eq "nothing changed" "$(cat "$PF/sriov_numvfs") $(nvfs)" "64 64"
check "echo 0 > sriov_numvfs" bash -c "echo 0 > '$PF/sriov_numvfs'"
expect_eq "the VFs are gone" "$(nvfs) $(ls "$D" | grep -c '^0000:02:')" "0 0"
check "virtfn0 is gone" gone "$PF/virtfn0"
expect_eq "NumVFs and VF Enable cleared" "$($SETPCI -s 01:00.0 ECAP_SRIOV+10.w 2>/dev/null) $($SETPCI -s 01:00.0 ECAP_SRIOV+8.w 2>/dev/null)" "0000 0000"
check "0 -> 3 -> 0 -> 5" bash -c "echo 3 > '$PF/sriov_numvfs' && echo 0 > '$PF/sriov_numvfs' && echo 5 > '$PF/sriov_numvfs'"
expect_eq "5 VFs" "$(nvfs)" 5
check "echo 0 again" bash -c "echo 0 > '$PF/sriov_numvfs'"

# sriov_drivers_autoprobe: with it off, VFs are added unbound even when a
# driver would take them (pci-stub by driver_override only, so use the
# other port's PF: VFs of 01:00.1 land on 01:18.1, ...)
expect_eq "autoprobe: garbage is EINVAL" "$(write_err "$PF/sriov_drivers_autoprobe" maybe)" EINVAL
check "autoprobe off" bash -c "echo 0 > '$PF/sriov_drivers_autoprobe'"
expect_eq "autoprobe reads 0" "$(cat "$PF/sriov_drivers_autoprobe")" 0
check "VFs with autoprobe off" bash -c "echo 2 > '$PF/sriov_numvfs'"
check "an unbound VF can still be bound through driver_override" bash -c "echo pci-stub > '$D/0000:01:18.0/driver_override' && echo 0000:01:18.0 > '$MNT/bus/pci/drivers/pci-stub/bind'"
expect_eq "bound" "$(basename "$(readlink "$D/0000:01:18.0/driver")")" pci-stub
check "no driver on the other VF" test ! -e "$D/0000:01:18.2/driver"
check "autoprobe on (Linux's kstrtobool: 'on')" bash -c "echo on > '$PF/sriov_drivers_autoprobe' && echo 0 > '$PF/sriov_numvfs'"
expect_eq "autoprobe reads 1" "$(cat "$PF/sriov_drivers_autoprobe")" 1

# Without a PF driver there is nobody to configure SR-IOV (Linux: ENOENT).
check "unbind the PF's driver" bash -c "echo 0000:01:00.0 > '$MNT/bus/pci/drivers/devlife-nic/unbind'"
expect_eq "no driver: ENOENT" "$(write_err "$PF/sriov_numvfs" 4)" ENOENT
expect_eq "no driver, already 0: OK" "$(write_err "$PF/sriov_numvfs" 0)" OK
check "bind it again" bash -c "echo 0000:01:00.0 > '$MNT/bus/pci/drivers/devlife-nic/bind'"
check "VFs again" bash -c "echo 4 > '$PF/sriov_numvfs'"
# The conventional PF driver disables its VFs when it lets go.
check "unbind with VFs enabled" bash -c "echo 0000:01:00.0 > '$MNT/bus/pci/drivers/devlife-nic/unbind'"
expect_eq "unbinding disabled the VFs" "$(nvfs) $(cat "$PF/sriov_numvfs")" "0 0"

expect_eq "no violation" "$(violations)" 0
check "devlifed exits 0 on SIGTERM" stop_daemon
finish
