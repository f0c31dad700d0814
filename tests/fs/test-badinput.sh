#!/usr/bin/env bash
# Garbage into every writable file and the host channel: a clear error,
# nothing changed.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
# snapshot FILE CMD...: CMD's output into FILE; fails if CMD fails or
# prints nothing (a comparison of two empty outputs proves nothing).
snapshot() {
	local f=$1
	shift
	"$@" >"$f" 2>"$f.err" || { echo "$* failed:"; cat "$f.err"; return 1; }
	[ -s "$f" ] || { echo "$* printed nothing"; return 1; }
}
# same FILE1 FILE2: identical, or the difference
same() { diff -u "$1" "$2"; }
check "lspci -vvv shows the tree before" snapshot "$WORK/before.txt" $LSPCI -vvv

# write_err FILE TEXT -> prints the errno name of the write; TEXT may
# hold Python escapes (\x00) for bytes a shell argument cannot carry.
write_err() {
	python3 - "$1" "$2" <<'PY'
import codecs, errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    os.write(fd, codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1"))
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

expect_eq "garbage > remove: EINVAL" "$(write_err "$D/0000:00:03.0/remove" garbage)" EINVAL
expect_eq "-1 > remove: EINVAL" "$(write_err "$D/0000:00:03.0/remove" -1)" EINVAL
expect_eq "overlong > remove: EINVAL" "$(write_err "$D/0000:00:03.0/remove" "$(head -c 5000 /dev/zero | tr '\0' 1)")" EINVAL
# A store reads its buffer as a C string (kernfs terminates it at the
# byte count; kstrtoul() stops at the first NUL): what follows a NUL is
# not seen, and a NUL first is the empty text.
expect_eq "NUL first > remove: EINVAL" "$(write_err "$D/0000:00:03.0/remove" 'x\x001')" EINVAL
expect_eq "'0' NUL junk > remove: accepted, nothing removed" "$(write_err "$D/0000:00:03.0/remove" '0\x00junk') $(test -e "$D/0000:00:03.0" && echo there)" "OK there"
expect_eq "a lone NUL > remove: EINVAL" "$(write_err "$D/0000:00:03.0/remove" '\x00')" EINVAL
expect_eq "garbage > rescan: EINVAL" "$(write_err "$MNT/bus/pci/rescan" yes)" EINVAL
expect_eq "unknown device > bind: ENODEV" "$(write_err "$MNT/bus/pci/drivers/pci-stub/bind" 0000:0f:1f.7)" ENODEV
expect_eq "garbage > bind: ENODEV" "$(write_err "$MNT/bus/pci/drivers/pci-stub/bind" '../../etc')" ENODEV
expect_eq "overlong > bind: ENODEV or EINVAL" "$(write_err "$MNT/bus/pci/drivers/pci-stub/bind" "$(head -c 300 /dev/zero | tr '\0' a)" | sed 's/EINVAL/ENODEV/')" ENODEV
expect_eq "unbind of a device bound elsewhere: ENODEV" "$(write_err "$MNT/bus/pci/drivers/pci-stub/unbind" 0000:00:03.0)" ENODEV
expect_eq "garbage > sriov_numvfs: EINVAL" "$(write_err "$D/0000:01:00.0/sriov_numvfs" four)" EINVAL
expect_eq "-1 > sriov_numvfs: EINVAL" "$(write_err "$D/0000:01:00.0/sriov_numvfs" -1)" EINVAL
expect_eq "above TotalVFs > sriov_numvfs: ERANGE" "$(write_err "$D/0000:01:00.0/sriov_numvfs" 65)" ERANGE
expect_eq "bad name > driver_override: EINVAL" "$(write_err "$D/0000:00:03.0/driver_override" 'a b\x01')" EINVAL
expect_eq "write to a read-only attribute: EACCES" "$(write_err "$D/0000:00:03.0/vendor" 0x1234 | sed 's/EPERM/EACCES/')" EACCES

# The namespace as sysfs keeps it: creating a file EACCES, every other
# change EPERM (never FUSE's ENOSYS), and nothing appears or goes.
ns_err() {
	python3 - "$@" <<'PY'
import errno, os, sys
op, a = sys.argv[1], sys.argv[2]
b = sys.argv[3] if len(sys.argv) > 3 else None
try:
    {"create": lambda: os.close(os.open(a, os.O_WRONLY | os.O_CREAT, 0o644)),
     "mkdir": lambda: os.mkdir(a), "unlink": lambda: os.unlink(a),
     "rmdir": lambda: os.rmdir(a), "rename": lambda: os.rename(a, b),
     "symlink": lambda: os.symlink(b, a), "link": lambda: os.link(a, b),
     "mknod": lambda: os.mkfifo(a)}[op]()
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
check "ls -R lists the namespace before" snapshot "$WORK/listing.txt" ls -R "$MNT/bus/pci"
expect_eq "create a file in a device directory: EACCES" "$(ns_err create "$D/0000:00:03.0/new")" EACCES
expect_eq "create a file at bus/pci: EACCES" "$(ns_err create "$MNT/bus/pci/new")" EACCES
expect_eq "mkdir: EPERM" "$(ns_err mkdir "$MNT/bus/pci/drivers/mine")" EPERM
expect_eq "unlink an attribute: EPERM" "$(ns_err unlink "$MNT/bus/pci/rescan")" EPERM
expect_eq "unlink a device link: EPERM" "$(ns_err unlink "$D/0000:00:03.0")" EPERM
expect_eq "rmdir a driver: EPERM" "$(ns_err rmdir "$MNT/bus/pci/drivers/virtio-pci")" EPERM
expect_eq "rename an attribute: EPERM" "$(ns_err rename "$MNT/bus/pci/rescan" "$MNT/bus/pci/rescan2")" EPERM
expect_eq "symlink: EPERM" "$(ns_err symlink "$D/0000:00:1f.0" "../../../devices/pci0000:00/0000:00:03.0")" EPERM
expect_eq "hard link: EPERM" "$(ns_err link "$MNT/bus/pci/rescan" "$MNT/bus/pci/again")" EPERM
expect_eq "mknod: EPERM" "$(ns_err mknod "$MNT/bus/pci/fifo")" EPERM
check "ls -R lists the namespace after" snapshot "$WORK/listing2.txt" ls -R "$MNT/bus/pci"
check "the namespace is unchanged" same "$WORK/listing.txt" "$WORK/listing2.txt"

check "lspci -vvv shows the tree after" snapshot "$WORK/after.txt" $LSPCI -vvv
check "nothing changed" same "$WORK/before.txt" "$WORK/after.txt"

# The host channel.
ctl_err() { CTL "$@" 2>&1 >/dev/null; echo "rc=$?"; }
check "unknown command: error, exit 1" bash -c "$(declare -f CTL ctl_err); DEVLIFECTL='$DEVLIFECTL' SOCK='$SOCK' ctl_err frobnicate | grep -q 'rc=1'"
check "bad address: EINVAL" bash -c "'$DEVLIFECTL' -s '$SOCK' eject 0000:zz:00.0 2>&1 | grep -q EINVAL"
check "eject of a missing device: ENODEV" bash -c "'$DEVLIFECTL' -s '$SOCK' eject 0000:00:1f.0 2>&1 | grep -q ENODEV"
check "add with a bad key: EINVAL with a reason" bash -c "'$DEVLIFECTL' -s '$SOCK' add 0000:00:10.0 bogus=1 2>&1 | grep -q EINVAL"
check "add on an occupied address: EEXIST" bash -c "'$DEVLIFECTL' -s '$SOCK' add 0000:00:03.0 vendor=0x1af4 device=0x1041 class=0x020000 2>&1 | grep -q EEXIST"
check "garbage bytes on the socket get an error line" bash -c "printf 'tr\x00ee\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.recv(4096).decode(errors=\"replace\"))' '$SOCK' | grep -q '^error EINVAL'"
check "lspci -vvv shows the tree at the end" snapshot "$WORK/after2.txt" $LSPCI -vvv
check "still nothing changed" same "$WORK/before.txt" "$WORK/after2.txt"
check "the daemon still serves" CTL tree
check "devlifed exits 0 on SIGTERM" stop_daemon
finish
