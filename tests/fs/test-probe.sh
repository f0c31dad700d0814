#!/usr/bin/env bash
# bus/pci/drivers_probe, as drivers/base/bus.c's drivers_probe_store(),
# drivers_autoprobe, and each driver's new_id and remove_id:
# (and module/, the drivers' modules, as drivers/base/module.c has them)
# it attaches a driver to an unbound function (device_attach(): the
# driver_override's, else the first that matches), leaves a bound one or
# one no driver wants as it is and succeeds; an unknown name is ENODEV.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
P=$MNT/bus/pci
D=$P/devices
drv_of() { if [ -L "$D/$1/driver" ]; then basename "$(readlink "$D/$1/driver")"; else echo none; fi; }

expect_eq "drivers_probe is write-only, root's" "$(stat -c %a "$P/drivers_probe")" 200
NET=0000:00:03.0
orig=$(drv_of $NET)
expect_eq "the virtio function's driver" "$orig" virtio-pci
check "unbind it" bash -c "echo $NET > '$P/drivers/$orig/unbind'"
expect_eq "unbound" "$(drv_of $NET)" none
check "drivers_probe binds it again" bash -c "echo $NET > '$P/drivers_probe'"
expect_eq "to the driver that matches it" "$(drv_of $NET)" "$orig"

check "driver_override vfio-pci" bash -c "echo vfio-pci > '$D/$NET/driver_override'"
check "drivers_probe on a bound function: nothing to do" bash -c "echo $NET > '$P/drivers_probe'"
expect_eq "still its driver" "$(drv_of $NET)" "$orig"
check "unbind" bash -c "echo $NET > '$P/drivers/$orig/unbind'"
check "drivers_probe" bash -c "echo $NET > '$P/drivers_probe'"
expect_eq "bound to the override" "$(drv_of $NET)" vfio-pci
check "the driver's directory has it" test -L "$P/drivers/vfio-pci/$NET"
check "unbind from vfio-pci" bash -c "echo $NET > '$P/drivers/vfio-pci/unbind'"
check "override none" bash -c "echo none > '$D/$NET/driver_override'"
check "drivers_probe: no driver is called none, the write succeeds" bash -c "echo $NET > '$P/drivers_probe'"
expect_eq "left unbound" "$(drv_of $NET)" none
check "clear the override" bash -c "echo > '$D/$NET/driver_override'"
check "drivers_probe" bash -c "echo $NET > '$P/drivers_probe'"
expect_eq "its own driver again" "$(drv_of $NET)" "$orig"

# a function no driver wants
TD=0000:00:05.0
expect_eq "the test device has no driver" "$(drv_of $TD)" none
check "drivers_probe on it succeeds" bash -c "echo $TD > '$P/drivers_probe'"
expect_eq "and binds nothing" "$(drv_of $TD)" none

# modules, as module_add_driver() links a built-in driver's
expect_eq "a driver's module link" "$(readlink "$P/drivers/vfio-pci/module")" ../../../../module/vfio_pci
expect_eq "the module's link back" "$(readlink "$MNT/module/vfio_pci/drivers/pci:vfio-pci")" ../../../bus/pci/drivers/vfio-pci
expect_eq "a module per driver" "$(ls "$MNT/module" | tr '\n' ' ')" "$(ls "$P/drivers" | tr '-' '_' | sort | tr '\n' ' ')"
check "no module for no driver" test ! -e "$MNT/module/vfio-pci" -a ! -e "$MNT/module/vfio_pci/drivers/pci:pci-stub"

# bus/pci/drivers_autoprobe (bus.c drivers_autoprobe_show/_store)
AP=$P/drivers_autoprobe
expect_eq "drivers_autoprobe: 644, on" "$(stat -c %a "$AP") $(cat "$AP")" "644 1"
check "turn it off" sh -c "echo 0 > '$AP'"
expect_eq "off" "$(cat "$AP")" 0
check "remove the virtio function" sh -c "echo 1 > '$D/$NET/remove'"
check "rescan" sh -c "echo 1 > '$P/rescan'"
check "it is back" test -d "$D/$NET/"
expect_eq "unbound: an add probes nothing" "$(drv_of $NET)" none
check "anything but a leading 0 turns it on" sh -c "echo yes > '$AP'"
expect_eq "on" "$(cat "$AP")" 1
expect_eq "a function added while off stays unbound" "$(drv_of $NET)" none
check "drivers_probe binds it" sh -c "echo $NET > '$P/drivers_probe'"
expect_eq "to its driver" "$(drv_of $NET)" "$orig"

# new_id, remove_id (pci-driver.c new_id_store(), remove_id_store())
ST=$P/drivers/pci-stub
expect_eq "new_id, remove_id: write-only" "$(stat -c %a "$ST/new_id") $(stat -c %a "$ST/remove_id")" "200 200"
expect_eq "new_id with one field: EINVAL" "$(write_err "$ST/new_id" 1b36)" EINVAL
expect_eq "new_id not in hex: EINVAL" "$(write_err "$ST/new_id" 'xyz 0005')" EINVAL
expect_eq "new_id with driver_data no ID has: EINVAL" "$(write_err "$ST/new_id" '1b36 0005 ffffffff ffffffff 0 0 1')" EINVAL
expect_eq "an ID the driver has already: EEXIST" "$(write_err "$P/drivers/virtio-pci/new_id" '1af4 1041')" EEXIST
expect_eq "the test device still unbound" "$(drv_of $TD)" none
check "new_id 1b36 0005" sh -c "echo 1b36 0005 > '$ST/new_id'"
expect_eq "probed the function it now matches" "$(drv_of $TD)" pci-stub
expect_eq "the same ID again: EEXIST" "$(write_err "$ST/new_id" '1b36 0005')" EEXIST
expect_eq "remove_id with one field: EINVAL" "$(write_err "$ST/remove_id" 1b36)" EINVAL
check "remove_id 1b36 0005" sh -c "echo 1b36 0005 > '$ST/remove_id'"
expect_eq "no such ID now: ENODEV" "$(write_err "$ST/remove_id" '1b36 0005')" ENODEV
expect_eq "the bound function stays" "$(drv_of $TD)" pci-stub
check "unbind it" sh -c "echo $TD > '$ST/unbind'"
expect_eq "pci-stub no longer takes it: ENODEV" "$(write_err "$ST/bind" $TD)" ENODEV
check "a user may not add an ID" sh -c "! setpriv --reuid 4242 --regid 4242 --clear-groups sh -c 'echo 1b36 0005 > $ST/new_id' 2>/dev/null"

# bad input
expect_eq "an unknown function: ENODEV" "$(write_err "$P/drivers_probe" 0000:09:00.0)" ENODEV
expect_eq "a root bus is no PCI function: ENODEV" "$(write_err "$P/drivers_probe" pci0000:00)" ENODEV
expect_eq "an empty line: ENODEV" "$(write_err "$P/drivers_probe" $'\n')" ENODEV
check "a user may not write it" sh -c "! setpriv --reuid 4242 --regid 4242 --clear-groups sh -c 'echo $TD > $P/drivers_probe' 2>/dev/null"
check "the daemon stops cleanly" stop_daemon
finish
