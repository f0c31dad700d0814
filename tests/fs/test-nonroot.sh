#!/usr/bin/env bash
# The view as an unprivileged user sees it (sysfs's rules): with the
# daemon mounted --allow-other by root, the user `nobody` can list the
# tree and read attributes, reads of config stop at the 64-byte standard
# header (pci_read_config() for !capable(CAP_SYS_ADMIN)), lspci shows
# "<access denied>" for the capabilities, and every control file refuses
# a write with EACCES, changing nothing.
. "$(dirname "$0")/lib.sh"
require_env
command -v setpriv >/dev/null || missing "setpriv (Debian: util-linux) is not installed"
[ "$(id -u)" -eq 0 ] || missing "needs root, to mount for other users and become nobody"
id nobody >/dev/null 2>&1 || missing "there is no user nobody"
# AS_NOBODY CMD...: CMD as nobody, no supplementary groups
AS_NOBODY() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }
# The system's python (root's PATH may lead to interpreters nobody cannot
# reach).
PY=/usr/bin/python3
[ -x $PY ] || missing "$PY is not installed"
# nobody must be able to reach the mount point
chmod 755 "$WORK"
D=$MNT/bus/pci/devices

# Without --allow-other, FUSE lets nobody else in.
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
check "without --allow-other nobody cannot list the tree" bash -c "$(declare -f AS_NOBODY); ! AS_NOBODY ls '$D' >/dev/null 2>&1"
check "devlifed exits 0" stop_daemon

start_daemon --allow-other || { echo "Bail out! devlifed did not start"; exit 1; }
check "with --allow-other nobody lists the tree" AS_NOBODY test -e "$D/0000:01:00.0/vendor"
expect_eq "nobody reads vendor" "$(AS_NOBODY cat "$D/0000:01:00.0/vendor" 2>&1)" "$(cat "$D/0000:01:00.0/vendor")"

# config: root reads it whole, nobody its first 64 bytes, the same ones.
root_len=$(wc -c <"$D/0000:01:00.0/config")
user_len=$(AS_NOBODY cat "$D/0000:01:00.0/config" | wc -c)
check "root reads more than 64 bytes of config" test "$root_len" -gt 64
expect_eq "nobody reads 64 bytes of config" "$user_len" 64
expect_eq "nobody's 64 bytes are the header root reads" \
	"$(AS_NOBODY cat "$D/0000:01:00.0/config" | od -An -tx1)" \
	"$(head -c 64 "$D/0000:01:00.0/config" | od -An -tx1)"
expect_eq "nobody reading at offset 64 gets nothing" \
	"$(AS_NOBODY $PY -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); print(len(os.pread(fd, 4096, 64)))' "$D/0000:01:00.0/config")" 0
out=$(AS_NOBODY $LSPCI -vvv -s 01:00.0 2>&1)
check "lspci as nobody shows the function" grep -q '^01:00.0 ' <<<"$out"
check "lspci as nobody: capabilities <access denied>" grep -q 'Capabilities: <access denied>' <<<"$out"

# Control files: EACCES for nobody, and nothing happens.
# user_write FILE TEXT: the errno name of nobody's write, or OK
user_write() {
	AS_NOBODY $PY - "$1" "$2" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    os.write(fd, sys.argv[2].encode())
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
check "lspci -vvv shows the tree before" bash -c "$LSPCI -vvv >'$WORK/before.txt' && test -s '$WORK/before.txt'"
expect_eq "nobody > remove: EACCES" "$(user_write "$D/0000:00:03.0/remove" 1)" EACCES
expect_eq "nobody > bus/pci/rescan: EACCES" "$(user_write "$MNT/bus/pci/rescan" 1)" EACCES
expect_eq "nobody > sriov_numvfs: EACCES" "$(user_write "$D/0000:01:00.0/sriov_numvfs" 2)" EACCES
expect_eq "nobody > driver_override: EACCES" "$(user_write "$D/0000:00:03.0/driver_override" pci-stub)" EACCES
expect_eq "nobody > config: EACCES" "$(user_write "$D/0000:00:03.0/config" xxxx)" EACCES
expect_eq "nobody > drivers/pci-stub/bind: EACCES" "$(user_write "$MNT/bus/pci/drivers/pci-stub/bind" 0000:00:03.0)" EACCES
check "lspci -vvv shows the tree after" bash -c "$LSPCI -vvv >'$WORK/after.txt' && test -s '$WORK/after.txt'"
check "nothing changed" diff -u "$WORK/before.txt" "$WORK/after.txt"
check "00:03.0 is still there" test -e "$D/0000:00:03.0"
expect_eq "root > remove still works" "$(write_err "$D/0000:00:03.0/remove" 1)" OK
check "devlifed exits 0" stop_daemon
finish
