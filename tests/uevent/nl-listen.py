#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw listener on ONE NETLINK_KOBJECT_UEVENT socket bound to both
groups (1, the kernel's; 2, udev's). udevd sends its copy of an event
only after it received the kernel's, which the kernel had queued on
every listening socket during its broadcast (lib/kobject_uevent.c
uevent_net_broadcast(), netlink_broadcast()); so on one socket a
listener sees each event's KERNEL copy before its UDEV copy.

Prints "ready" once bound, then "KERNEL|UDEV SEQNUM ACTION DEVPATH" per
message until COUNT udev copies came; exits 1 on a UDEV copy whose
KERNEL copy had not come before it on this socket, or after 10 s without
a message. With DUMP, writes each udev copy's properties there, one JSON
object a line.

  nl-listen.py COUNT [DUMP]
"""
import json
import select
import socket
import struct
import sys

NETLINK_KOBJECT_UEVENT = 15

want = int(sys.argv[1])
dump = open(sys.argv[2], "w") if len(sys.argv) > 2 else None
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((0, 1 | 2))
print("ready", flush=True)
kernel_seen = set()
bad = 0
while want > 0:
    if not select.select([s], [], [], 10)[0]:
        print("timeout", flush=True)
        sys.exit(1)
    data = s.recv(65536)
    if data.startswith(b"libudev\0"):
        # device_monitor_send_device()'s header: properties_off at 16,
        # properties_len at 20, in the sender's byte order
        off, n = struct.unpack_from("=II", data, 16)
        strings, src = data[off:off + n].split(b"\0"), "UDEV"
    else:
        strings, src = data.split(b"\0")[1:], "KERNEL"
    env = dict(kv.decode().split("=", 1) for kv in strings if b"=" in kv)
    seq = env.get("SEQNUM", "?")
    print("%s %s %s %s" % (src, seq, env.get("ACTION"), env.get("DEVPATH")),
          flush=True)
    if src == "KERNEL":
        kernel_seen.add(seq)
    else:
        if dump:
            dump.write(json.dumps(env) + "\n")
            dump.flush()
        if seq not in kernel_seen:
            print("udev copy %s before its kernel copy" % seq, flush=True)
            bad += 1
        want -= 1
sys.exit(1 if bad else 0)
