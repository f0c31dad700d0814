#!/bin/bash
# Real clients of uevents and of udev's database, under devlife-run (its
# own devlifed --uevents in a private user, network and mount namespace,
# the tree at /sys, a private /run/udev), each asserting the events it
# must see, in order: udevadm monitor --kernel --udev --property, udevadm
# info, pyudev (Debian's python3-pyudev) Monitor and
# Context.list_devices, a small libudev program (udev-client.c), and
# devlifectl monitor, which must print what udevadm monitor prints, a
# raw listener on one socket bound to both groups (nl-listen.py), and
# a listener that finds a write's events queued when it returns
# (write-returns.py).
#
# Environment: DEVLIFED, DEVLIFECTL, DEVLIFE_RUN, UDEV_CLIENT.
set -u
if [ -z "${DL_IN_RUN:-}" ]; then
	[ -x "${DEVLIFE_RUN:-}" ] || { echo "Bail out! DEVLIFE_RUN not set"; exit 1; }
	[ -c /dev/fuse ] || { echo "1..0 # SKIP /dev/fuse is absent"; exit 0; }
	exec timeout 200 "$DEVLIFE_RUN" -- env DL_IN_RUN=1 bash "$0" "$@"
fi
source "$(dirname "$0")/../fs/lib.sh"
require_env
command -v udevadm >/dev/null || { echo "Bail out! udevadm is missing (scripts/deps.sh installs udev)"; exit 1; }
/usr/bin/python3 -c 'import pyudev' 2>/dev/null || { echo "Bail out! python3-pyudev is missing (scripts/deps.sh)"; exit 1; }
SOCK=$DEVLIFE_SOCKET
check "devlife-run made /run/udev with sd-device's control file" test -e /run/udev/control
# sd-device takes a device for real only if its directory is on sysfs
# (src/libsystemd/sd-device/sd-device.c device_set_syspath():
# fd_is_fs_type(SYSFS_MAGIC)) unless SYSTEMD_DEVICE_VERIFY_SYSFS=0: the
# view is FUSE, so devlife-run sets it for its command.
expect_eq "devlife-run sets SYSTEMD_DEVICE_VERIFY_SYSFS=0" "${SYSTEMD_DEVICE_VERIFY_SYSFS:-}" 0
PF=0000:01:00.0
# wait_for FILE TEXT: poll (with a deadline) until FILE contains TEXT
wait_for() {
	for _ in $(seq 1 400); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.025
	done
	return 1
}
# wait_until COMMAND...: poll (with a deadline) until COMMAND succeeds
wait_until() {
	for _ in $(seq 1 400); do
		"$@" 2>/dev/null && return 0
		sleep 0.025
	done
	"$@"
}

# the events below: 2 VFs added then the PF's change (sriov_enable()),
# the VFs removed (sriov_disable() sends no change), the eject's unbind
# and remove, the synthesized change
NEV=8
"$UDEV_CLIENT" $NEV >"$WORK/c.out" 2>&1 &
CPID=$!
/usr/bin/python3 "$(dirname "$0")/pyudev-client.py" $NEV >"$WORK/py.out" 2>&1 &
PYPID=$!
udevadm monitor --kernel --udev --property >"$WORK/mon.out" 2>&1 &
MPID=$!
/usr/bin/python3 "$(dirname "$0")/nl-listen.py" $NEV >"$WORK/nl.out" 2>&1 &
NLPID=$!
# the host channel's stream of the same events, in udevadm's layout
"$DEVLIFECTL" -s "$SOCK" monitor --property >"$WORK/ctl.out" 2>&1 &
CTLPID=$!
check "libudev program listens" wait_for "$WORK/c.out" '^ready'
check "pyudev listens" wait_for "$WORK/py.out" '^ready'
check "the raw listener listens" wait_for "$WORK/nl.out" '^ready'
# udevadm has no "ready": it prints its header once its monitors are set
# up (udevadm-monitor.c sets them up first)
check "udevadm monitor listens" wait_for "$WORK/mon.out" 'KERNEL - the kernel uevent'
check "devlifectl monitor listens" wait_for "$WORK/ctl.out" 'KERNEL - the kernel uevent'

echo 2 >/sys/bus/pci/devices/$PF/sriov_numvfs
VF0=$(basename "$(readlink /sys/bus/pci/devices/$PF/virtfn0)")
VF1=$(basename "$(readlink /sys/bus/pci/devices/$PF/virtfn1)")
echo 0 >/sys/bus/pci/devices/$PF/sriov_numvfs
CTL eject 0000:00:04.0 >/dev/null
# a write to `uevent` is a synthesized event (uevent_store()); a bad one
# is refused and sends nothing
if echo bogus >/sys/devices/pci0000:00/0000:00:03.0/uevent 2>"$WORK/bad.err"; then
	not_ok "a bad uevent write is refused"
else
	check "a bad uevent write is refused with EINVAL" grep -q "Invalid argument" "$WORK/bad.err"
fi
echo "change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b MODE=1" >/sys/devices/pci0000:00/0000:00:03.0/uevent
check "uevent reads the kernel's variables" \
	grep -qx 'PCI_SLOT_NAME=0000:00:03.0' /sys/devices/pci0000:00/0000:00:03.0/uevent

want="add $VF0
add $VF1
change $PF
remove $VF0
remove $VF1
unbind 0000:00:04.0
remove 0000:00:04.0
change 0000:00:03.0"

wait "$CPID"; crc=$?
wait "$PYPID"; pyrc=$?
expect_eq "libudev program exits 0 after $NEV events" "$crc" 0
expect_eq "libudev program: the events in order" \
	"$(grep -E '^(add|remove|change|bind|unbind) ' "$WORK/c.out" | cut -d' ' -f1-2)" "$want"
expect_eq "pyudev exits 0 after $NEV events" "$pyrc" 0
expect_eq "pyudev: the events in order" \
	"$(grep -E '^(add|remove|change|bind|unbind) ' "$WORK/py.out" | cut -d' ' -f1-2)" "$want"
# SEQNUMs: increasing, the same for both clients
seqs=$(grep -E '^(add|remove|change|unbind) ' "$WORK/c.out" | cut -d' ' -f3 | tr '\n' ' ')
pyseqs=$(grep -E '^(add|remove|change|unbind) ' "$WORK/py.out" | cut -d' ' -f3 | tr '\n' ' ')
expect_eq "both clients saw the kernel's SEQNUMs" "$pyseqs" "$seqs"
check "SEQNUMs increase" bash -c "echo '$seqs' | tr ' ' '\n' | grep . | sort -n -c"
check "libudev enumerates 0000:00:03.0, initialized (udev's database)" \
	grep -qx 'enum 0000:00:03.0 initialized=1' "$WORK/c.out"
check "pyudev lists 0000:00:03.0 and the PF" \
	bash -c "grep -qx 'enum 0000:00:03.0' '$WORK/py.out' && grep -qx 'enum $PF' '$WORK/py.out'"

# On one socket bound to both groups, each event's kernel copy comes
# before udev's (udevd sends its copy after it received the kernel's).
wait "$NLPID"; nlrc=$?
expect_eq "one socket on both groups: $NEV udev copies, each after its kernel copy" "$nlrc" 0
[ "$nlrc" = 0 ] || diag <"$WORK/nl.out"
expect_eq "one socket on both groups: the events in order" \
	"$(grep '^UDEV ' "$WORK/nl.out" | cut -d' ' -f3,4 | sed 's|/.*/||')" "$want"

# udevadm monitor: every event's two copies (each group's whole block
# printed: the last event's copies are the change's)
MC="/usr/bin/python3 $(dirname "$0")/monitor-check.py"
check "udevadm monitor printed $NEV kernel and $NEV udev events" \
	wait_until $MC complete "$WORK/mon.out" $NEV
kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null
for ev in "add.*/$VF0 (pci)" "change.*/$PF (pci)" "remove.*/$VF0 (pci)" "remove.*/0000:00:04.0 (pci)"; do
	check "udevadm monitor: KERNEL $ev" grep -q "^KERNEL\[.*$ev" "$WORK/mon.out"
	check "udevadm monitor: UDEV $ev" grep -q "^UDEV  \[.*$ev" "$WORK/mon.out"
done
# udevadm reads the groups on two sockets in one event loop, which
# dispatches two readable sockets in its own order: between the groups
# its output has no order; within each it has the kernel's (SEQNUM), and
# each udev copy pairs with a kernel copy (monitor-check.py)
check "udevadm monitor: each group in SEQNUM order, each udev copy paired with its kernel copy" \
	$MC pairs "$WORK/mon.out" $NEV
check "udevadm monitor: the synthesized change carries SYNTH_UUID and SYNTH_ARG_MODE" \
	bash -c "grep -qx 'SYNTH_UUID=8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b' '$WORK/mon.out' && grep -qx 'SYNTH_ARG_MODE=1' '$WORK/mon.out'"
# devlifectl monitor: the same events, both copies, the same variables,
# in udevadm's layout (header, "%-6s[SEC.USEC] %-8s DEVPATH (SUBSYSTEM)",
# KEY=VALUE lines, a blank line)
check "devlifectl monitor printed $NEV kernel and $NEV udev events" \
	wait_until $MC complete "$WORK/ctl.out" $NEV
kill "$CTLPID" 2>/dev/null; wait "$CTLPID" 2>/dev/null
check "devlifectl monitor --property prints, group by group, what udevadm monitor --property prints" \
	$MC same "$WORK/ctl.out" "$WORK/mon.out"
check "devlifectl monitor: one stream, each udev copy after its kernel copy" \
	$MC ordered "$WORK/ctl.out"

# mdevctl's udev rule (Debian's mdevctl, 60-mdevctl.rules) starts a
# parent's defined mdevs on its registration: ACTION=="change",
# ENV{MDEV_STATE}=="registered", TEST=="/etc/mdevctl.d/$kernel". The
# parent's driver is unbound and bound again (mdev_unregister_parent(),
# mdev_register_parent()); the rules file, evaluated on the udev copies
# received (udev-rules.py), must match the registration and nothing else,
# and the program it runs, mdevctl itself, must start the defined mdev
# from the tree.
RULES=/usr/lib/udev/rules.d/60-mdevctl.rules
MP=0000:00:02.0
MUUID=3e1b2c4d-5f60-4a71-8b92-a3b4c5d6e7f8
if [ -f "$RULES" ] && command -v mdevctl >/dev/null; then
	check "a private /etc/mdevctl.d" bash -c "mount -t tmpfs tmpfs /etc/mdevctl.d && mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers"
	check "mdevctl defines an mdev of $MP, started with its parent" \
		mdevctl define -u $MUUID -p $MP -t i915-GVTg_V5_4 --auto
	/usr/bin/python3 "$(dirname "$0")/nl-listen.py" 4 "$WORK/mdev.json" >"$WORK/nl2.out" 2>&1 &
	NL2=$!
	check "the raw listener listens" wait_for "$WORK/nl2.out" '^ready'
	echo $MP >/sys/bus/pci/drivers/mdev-parent/unbind
	echo $MP >/sys/bus/pci/drivers/mdev-parent/bind
	wait "$NL2"; expect_eq "4 udev copies of the parent's unbind and bind" "$?" 0
	expect_eq "the parent's events as the kernel's mdev core and driver core send them" \
		"$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["ACTION"], e["DEVPATH"].rsplit("/", 1)[1], e.get("MDEV_STATE", "-"))' "$WORK/mdev.json")" \
		"change $MP unregistered
unbind $MP -
change $MP registered
bind $MP -"
	/usr/bin/python3 "$(dirname "$0")/udev-rules.py" "$RULES" "$WORK/mdev.json" >"$WORK/rules.out" 2>&1
	expect_eq "mdevctl's rules match the registration's change alone" \
		"$(grep -v '^run ' "$WORK/rules.out" | cut -d' ' -f2-)" "change /devices/pci0000:00/$MP"
	check "the matching rule runs mdevctl start-parent-mdevs $MP" \
		grep -q "^run .*/mdevctl start-parent-mdevs $MP " "$WORK/rules.out"
	diag <"$WORK/rules.out"
	# what the rule's RUN does, without its logger pipes (the rule names
	# /usr/sbin/mdevctl; Debian's package installs /usr/bin/mdevctl)
	check "mdevctl start-parent-mdevs $MP" mdevctl start-parent-mdevs $MP
	check "mdevctl started the defined mdev in the tree" test -e /sys/bus/mdev/devices/$MUUID
else
	missing "mdevctl or its $RULES is missing (scripts/deps.sh installs mdevctl)"
fi

# udevadm info: what the view and udev's database say
udevadm info /sys/bus/pci/devices/0000:00:03.0 >"$WORK/info.out" 2>&1
check "udevadm info: its devpath" grep -qx 'P: /devices/pci0000:00/0000:00:03.0' "$WORK/info.out"
check "udevadm info: SUBSYSTEM=pci" grep -qx 'E: SUBSYSTEM=pci' "$WORK/info.out"
check "udevadm info: DRIVER=virtio-pci" grep -qx 'E: DRIVER=virtio-pci' "$WORK/info.out"
check "udevadm info: USEC_INITIALIZED from the database" grep -q '^E: USEC_INITIALIZED=[1-9]' "$WORK/info.out"
diag <"$WORK/info.out"

# When a write or a host request returns, its kernel uevents are already
# on the listening sockets, as Linux sends them from the store itself
# (write-returns.py says why).
/usr/bin/python3 "$(dirname "$0")/write-returns.py" 50 "$DEVLIFECTL" "$SOCK" >"$WORK/wr.out" 2>&1
check "each write's kernel uevents are queued when it returns" grep -qx 'rounds 50 missing 0' "$WORK/wr.out"
diag <"$WORK/wr.out"

finish
