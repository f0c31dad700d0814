#!/usr/bin/env bash
# bus/pci/slots/ as Linux lays it out (drivers/pci/slot.c
# pci_create_slot(), which pciehp's pci_hp_initialize() calls for each
# hot-plug capable root or downstream port): a directory per slot, named
# by the port's Physical Slot Number ("N-1" for the second port with the
# same number: make_slot_name()), with address (address_read_file():
# domain, the port's secondary bus, device 0), max_bus_speed and
# cur_bus_speed (bus_speed_read()); lspci prints a function's "Physical
# Slot" from them (pciutils lib/sysfs.c sysfs_fill_slots()).
. "$(dirname "$0")/lib.sh"
require_env
start_daemon -t "$(dirname "$0")/data/slots.topo" ||
	{ echo "Bail out! devlifed did not start"; exit 1; }
S=$MNT/bus/pci/slots
D=$MNT/bus/pci/devices

expect_eq "bus/pci lists slots" "$(ls "$MNT/bus/pci" | grep -x slots)" slots
expect_eq "one slot per hot-plug port, a shared number told apart" \
	"$(ls "$S" | sort | tr '\n' ' ')" "1 1-1 7 "
expect_eq "slot 1: the first root port's secondary bus" "$(cat "$S/1/address")" 0000:01:00
expect_eq "slot 7: slot=7 on the third root port" "$(cat "$S/7/address")" 0000:03:00
expect_eq "slot 1-1: the downstream port's secondary bus" "$(cat "$S/1-1/address")" 0000:05:00
expect_eq "a slot's files" "$(ls "$S/1" | tr '\n' ' ')" "address cur_bus_speed max_bus_speed "
expect_eq "their modes (slot_attr_show() only)" "$(stat -c %a "$S/1/address" "$S/1/cur_bus_speed" "$S/1/max_bus_speed" | tr '\n' ' ')" "444 444 444 "
expect_eq "cur_bus_speed: the port's Current Link Speed" "$(cat "$S/1/cur_bus_speed")" "$(cat "$D/0000:00:01.0/current_link_speed")"
check "max_bus_speed: a speed of pci_speed_string()" grep -Eqx '(2\.5|5\.0|8\.0|16\.0|32\.0|64\.0) GT/s PCIe|Unknown' "$S/1/max_bus_speed"
check "no slot for slot=no" sh -c "! grep -rqx 0000:02:00 '$S'/*/address"
check "writing address is refused" sh -c "! echo 0000:09:00 > '$S/1/address' 2>/dev/null"

# lspci: "Physical Slot" of the functions at device 0 of a slot's bus
$LSPCI -v >"$WORK/lspci.out" 2>&1
slot_of() { awk -v f="$1" '/^[0-9a-f]/ { cur = $1 } cur == f && /Physical Slot:/ { print $3 }' "$WORK/lspci.out"; }
expect_eq "lspci: 01:00.0 in slot 1" "$(slot_of 01:00.0)" 1
expect_eq "lspci: 05:00.0 in slot 1-1" "$(slot_of 05:00.0)" 1-1
expect_eq "lspci: 03:00.0 (the switch) in slot 7" "$(slot_of 03:00.0)" 7
expect_eq "lspci: 02:00.0 in none" "$(slot_of 02:00.0)" ""

# a slot lives as long as its port
check "remove the downstream port" sh -c "echo 1 > '$D/0000:04:00.0/remove'"
check "its slot is gone when the write returns" test ! -e "$S/1-1"
expect_eq "the others stay" "$(ls "$S" | sort | tr '\n' ' ')" "1 7 "
check "rescan" sh -c "echo 1 > '$MNT/bus/pci/rescan'"
check "the slot is back" test -e "$S/1-1"
expect_eq "at its address" "$(cat "$S/1-1/address")" 0000:05:00

# An import has the slots its source had (sysfs: slots/*/address), and
# no others: a dump of config space cannot say whether a slot was
# registered (the Slot Capabilities say only that one could be).
M2=$WORK/mnt2
mkdir -p "$M2"
"$DEVLIFED" -f -s "$WORK/sock2" --import-sysfs "$MNT/bus/pci" "$M2" >"$WORK/d2.log" 2>&1 &
P2=$!
wait_until test -e "$M2/bus/pci/devices"
expect_eq "an import of the view: its slots" "$(ls "$M2/bus/pci/slots" | sort | tr '\n' ' ')" "1 1-1 7 "
expect_eq "at the same addresses" "$(cat "$M2"/bus/pci/slots/*/address | sort | tr '\n' ' ')" \
	"$(cat "$S"/*/address | sort | tr '\n' ' ')"
kill "$P2"; wait "$P2" 2>/dev/null
mountpoint -q "$M2" && fusermount3 -u "$M2"
for f in 0000:00:00.0 0000:00:01.0 0000:01:00.0; do # the files, no links
	mkdir -p "$WORK/src/devices/$f"
	for a in "$D/$f"/*; do
		[ -f "$a" ] && [ ! -L "$a" ] && cat "$a" >"$WORK/src/devices/$f/${a##*/}" 2>/dev/null
	done
done
"$DEVLIFED" -f -s "$WORK/sock2" --import-sysfs "$WORK/src" "$M2" >"$WORK/d2.log" 2>&1 &
P2=$!
wait_until test -e "$M2/bus/pci/devices"
expect_eq "the import of files alone has its functions" "$(ls "$M2/bus/pci/devices" | tr '\n' ' ')" \
	"0000:00:00.0 0000:00:01.0 0000:01:00.0 "
expect_eq "a source without slots/: none" "$(ls "$M2/bus/pci/slots" | tr '\n' ' ')" ""
kill "$P2"; wait "$P2" 2>/dev/null
mountpoint -q "$M2" && fusermount3 -u "$M2"
check "the daemon stops cleanly" stop_daemon
finish
