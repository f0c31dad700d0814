#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""When a write to sysfs returns, the kernel's uevents for what it did
are already queued on every listening socket: Linux sends them from the
writer's own call (device_add()/device_del() -> kobject_uevent() ->
uevent_net_broadcast() -> netlink_broadcast()), before the store
returns. The same holds for the host channel's requests here, whose
reply comes once their change is complete. So a listener that drains its
socket without waiting, right after the write returned, must find them.

Each round: remove and rescan a function; enable and disable VFs; a host
eject and add. After each, a non-blocking drain of a socket bound to the
kernel group must hold the event that write caused last. Prints one
"missing" line per miss, "rounds N missing M" at the end; exits 1 on a
miss.

  write-returns.py ROUNDS DEVLIFECTL SOCKET
"""
import os
import socket
import subprocess
import sys

rounds, ctl, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((0, 1))
D = "/sys/bus/pci/devices"
F, PF, H = "0000:00:03.0", "0000:01:00.0", "0000:00:05.0"
missing = 0


def drain():
    got = []
    while True:
        try:
            data = s.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return got
        env = dict(kv.decode().split("=", 1)
                   for kv in data.split(b"\0")[1:] if b"=" in kv)
        got.append((env.get("ACTION"), env.get("DEVPATH")))


def write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def devpath(bdf):
    return os.path.realpath(os.path.join(D, bdf))[len("/sys"):]


def expect(what, action, path):
    global missing
    got = drain()
    if (action, path) not in got:
        missing += 1
        print("missing: %s: no %s of %s among %s" % (what, action, path, got),
              flush=True)


def host(*args):
    subprocess.run([ctl, "-s", sock] + list(args), check=True,
                   stdout=subprocess.DEVNULL)


fpath, pfpath, hpath = devpath(F), devpath(PF), devpath(H)
hkv = ["vendor=0x" + open(os.path.join(D, H, "vendor")).read()[2:].strip(),
       "device=0x" + open(os.path.join(D, H, "device")).read()[2:].strip(),
       "class=" + open(os.path.join(D, H, "class")).read().strip()]
drain()
for _ in range(rounds):
    write(os.path.join(D, F, "remove"), "1")
    expect("remove write", "remove", fpath)
    write("/sys/bus/pci/rescan", "1")
    expect("rescan write", "add", fpath)
    write(os.path.join(D, PF, "sriov_numvfs"), "2")
    expect("sriov_numvfs write", "change", pfpath)
    vf1 = devpath(os.path.basename(os.readlink(os.path.join(D, PF, "virtfn1"))))
    write(os.path.join(D, PF, "sriov_numvfs"), "0")
    expect("sriov_numvfs write of 0", "remove", vf1)
    host("eject", H)
    expect("host eject", "remove", hpath)
    host("add", H, *hkv)
    expect("host add", "add", hpath)
print("rounds %d missing %d" % (rounds, missing), flush=True)
sys.exit(1 if missing else 0)
