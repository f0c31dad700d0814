#!/usr/bin/env bash
# Mediated devices through sysfs: a parent's mdev_supported_types (while
# its driver has it registered), create by UUID, the child under its
# parent and in bus/mdev/devices, its own remove; invalid, duplicate and
# one-too-many creates fail with EINVAL, EEXIST and ENOSPC and change
# nothing; the parent's driver unbind and the parent's removal take the
# children with them.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
P=$MNT/devices/pci0000:00/0000:00:02.0
TY=$P/mdev_supported_types/i915-GVTg_V5_4
M=$MNT/bus/mdev/devices
U1=$(uuid 1)
U2=$(uuid 2)
U3=$(uuid 3)
ctl_grep() { CTL tree | grep -q -- "$1"; }
snapshot() { echo "$(ls "$M" | tr '\n' ' ')|$(cat "$TY/available_instances")|$(ls "$TY/devices" | tr '\n' ' ')|$(ls "$P" | grep -c -- -)"; }

expect_eq "the parent's driver" "$(basename "$(readlink "$P/driver")")" mdev-parent
expect_eq "two types" "$(ls "$P/mdev_supported_types" | tr '\n' ' ')" "i915-GVTg_V5_4 i915-GVTg_V5_8 "
expect_eq "a type's files" "$(ls "$TY" | tr '\n' ' ')" "available_instances create description device_api devices name "
expect_eq "name" "$(cat "$TY/name")" i915-GVTg_V5_4
expect_eq "device_api" "$(cat "$TY/device_api")" vfio-pci
check "description" grep -q "at most 2 instances" "$TY/description"
expect_eq "available_instances" "$(cat "$TY/available_instances")" 2
check "create is write-only" test "$(stat -c %a "$TY/create")" = 200
check "bus/mdev/devices is empty" test -z "$(ls "$M")"

check "echo UUID > create" bash -c "echo $U1 > '$TY/create'"
check "the child is a directory of its parent" test -d "$P/$U1"
expect_eq "bus/mdev/devices/UUID points at it" "$(readlink -f "$M/$U1")" "$(readlink -f "$P/$U1")"
expect_eq "its link" "$(readlink "$M/$U1")" "../../../devices/pci0000:00/0000:00:02.0/$U1"
expect_eq "the type's devices/UUID" "$(readlink "$TY/devices/$U1")" "../../../$U1"
expect_eq "the child's mdev_type" "$(readlink -f "$P/$U1/mdev_type")" "$(readlink -f "$TY")"
expect_eq "the child's subsystem" "$(readlink -f "$P/$U1/subsystem")" "$(readlink -f "$MNT/bus/mdev")"
check "the child has remove" test -f "$P/$U1/remove"
expect_eq "one instance left" "$(cat "$TY/available_instances")" 1
check "devlifectl shows it under its parent, bound to vfio_mdev" ctl_grep "^    $U1 LIVE drv=vfio_mdev"

# Failures change nothing.
before=$(snapshot)
expect_eq "invalid UUID: EINVAL" "$(write_err "$TY/create" not-a-uuid)" EINVAL
expect_eq "UUID with a bad digit: EINVAL" "$(write_err "$TY/create" "${U2%?}g")" EINVAL
expect_eq "UUID with trailing junk: EINVAL" "$(write_err "$TY/create" "${U2}xy")" EINVAL
expect_eq "duplicate: EEXIST" "$(write_err "$TY/create" "$U1")" EEXIST
expect_eq "duplicate in upper case, other type: EEXIST" "$(write_err "$P/mdev_supported_types/i915-GVTg_V5_8/create" "$(echo "$U1" | tr a-f A-F)")" EEXIST
expect_eq "nothing changed" "$(snapshot)" "$before"
check "the last instance" bash -c "echo $U2 > '$TY/create'"
expect_eq "none left" "$(cat "$TY/available_instances")" 0
before=$(snapshot)
expect_eq "no instance left: ENOSPC" "$(write_err "$TY/create" "$U3")" ENOSPC
expect_eq "nothing changed after ENOSPC" "$(snapshot)" "$before"
check "no $U3 anywhere" bash -c "! ls -R '$MNT/devices' | grep -q $U3"

# The child's own remove.
check "echo 1 > UUID/remove" bash -c "echo 1 > '$P/$U1/remove'"
check "gone from the parent" gone "$P/$U1"
check "gone from bus/mdev/devices" gone "$M/$U1"
check "gone from the type's devices" gone "$TY/devices/$U1"
expect_eq "its instance is back" "$(cat "$TY/available_instances")" 1
check "the UUID can be used again" bash -c "echo $U1 > '$TY/create'"

# Unbinding the parent's driver removes its children and its types.
check "unbind mdev-parent" bash -c "echo 0000:00:02.0 > '$MNT/bus/pci/drivers/mdev-parent/unbind'"
check "no mdev_supported_types without the driver" gone "$P/mdev_supported_types"
check "the children are gone" test -z "$(ls "$M")"
expect_eq "dead in the trace" "$(trace_count dead "$U1") $(trace_count dead "$U2")" "2 1"
check "bind it again" bash -c "echo 0000:00:02.0 > '$MNT/bus/pci/drivers/mdev-parent/bind'"
expect_eq "all instances free" "$(cat "$TY/available_instances")" 2

# The parent's removal removes its children first.
check "a child again" bash -c "echo $U3 > '$P/mdev_supported_types/i915-GVTg_V5_8/create'"
check "echo 1 > the parent's remove" bash -c "echo 1 > '$P/remove'"
check "the child went with it" gone "$M/$U3"
check "the child was dead before the parent's driver let go" test "$(trace_seq dead "$U3")" -lt "$(trace_seq unbind 0000:00:02.0)"
check "rescan" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
expect_eq "the parent is back, its types empty" "$(cat "$TY/available_instances") $(ls "$M" | wc -l)" "2 0"

expect_eq "no violation" "$(violations)" 0
check "devlifed exits 0 on SIGTERM" stop_daemon
finish
