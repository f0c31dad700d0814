#!/usr/bin/env bash
# A function's `reset`, `reset_method` (drivers/pci/pci-sysfs.c
# reset_store(), drivers/pci/pci.c reset_method_show()/_store()) and its
# power/ directory (drivers/base/power/sysfs.c), through the mount with a
# shell and setpci: every accepted and refused form, modes, what a reset
# keeps and clears, runtime PM across unbind and bind, time that is never
# served from a cache.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
DRV=$MNT/bus/pci/drivers

# w FILE TEXT: one write(2) of TEXT (Python escapes); OK or the errno
w() {
	python3 - "$@" <<'PY'
import codecs, errno, os, sys
data = codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1")
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    n = os.write(fd, data)
    print("OK" if n == len(data) else "SHORT %d" % n)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
# r FILE: its contents, or the errno of the read
r() {
	python3 - "$1" <<'PY'
import errno, sys
try:
    print(open(sys.argv[1], "rb").read().decode(), end="")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
mode() { stat -c %a "$1"; }

F=$D/0000:01:00.0   # PCIe, alone on bus 01 when added, devlife-nic
G=$D/0000:01:00.1   # PCIe, added beside it
U=$D/0000:00:05.0   # conventional, no driver
H=$D/0000:00:00.0   # host bridge: no capabilities

# --- reset and reset_method --------------------------------------------
expect_eq "modes: reset 0200, reset_method 0644" "$(mode $F/reset) $(mode $F/reset_method)" "200 644"
expect_eq "methods probed at add: function 0 alone on its bus, function 1 beside it" \
	"$(cat $F/reset_method)|$(cat $G/reset_method)" "flr bus|flr"
check "no method, no files (conventional function)" test ! -e $U/reset -a ! -e $U/reset_method
check "no files on a bridge" test ! -e $D/0000:00:01.0/reset
check "reset is listed" sh -c "ls $F | grep -qx reset"
expect_eq "reading reset is refused" "$(r $F/reset)" EACCES

# reset_store(): kstrtoul(buf, 0), only 1
for t in 1 '1\n' '+1' 0x1 01 '1\x00junk'; do
	expect_eq "reset: '$t' resets" "$(w $F/reset "$t")" OK
done
for t in 0 2 -1 ' 1' '1\n\n' x '\x00' 1x 0x; do
	expect_eq "reset: '$t' is EINVAL" "$(w $F/reset "$t")" EINVAL
done
check "a shell's echo 1 > reset" sh -c "echo 1 > $F/reset"
ms=$(python3 -c 'import sys, time; t = time.monotonic(); open(sys.argv[1], "w").write("1"); print(int((time.monotonic() - t) * 1000))' $F/reset)
check "the write returns after the FLR's 100 ms ($ms ms)" test "$ms" -ge 100

# what the reset keeps (the header, as pci_restore_state()) and clears
# (a register no state save covers: PM Control's PME_En)
$SETPCI -s 01:00.0 COMMAND=0146 CAP_PM+4.w=0100
cmd=$($SETPCI -s 01:00.0 COMMAND); pm=$($SETPCI -s 01:00.0 CAP_PM+4.w)
# (PM Control reads 0008 beside: No_Soft_Reset, read-only)
expect_eq "before: Command and PME_En as written" "$cmd $pm" "0146 0108"
echo 1 >$F/reset
expect_eq "after: Command restored, PME_En back at its reset value" \
	"$($SETPCI -s 01:00.0 COMMAND) $($SETPCI -s 01:00.0 CAP_PM+4.w)" "0146 0008"
expect_eq "the driver stays bound" "$(basename "$(readlink $F/driver)")" devlife-nic
# a PF's reset: its VFs stay, their registers back at reset values
echo 1 >$F/sriov_numvfs
VF=$(basename "$(readlink $F/virtfn0)")
$SETPCI -s $VF COMMAND=0004
expect_eq "a VF's Command as written" "$($SETPCI -s $VF COMMAND)" 0004
echo 1 >$F/reset
expect_eq "after the PF's reset: the VF is there, its Command at reset value" \
	"$(cat $F/sriov_numvfs) $($SETPCI -s $VF COMMAND)" "1 0000"
echo 0 >$F/sriov_numvfs

# reset_method_store(): names separated by spaces, each supported
expect_eq "reset_method: flr" "$(w $F/reset_method 'flr\n') $(cat $F/reset_method)" "OK flr"
for t in bogus bus pm 'flr,bus' 'flr\tbus' FLR ' default' 'default\n\n' 'flr flr flr flr flr flr flr flr'; do
	expect_eq "reset_method: '$t' is EINVAL, nothing changes" "$(w $F/reset_method "$t") $(cat $F/reset_method)" "EINVAL flr"
done
expect_eq "reset_method: bus, now that 01:00.1 is beside it, is EINVAL" "$(w $F/reset_method bus)" EINVAL
expect_eq "reset_method: spaces around and between, repeats kept" \
	"$(w $F/reset_method ' flr  flr ') $(cat $F/reset_method)" "OK flr flr"
expect_eq "reset_method: a newline alone empties it (an empty file)" \
	"$(w $F/reset_method '\n') $(stat -c %s $F/reset_method) $(r $F/reset_method | wc -c)" "OK 4096 0"
check "the files stay" test -e $F/reset
expect_eq "then a reset is ENOTTY" "$(w $F/reset 1)" ENOTTY
expect_eq "reset_method: default probes again (01:00.1 is there now)" \
	"$(w $F/reset_method default) $(cat $F/reset_method)" "OK flr"
expect_eq "reset works again" "$(w $F/reset 1)" OK

# --- power/ ---------------------------------------------------------------
want="autosuspend_delay_ms control runtime_active_time runtime_status runtime_suspended_time"
wake="wakeup wakeup_abort_count wakeup_active wakeup_active_count wakeup_count wakeup_expire_count wakeup_last_time_ms wakeup_max_time_ms wakeup_total_time_ms"
expect_eq "power/ of a function that can wake (PM capability with PME)" \
	"$(ls $F/power | tr '\n' ' ')" "$want $wake "
expect_eq "power/ of a host bridge: no PM capability, no wakeup files" \
	"$(ls $H/power | tr '\n' ' ')" "$want "
check "power is listed as a directory" test -d $F/power
R=$MNT/devices/pci0000:00/power
expect_eq "a root bus: the runtime files, runtime PM unsupported" \
	"$(ls $R | tr '\n' ' ')| $(cat $R/control $R/runtime_status $R/runtime_active_time $R/runtime_suspended_time | tr '\n' ' ')" \
	"$want | auto unsupported 0 0 "
expect_eq "a root bus: control takes on, nothing else changes; bogus is EINVAL" \
	"$(w $R/control on) $(cat $R/control $R/runtime_status | tr '\n' ' ')$(w $R/control bogus) $(w $R/control auto)" "OK on unsupported EINVAL OK"
expect_eq "a root bus: autosuspend_delay_ms is EIO" "$(r $R/autosuspend_delay_ms)" EIO
expect_eq "modes" "$(cd $F/power && stat -c '%n %a' control runtime_status runtime_active_time runtime_suspended_time autosuspend_delay_ms wakeup wakeup_count | tr '\n' ' ')" \
	"control 644 runtime_status 444 runtime_active_time 444 runtime_suspended_time 444 autosuspend_delay_ms 644 wakeup 644 wakeup_count 444 "
expect_eq "pci_pm_init() forbids: on, active, never suspended" \
	"$(cat $U/power/control) $(cat $U/power/runtime_status) $(cat $U/power/runtime_suspended_time)" "on active 0"
expect_eq "autosuspend_delay_ms: EIO without autosuspend" "$(r $U/power/autosuspend_delay_ms)" EIO
for t in 100 x; do
	expect_eq "autosuspend_delay_ms: writing '$t' is EIO" "$(w $U/power/autosuspend_delay_ms "$t")" EIO
done
for t in bogus 'auto\n\n' '\x00' ' on' Auto; do
	expect_eq "control: '$t' is EINVAL, nothing changes" "$(w $U/power/control "$t") $(cat $U/power/control)" "EINVAL on"
done
expect_eq "control: auto suspends the unbound function" \
	"$(w $U/power/control 'auto\n') $(cat $U/power/control) $(cat $U/power/runtime_status)" "OK auto suspended"
a=$(cat $U/power/runtime_suspended_time); sleep 0.3; b=$(cat $U/power/runtime_suspended_time)
check "runtime_suspended_time counts, read afresh each time ($a then $b ms)" test $((b - a)) -ge 250
a=$(cat $U/power/runtime_active_time); sleep 0.2
expect_eq "runtime_active_time stands still meanwhile" "$(cat $U/power/runtime_active_time)" "$a"
expect_eq "control: on resumes it" "$(w $U/power/control on) $(cat $U/power/runtime_status)" "OK active"
expect_eq "a bound function stays active under auto (its probe's reference)" \
	"$(w $G/power/control auto) $(cat $G/power/runtime_status)" "OK active"
echo 0000:01:00.1 >$DRV/devlife-nic/unbind
expect_eq "unbound, it suspends" "$(cat $G/power/runtime_status)" suspended
echo 0000:01:00.1 >$DRV/devlife-nic/bind
expect_eq "bound again, active" "$(cat $G/power/runtime_status)" active
echo on >$G/power/control

# wakeup_store(): enabled or disabled; the statistics of a wakeup source
expect_eq "wakeup: disabled, statistics a lone newline" \
	"$(cat $F/power/wakeup) $(r $F/power/wakeup_count | od -An -c | tr -d ' ')" 'disabled \n'
for t in on 1 'enabled\n\n' Enabled; do
	expect_eq "wakeup: '$t' is EINVAL" "$(w $F/power/wakeup "$t") $(cat $F/power/wakeup)" "EINVAL disabled"
done
expect_eq "wakeup: enabled registers a source" \
	"$(w $F/power/wakeup 'enabled\n') $(cat $F/power/wakeup) $(cat $F/power/wakeup_count) $(cat $F/power/wakeup_active)" "OK enabled 0 0"
expect_eq "wakeup: disabled drops it" \
	"$(w $F/power/wakeup disabled) $(r $F/power/wakeup_total_time_ms | od -An -c | tr -d ' ')" 'OK \n'

# the view's caches: a status that changed is never read stale
for i in 1 2 3; do
	echo auto >$U/power/control; s1=$(cat $U/power/runtime_status)
	echo on >$U/power/control; s2=$(cat $U/power/runtime_status)
	expect_eq "round $i: auto then on, read at once" "$s1 $s2" "suspended active"
done

finish
