# Helpers for the end-to-end tests: TAP output, a real devlifed on a real
# FUSE mount in a temporary directory, the real lspci/setpci.
# Sourced by each test-*.sh; expects DEVLIFED and DEVLIFECTL in the
# environment (meson passes the built binaries).
set -u

T=0
FAILED=0
WORK=$(mktemp -d /tmp/devlife-test.XXXXXX)
MNT=$WORK/sys
SOCK=$WORK/host.sock
PID=
mkdir -p "$MNT"

ok() { T=$((T + 1)); echo "ok $T - $*"; }
not_ok() { T=$((T + 1)); FAILED=$((FAILED + 1)); echo "not ok $T - $*"; }
diag() { sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: one test case from a command's status
check() {
	local desc=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag <"$WORK/check.out"
	fi
}
# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf 'got:  %s\nwant: %s\n' "$2" "$3" | diag
	fi
}
finish() {
	echo "1..$T"
	[ "$FAILED" -eq 0 ]
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

require_env() {
	[ -c /dev/fuse ] || skip_all "/dev/fuse is absent"
	command -v lspci >/dev/null || { echo "Bail out! lspci (pciutils) is not installed"; exit 1; }
	[ -x "${DEVLIFED:-}" ] || { echo "Bail out! DEVLIFED not set"; exit 1; }
}

LSPCI="lspci -A linux-sysfs -O sysfs.path=$MNT/bus/pci"
SETPCI="setpci -A linux-sysfs -O sysfs.path=$MNT/bus/pci"
CTL() { "$DEVLIFECTL" -s "$SOCK" "$@"; }

# start_daemon [devlifed options]: mount and wait until it serves
start_daemon() {
	"$DEVLIFED" -f -s "$SOCK" "$@" "$MNT" >"$WORK/daemon.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 200); do
		if [ -e "$MNT/bus/pci/devices" ] && [ -S "$SOCK" ]; then
			return 0
		fi
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "# devlifed exited early:"
			diag <"$WORK/daemon.log"
			return 1
		fi
		sleep 0.05
	done
	echo "# devlifed did not come up"
	return 1
}

# stop_daemon: SIGTERM, wait, report its exit status
stop_daemon() {
	local rc
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	rc=$?
	PID=
	return $rc
}

cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# users_of DBDF: active users of a function, from devlifectl tree
users_of() {
	CTL tree | awk -v d="$1" '$0 ~ d { for (i = 1; i <= NF; i++) if ($i ~ /^users=/) { sub("users=", "", $i); print $i; exit } }'
}

# wait_reads DBDF N: until N config reads are inside the function (max
# 10 s). Each read holds two active references: the filesystem request's
# and the config access's own.
wait_reads() {
	for _ in $(seq 1 200); do
		[ "$(users_of "$1")" = "$(($2 * 2))" ] && return 0
		sleep 0.05
	done
	echo "users of $1: $(users_of "$1"), wanted $(($2 * 2))"
	return 1
}

# A reader that prints the time right after its read returns.
# timed_read FILE OUT: writes "<bytes> <time>" to OUT
timed_read() {
	python3 - "$1" >"$2" 2>&1 <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    data = os.pread(fd, 4096, 0)
    print(len(data), time.time(), data[:4].hex())
except OSError as e:
    print("error", time.time(), e.errno)
PY
}

# timed_write FILE TEXT OUT [READY GO]: writes "<status> <time>" to OUT.
# With READY and GO: opens FILE, creates READY, waits for GO to exist,
# then writes (so that several writers hold the file open at once).
timed_write() {
	python3 - "$@" >"$3" 2>&1 <<'PY'
import os, sys, time
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    if len(sys.argv) > 5:
        open(sys.argv[4], "w").close()
        while not os.path.exists(sys.argv[5]):
            time.sleep(0.01)
    os.write(fd, sys.argv[2].encode())
    print("ok", time.time())
except OSError as e:
    print("error", time.time(), e.errno)
PY
}
