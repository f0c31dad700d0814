#!/usr/bin/env bash
# devlife-run: COMMAND sees the tree at /sys in place of the host's PCI
# parts and the rest of the host's /sys; exit statuses; nothing is left
# behind (process, mount namespace, socket, directory) whether COMMAND
# exits, leaves children, or the runner is signalled or killed; an
# unprivileged user drives their own tree as root of the namespace; a
# clear message where a user namespace or /dev/fuse is refused; --attach.
. "$(dirname "$0")/../fs/lib.sh"
require_env
[ "$(id -u)" -eq 0 ] || skip_all "needs root (plays an unprivileged user with setpriv)"
[ -x "${DEVLIFE_RUN:-}" ] || { echo "Bail out! DEVLIFE_RUN not set"; exit 1; }
RUN=$DEVLIFE_RUN
PF=/sys/bus/pci/devices/0000:01:00.0
set -m # background jobs take SIGINT as a user's would

# in_run CMD: run CMD (a shell line) under devlife-run; stdout, stderr
# in $WORK/run.out, $WORK/run.err; returns the runner's status
in_run() { timeout 120 "$RUN" -- sh -c "$1" >"$WORK/run.out" 2>"$WORK/run.err"; }

# --- what COMMAND sees -------------------------------------------------
in_run 'cat '$PF'/vendor '$PF'/sriov_totalvfs; stat -f -c %T /sys/bus/pci /sys/devices/pci0000:00 /sys/bus/mdev /sys/devices/system /sys/bus'
expect_eq "the tree's 01:00.0 at /sys, the tree's parts on FUSE, the host's on sysfs, bus/ rebuilt" \
	"$(tr '\n' ' ' <"$WORK/run.out")" "0x8086 64 fuseblk fuseblk fuseblk sysfs tmpfs "
check "the host has no bus 01" test ! -e $PF
check "nor bus/mdev (the tree's is grafted in)" test ! -e /sys/bus/mdev
in_run 'readlink -f /sys/module/vfio_pci/drivers/pci:vfio-pci; test -d /sys/module/kernel && echo host'
expect_eq "the tree's modules in /sys/module beside the host's" "$(tr '\n' ' ' <"$WORK/run.out")" "/sys/bus/pci/drivers/vfio-pci host "
# /lib/modules/$(uname -r) with the tree's drivers built in: modprobe
# finds them and loads nothing, modinfo says "(builtin)", libkmod's
# indexes load (lspci -k), a module the tree lacks is still not found
if command -v modprobe >/dev/null; then
	in_run 'modprobe vfio-pci && echo loaded; modinfo -F filename vfio_pci; lspci -k -s 00:03.0 2>&1 | grep -c "Unable to load libkmod"
		modprobe -q no-such-module || echo absent'
	expect_eq "modprobe vfio-pci: built in; libkmod loads; another module is not found" \
		"$(tr '\n' ' ' <"$WORK/run.out")" "loaded (builtin) 0 absent "
	in_run 'ls -A /usr/lib' && ls -A /usr/lib | sed '$a modules' | sort -u >"$WORK/lib.want"
	expect_eq "/usr/lib: the host's entries, and modules" "$(sort "$WORK/run.out")" "$(cat "$WORK/lib.want")"
	check "and outside, the host's /lib/modules names none of them" \
		sh -c "! grep -qs '^kernel/devlife/' /lib/modules/$(uname -r)/modules.builtin"
else
	ok "modprobe # SKIP Debian's kmod is not installed (scripts/deps.sh installs it)"
fi
in_run 'readlink /sys/bus/pci/devices/0000:01:00.1/iommu_group; ls /sys/kernel/iommu_groups/1/devices; lspci -vvv -s 01:00.1 | grep "IOMMU group"'
expect_eq "the tree's IOMMU groups at /sys/kernel/iommu_groups" "$(tr '\n' ' ' <"$WORK/run.out")" \
	"../../../../kernel/iommu_groups/1 0000:00:01.0 0000:01:00.0 0000:01:00.1 	IOMMU group: 1 "
for p in devices/system/cpu/cpu0 class/net/lo bus/cpu firmware kernel/mm block; do
	if [ -e "/sys/$p" ]; then
		in_run "test -e /sys/$p"
		expect_eq "the host's /sys/$p is still there" "$?" 0
	fi
done
in_run 'ls /sys/bus' && ls /sys/bus | sed '$a mdev' | sort >"$WORK/bus.want"
expect_eq "bus/ holds the host's buses and mdev" "$(sort "$WORK/run.out")" "$(cat "$WORK/bus.want")"
in_run 'lspci -n -s 01:00.0'
expect_eq "lspci with no option finds the tree's NIC" "$(awk '{ print $3 }' "$WORK/run.out")" 8086:10fb
# setpci with no option: the Command register's SERR# enable, set and
# read back through the tree's config, where lspci sees it too
in_run 'serr() { lspci -vv -s 01:00.0 | grep -o "SERR[+-]" | head -1; }
	setpci -s 01:00.0 COMMAND; serr; setpci -s 01:00.0 COMMAND=0100:0100; setpci -s 01:00.0 COMMAND; serr'
expect_eq "setpci with no option writes the tree's config (SERR# enable, off before)" \
	"$(sed -n '2,4p' "$WORK/run.out" | tr '\n' ' ')" \
	"SERR- $(printf '%04x' $((0x$(sed -n 1p "$WORK/run.out") | 0x100))) SERR+ "
in_run 'mkdir /sys/bus/x 2>&1; touch /sys/bus/pci/x 2>&1; true'
expect_eq "rebuilt directories are read-only; the tree's refuse as sysfs does" \
	"$(grep -c 'Read-only file system' "$WORK/run.out") $(grep -c 'Permission denied' "$WORK/run.out")" "1 1"
if [ -n "${WALK_PCI_STATIC:-}" ]; then
	check "the walker is statically linked" sh -c "! readelf -l '$WALK_PCI_STATIC' | grep -q INTERP"
	in_run "$WALK_PCI_STATIC"
	expect_eq "a static program sees the tree's functions" \
		"$(grep '^0000:01:00.0 ' "$WORK/run.out")" "0000:01:00.0 0x8086 0x10fb"
	expect_eq "and outside it does not" "$("$WALK_PCI_STATIC" | grep -c '^0000:01:')" 0
else
	ok "a static program # SKIP glibc's static library (libc6-dev's libc.a) is missing"
fi

# hwloc: the tree's PCI hierarchy under the host's CPUs, with the link
# speeds the tree's functions report
if command -v lstopo-no-graphics >/dev/null; then
	in_run 'lstopo-no-graphics --whole-io --of xml'
	python3 - "$WORK/run.out" "$(nproc --all)" >"$WORK/hwloc.out" 2>&1 <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
machine = root.find("object")
pus = len(machine.findall(".//object[@type='PU']"))
def find(node, busid, path):
    for c in node.findall("object"):
        here = path + [c]
        if c.get("pci_busid") == busid:
            return here
        r = find(c, busid, here)
        if r:
            return r
    return None
path = find(machine, "0000:01:00.0", [machine])
print(pus == int(sys.argv[2]), path is not None and path[-2].get("type") == "Bridge"
      and path[-2].get("pci_busid") == "0000:00:01.0", path[-1].get("pci_link_speed") if path else None)
PY
	expect_eq "lstopo: the host's PUs, the tree's NIC behind its root port, its link 5 GT/s x8 = 4 GB/s" \
		"$(cat "$WORK/hwloc.out")" "True True 4.000000"
else
	ok "lstopo # SKIP hwloc-nox is not installed (scripts/deps.sh installs it)"
fi

# mdevctl: the types of the tree's mdev parent, a device started and
# stopped by UUID
if command -v mdevctl >/dev/null; then
	U=5a3c1e22-9b0d-4c6e-8f21-0d4e6b7a9c11
	GPU=0000:00:02.0
	in_run 'ls /sys/class/mdev_bus/'$GPU'/mdev_supported_types | tr "\n" " "; echo
		mdevctl types | sed -n "s/^  \([^ ].*\)/\1/p" | tr "\n" " "; echo
		T=$(ls /sys/class/mdev_bus/'$GPU'/mdev_supported_types | head -1)
		mdevctl start -u '$U' -p '$GPU' -t "$T" && readlink /sys/bus/mdev/devices/'$U'/mdev_type | xargs basename
		mdevctl list | awk "NF { print \$1, \$2 }"
		mdevctl stop -u '$U' && test ! -e /sys/bus/mdev/devices/'$U' && echo gone'
	expect_eq "mdevctl types: the parent's types" "$(sed -n 2p "$WORK/run.out")" "$(sed -n 1p "$WORK/run.out")"
	expect_eq "mdevctl start: the device appears with its type; list shows it; stop: it goes" \
		"$(sed -n '3,5p' "$WORK/run.out" | tr '\n' '|')" "$(sed -n 1p "$WORK/run.out" | cut -d' ' -f1)|$U $GPU|gone|"
else
	ok "mdevctl # SKIP mdevctl is not installed (scripts/deps.sh installs it)"
fi

# driverctl (--nosave: the host's /etc/driverctl.d stays as it is)
if command -v driverctl >/dev/null; then
	NET=0000:00:03.0
	in_run 'driverctl list-devices | grep "^'$NET' "
		driverctl --nosave set-override '$NET' none && readlink /sys/bus/pci/devices/'$NET'/driver || echo unbound
		driverctl list-overrides
		driverctl --nosave unset-override '$NET' && basename $(readlink /sys/bus/pci/devices/'$NET'/driver)'
	expect_eq "driverctl list-devices, set-override none, list-overrides, unset-override (drivers_probe)" \
		"$(tr '\n' '|' <"$WORK/run.out")" "$NET virtio-pci|unbound|$NET (none)|virtio-pci|"
	# driverctl looks for /sys/module/vfio-pci, which Linux never has
	# (the module is vfio_pci), and so runs /sbin/modprobe -q vfio-pci:
	# the runner's /lib/modules/$(uname -r) has it built in
	in_run 'driverctl --nosave set-override '$NET' vfio-pci && basename $(readlink /sys/bus/pci/devices/'$NET'/driver)
		driverctl --nosave unset-override '$NET' && basename $(readlink /sys/bus/pci/devices/'$NET'/driver)'
	expect_eq "driverctl set-override vfio-pci binds vfio-pci (its modprobe succeeds), unset-override the driver back" \
		"$(tr '\n' '|' <"$WORK/run.out")" "vfio-pci|virtio-pci|"
else
	ok "driverctl # SKIP driverctl is not installed (scripts/deps.sh installs it)"
fi

# dpdk-devbind.py (Debian's dpdk package): --status, -b vfio-pci
# (driver_override, then bind), -u, -b back to the original driver
if command -v dpdk-devbind.py >/dev/null; then
	NET=0000:00:03.0
	in_run 'drv() { if [ -L /sys/bus/pci/devices/'$NET'/driver ]; then basename $(readlink /sys/bus/pci/devices/'$NET'/driver); else echo none; fi; }
		st() { dpdk-devbind.py --status-dev net 2>/dev/null | awk "/^Network devices using/ { s = \$4 } /^'$NET' / { for (i = 1; i <= NF; i++) if (\$i ~ /^drv=/) print s, \$i }"; }
		st; dpdk-devbind.py -b vfio-pci '$NET' && drv; st
		dpdk-devbind.py -u '$NET' && drv
		dpdk-devbind.py -b virtio-pci '$NET' && drv; st'
	expect_eq "dpdk-devbind.py --status, -b vfio-pci, --status, -u, -b virtio-pci, --status" \
		"$(tr '\n' '|' <"$WORK/run.out")" \
		"kernel drv=virtio-pci|vfio-pci|DPDK-compatible drv=vfio-pci|none|virtio-pci|kernel drv=virtio-pci|"
else
	ok "dpdk-devbind.py # SKIP Debian's dpdk is not installed (scripts/deps.sh installs it)"
fi

# --- exit status -------------------------------------------------------
in_run 'exit 3'; expect_eq "COMMAND's status" "$?" 3
in_run 'kill -SEGV $$'; expect_eq "128 + the signal that killed it" "$?" 139
timeout 60 "$RUN" -- /nonexistent/cmd 2>"$WORK/run.err"
expect_eq "a COMMAND that is not found: 127" "$?" 127
check "and why" grep -q 'nonexistent/cmd: No such file' "$WORK/run.err"
echo 'echo ran' >"$WORK/not-executable"
chmod 644 "$WORK/not-executable"
timeout 60 "$RUN" -- "$WORK/not-executable" 2>/dev/null
expect_eq "a COMMAND that cannot run: 126" "$?" 126
"$RUN" 2>/dev/null; expect_eq "no COMMAND: usage, 2" "$?" 2
"$RUN" /tmp -- true 2>/dev/null; expect_eq "a mount point given: usage, 2" "$?" 2

# --- nothing left behind -----------------------------------------------
# ns_users KIND NS: the processes in namespace NS (KIND: mnt or pid)
ns_users() { for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/$1" 2>/dev/null)" = "$2" ] && echo "${p#/proc/}"; done; }
ns_empty() { [ -z "$(ns_users "$1" "$2")" ]; }
# COMMAND's line in $WORK/run.out: its namespaces and the socket
IDS='echo $(readlink /proc/self/ns/mnt) $DEVLIFE_SOCKET $(readlink /proc/self/ns/pid)'
# COMMAND's background child, found by its arguments
BG="sleep 1000 $$"
# nothing_left WHAT: COMMAND's background child, its namespaces, the
# staging directory and the mounts in it are gone
nothing_left() {
	local ns sock pidns
	read -r ns sock pidns <"$WORK/run.out"
	expect_eq "$1: COMMAND's background child ended" "$(pgrep -fx "$BG")" ""
	expect_eq "$1: no process in COMMAND's mount namespace (its mounts gone)" "$(ns_users mnt "$ns")" ""
	expect_eq "$1: none in its PID namespace (what it left in the background ended)" "$(ns_users pid "$pidns")" ""
	expect_eq "$1: no staging directory, no socket" "$(ls -d "$(dirname "$sock")" 2>/dev/null)" ""
	expect_eq "$1: no mount of the runner's" "$(grep -c "$(dirname "$sock")" /proc/self/mountinfo)" 0
}
mkfifo "$WORK/ready"
in_run "$IDS; $BG & true"
check "COMMAND has a PID namespace of its own" test "$(cut -d' ' -f3 "$WORK/run.out")" != "$(readlink /proc/self/ns/pid)"
nothing_left "COMMAND exits"
in_run "$IDS; $BG & kill -SEGV \$\$"
expect_eq "COMMAND crashes: 139" "$?" 139
nothing_left "COMMAND crashes"
in_run 'sh -c "trap \"\" TERM; echo >'"$WORK/ready"'; exec '"$BG"'" & read x <'"$WORK/ready"'; '"$IDS"
expect_eq "a leftover that ignores SIGTERM: COMMAND's status" "$?" 0
nothing_left "a leftover that ignores SIGTERM"

# The runner signalled while COMMAND waits: it passes the signal on,
# exits 128 + it, and leaves nothing.
start_waiting() {
	"$RUN" -- sh -c "$BG & $IDS"' >'"$WORK/run.out"'; echo >'"$WORK/ready"'; wait' \
		2>"$WORK/run.err" &
	RPID=$!
	read -r _ <"$WORK/ready"
	RNS=$(readlink /proc/$RPID/ns/mnt)
}
for sig in INT TERM HUP; do
	start_waiting
	kill -$sig $RPID
	wait $RPID
	rc=$?
	n=$(kill -l $sig)
	expect_eq "SIG$sig to the runner: COMMAND gets it, the runner exits 128+$n" "$rc" $((128 + n))
	nothing_left "SIG$sig"
	expect_eq "SIG$sig: none in the runner's mount namespace (the daemon's)" "$(ns_users mnt "$RNS")" ""
done

# The runner killed outright: the daemon gets SIGTERM, COMMAND's init
# SIGKILL (PR_SET_PDEATHSIG), and with it all of COMMAND's PID namespace,
# the background child too; the daemon unmounts and removes its socket.
start_waiting
kids=$(for p in /proc/[0-9]*; do awk -v r=$RPID '$4 == r { print $1 }' "$p/stat" 2>/dev/null; done)
dpid=$(for k in $kids; do [ "$(cat /proc/$k/comm)" = devlifed ] && echo $k; done)
check "the runner's children: the daemon and COMMAND's init" test "$(echo $kids | wc -w)" = 2 -a -n "$dpid"
read -r ns sock pidns <"$WORK/run.out"
check "COMMAND's PID namespace holds the init, COMMAND and its background child" test "$(ns_users pid "$pidns" | wc -l)" = 3
kill -KILL $RPID
wait $RPID 2>/dev/null
check "the daemon ends" wait_until test ! -e /proc/$dpid
check "COMMAND's background child ends" wait_until sh -c "! pgrep -fx '$BG'"
check "nothing is left in COMMAND's PID namespace, the background child neither" wait_until ns_empty pid "$pidns"
check "nor in its mount namespace" wait_until ns_empty mnt "$ns"
check "nor in the runner's (the daemon's FUSE mount goes with it)" wait_until ns_empty mnt "$RNS"
check "the socket is gone" test ! -e "$sock"
expect_eq "no mount of the runner's" "$(grep -c "$(dirname "$sock")" /proc/self/mountinfo)" 0
expect_eq "only the empty staging directory is left" "$(ls -A "$(dirname "$sock")" | tr '\n' ' ')" "mnt work "
rm -rf "$(dirname "$sock")"

# --- the host channel, from outside, while COMMAND runs ----------------
mkfifo "$WORK/go"
"$RUN" -- sh -c 'echo $DEVLIFE_SOCKET >'"$WORK/ready"'; read x <'"$WORK/go"'; test -e /sys/bus/pci/devices/0000:00:04.0; echo $?' \
	>"$WORK/run.out" 2>"$WORK/run.err" &
RPID=$!
read -r sock <"$WORK/ready"
check "devlifectl ejects from outside" "$DEVLIFECTL" -s "$sock" eject 0000:00:04.0
echo go >"$WORK/go"
wait $RPID
expect_eq "COMMAND sees the function gone" "$(cat "$WORK/run.out")" 1

# --- an unprivileged user ----------------------------------------------
# as_user UID /DEV/FUSE-MODE CMD...: run CMD as UID (no groups) in a
# mount namespace of root's where /dev/fuse has the given mode (a node of
# our own: the host's stays as it is).
as_user() {
	local uid=$1 mode=$2
	shift 2
	mkdir -p "$WORK/dev"
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=755 tmpfs "$1" && mknod -m "$2" "$1/fuse" c 10 229 &&
		mount --bind "$1/fuse" /dev/fuse && shift 2 && exec "$@"' sh "$WORK/dev" "$mode" \
		setpriv --reuid "$uid" --regid "$uid" --clear-groups env TMPDIR=/tmp "$@"
}
as_user 4242 666 timeout 120 "$RUN" -- sh -c 'id -u; stat -c %u:%g '$PF'/sriov_numvfs; echo 2 > '$PF'/sriov_numvfs && ls '$PF' | grep -c virtfn' \
	>"$WORK/run.out" 2>"$WORK/run.err"
expect_eq "a user: root in the namespace, owns the tree's files, makes 2 VFs" "$(tr '\n' ' ' <"$WORK/run.out")" "0 0:0 2 "
as_user 4242 600 timeout 120 "$RUN" -- true >/dev/null 2>"$WORK/run.err"
expect_eq "a user without /dev/fuse: exit 1" "$?" 1
check "and a message saying what it needs" grep -q 'needs /dev/fuse open to users (mode 0666' "$WORK/run.err"

# A system that forbids the user namespace: inside a user namespace of
# root's, whose user.max_user_namespaces is 0 (the host's is untouched).
UTMP=$(mktemp -d /tmp/devlife-run-test.XXXXXX) # a user can reach it
chmod 1777 "$UTMP"
unshare -U -- sh -c 'echo >"$1"; read x <"$1"; python3 -c "open(\"/proc/sys/user/max_user_namespaces\", \"w\").write(\"0\")" &&
	setpriv --reuid 4242 --regid 4242 --clear-groups env TMPDIR="$2" "$3" -- true' sh "$WORK/go" "$UTMP" "$RUN" \
	2>"$WORK/run.err" &
upid=$!
read -r _ <"$WORK/go" # it has its user namespace: map root's ids there
echo "0 0 65536" >/proc/$upid/uid_map
echo "0 0 65536" >/proc/$upid/gid_map
echo go >"$WORK/go"
wait $upid
expect_eq "no user namespace allowed: exit 1" "$?" 1
check "and a message naming the limit" grep -q "user.max_user_namespaces = 0" "$WORK/run.err"
expect_eq "and no staging directory left" "$(ls -A "$UTMP")" ""
rmdir "$UTMP"

# --- --attach ----------------------------------------------------------
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
timeout 60 "$RUN" --attach "$MNT" -- sh -c 'cat '$PF'/sriov_numvfs; echo 1 > '$PF'/sriov_numvfs' >"$WORK/run.out" 2>"$WORK/run.err"
expect_eq "--attach: COMMAND drives the running daemon's tree" "$(cat "$WORK/run.out") $(cat "$MNT/bus/pci/devices/0000:01:00.0/sriov_numvfs")" "0 1"
check "the attached daemon still serves" kill -0 "$PID"
timeout 60 "$RUN" --attach "$WORK/dev" -- true 2>"$WORK/run.err"
expect_eq "--attach to something else: exit 1" "$?" 1
check "and why" grep -q 'is not a devlife tree' "$WORK/run.err"
check "the daemon stops cleanly" stop_daemon

# A user serves a tree of their own (through fusermount3): the files
# are theirs and they drive it, directly and, as root of the namespace,
# through --attach.
UTMP=$(mktemp -d /tmp/devlife-run-test.XXXXXX)
chown 65534:65534 "$UTMP" # fusermount3 wants a user with a name
as_user 65534 666 sh -c '
	mkdir "$1/m" && "$2" -s "$1/s" "$1/m" || exit 1
	f=$1/m/bus/pci/devices/0000:01:00.0/sriov_numvfs
	echo $(stat -c %u "$f") $(id -u)
	echo 1 >"$f" && cat "$f"
	"$3" --attach "$1/m" -- sh -c "stat -c %u $f; echo 0 >$f && echo 3 >$f && cat $f"
	fusermount3 -u "$1/m"' sh "$UTMP" "$DEVLIFED" "$RUN" >"$WORK/run.out" 2>"$WORK/run.err"
expect_eq "a user's own daemon: their files; they write them; inside --attach, root's, and root writes" \
	"$(tr '\n' ' ' <"$WORK/run.out")" "65534 65534 1 0 3 "
rm -rf "$UTMP"

finish
