#!/usr/bin/env bash
# The sample drivers and the online attribute, end to end: each driver
# chosen by the topology file or driver_override; sriov-pf enables VFs in
# probe; auto-online onlines asynchronously; `online` exists only where
# the driver can online and offline, and refuses with ENODEV once the
# device's removal has begun; faulty fails its probe with the chosen
# errno and gives up on error recovery; slow takes its time.
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
start_daemon -t "$DATA/drivers.topo" || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
drv() { local l; if l=$(readlink "$D/$1/driver" 2>/dev/null); then basename "$l"; else echo none; fi; }

expect_eq "bus/pci/drivers lists the sample drivers" \
	"$(ls "$MNT/bus/pci/drivers" | grep -c '^\(sriov-pf\|mdev-parent\|auto-online\|slow\|faulty\)$')" 5
expect_eq "drivers by topology line" "$(drv 0000:01:00.0) $(drv 0000:00:02.0) $(drv 0000:00:03.0) $(drv 0000:00:04.0) $(drv 0000:00:06.0)" \
	"sriov-pf mdev-parent auto-online slow faulty"

# sriov-pf: four VFs from probe
expect_eq "sriov-pf enabled 4 VFs in probe" "$(cat "$D/0000:01:00.0/sriov_numvfs") $($LSPCI -n 2>/dev/null | grep -c 8086:154c)" "4 4"
check "and serves sriov_numvfs" bash -c "echo 0 > '$D/0000:01:00.0/sriov_numvfs' && echo 8 > '$D/0000:01:00.0/sriov_numvfs'"
expect_eq "8 VFs" "$($LSPCI -n 2>/dev/null | grep -c 8086:154c)" 8

# online: only where the driver supports it
check "online on auto-online" test -f "$D/0000:00:03.0/online"
check "online on slow" test -f "$D/0000:00:04.0/online"
check "no online on virtio-pci" test ! -e "$D/0000:00:07.0/online"
check "no online on sriov-pf" test ! -e "$D/0000:01:00.0/online"
check "auto-online onlined from its probe" wait_until grep -qx 1 "$D/0000:00:03.0/online"
check "echo 0 > online" bash -c "echo 0 > '$D/0000:00:03.0/online'"
expect_eq "offline" "$(cat "$D/0000:00:03.0/online")" 0
expect_eq "garbage > online: EINVAL" "$(write_err "$D/0000:00:03.0/online" maybe)" EINVAL
check "echo 1 > online" bash -c "echo 1 > '$D/0000:00:03.0/online'"
expect_eq "online" "$(cat "$D/0000:00:03.0/online")" 1
expect_eq "online and offline in the trace" "$(trace_count online 0000:00:03.0) $(trace_count offline 0000:00:03.0)" "2 1"

# driver_override picks a sample driver; the online file follows the driver
check "unbind virtio-pci" bash -c "echo 0000:00:07.0 > '$MNT/bus/pci/drivers/virtio-pci/unbind'"
check "driver_override slow, bind" bash -c "echo slow > '$D/0000:00:07.0/driver_override' && echo 0000:00:07.0 > '$MNT/bus/pci/drivers/slow/bind'"
expect_eq "now slow" "$(drv 0000:00:07.0)" slow
check "now with online" test -f "$D/0000:00:07.0/online"

# once the removal has begun, online is refused with ENODEV (slow's
# remove takes 1 s; the writer opened the file before)
check "online the slow device" bash -c "echo 1 > '$D/0000:00:04.0/online'"
write_errno "$D/0000:00:04.0/online" 0 "$WORK/online.w" "$WORK/ready" "$WORK/go" &
w=$!
wait_until test -e "$WORK/ready"
echo 1 >"$D/0000:00:04.0/remove" &
r=$!
check "the removal has begun" wait_until removal_begun 0000:00:04.0
touch "$WORK/go"
wait $w $r
expect_eq "offline during the removal: ENODEV" "$(awk '{ print $1 }' "$WORK/online.w")" ENODEV
check "the slow device is gone" gone "$D/0000:00:04.0"
expect_eq "it was never offlined" "$(trace_count offline 0000:00:04.0)" 0

# faulty
expect_eq "faulty's probe failed: unbound" "$(drv 0000:00:05.0)" none
check "the trace has its probe-fail" bash -c "$DEVLIFECTL -s '$SOCK' trace --raw | grep -q 'probe-fail 0000:00:05.0 -5$'"
expect_eq "binding again fails with EIO" "$(write_err "$MNT/bus/pci/drivers/faulty/bind" 0000:00:05.0)" EIO
check "error recovery: faulty gives up" bash -c "$DEVLIFECTL -s '$SOCK' error 0000:00:06.0 | grep -q 'the driver gave up; removed and rescanned'"
expect_eq "back, bound again" "$(drv 0000:00:06.0)" faulty

# slow: an add whose probe takes 300 ms
t0=$(date +%s%N)
check "add a slow device" CTL add 0000:00:08.0 vendor=0x1b36 device=0x0005 class=0x00ff00 driver=slow probe_delay_us=300000
check "the add waited for the probe" test $(( ($(date +%s%N) - t0) / 1000000 )) -ge 300
expect_eq "slow" "$(drv 0000:00:08.0)" slow

expect_eq "no violation" "$(violations)" 0
check "devlifed exits 0 on SIGTERM" stop_daemon
finish
