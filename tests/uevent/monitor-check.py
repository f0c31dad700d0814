#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What `udevadm monitor --kernel --udev --property` and `devlifectl
monitor --property` print, checked as far as Linux guarantees it.

udevadm monitor (systemd src/udev/udevadm-monitor.c) reads the two
groups on two sockets, one sd_device_monitor each, in one sd-event loop:
an event loop that finds both sockets readable dispatches them in its own
order, so its output interleaves the KERNEL and UDEV copies as it likes.
What holds is per socket: each group's events in the order sent (SEQNUM
increasing), and each UDEV copy with the SEQNUM, ACTION and DEVPATH of a
KERNEL copy. (On one socket bound to both groups the kernel's copy comes
first: nl-listen.py checks that.)

  monitor-check.py complete FILE N   exit 0 once FILE holds N whole KERNEL
                                     and N whole UDEV blocks
  monitor-check.py pairs FILE N      the per-group guarantees above
  monitor-check.py ordered FILE       one stream (devlifectl monitor's):
                                     each UDEV copy after its KERNEL copy
  monitor-check.py same FILE1 FILE2  the same header and, per group, the
                                     same blocks (times aside)
"""
import re
import sys

HEADER = ("monitor will print the received events for:\n"
          "UDEV - the event which udev sends out after rule processing\n"
          "KERNEL - the kernel uevent\n\n")
# print_device's "%-6s[%lu.%06lu] %-8s %s (%s)"
TITLE = re.compile(r"^(KERNEL|UDEV  )\[(\d+)\.(\d{6})\] (\S+)( *) (\S+) "
                   r"\((\S+)\)$")


def blocks(path):
    """(header, [(group, title without time, [KEY=VALUE...])]): whole
    blocks only (a block ends with its blank line)."""
    text = open(path).read()
    if not text.startswith(HEADER):
        raise SystemExit("%s: not udevadm monitor's header: %r"
                         % (path, text[:200]))
    out = []
    for b in text[len(HEADER):].split("\n\n")[:-1]:
        lines = b.split("\n")
        m = TITLE.match(lines[0])
        if not m:
            raise SystemExit("%s: not udevadm monitor's line: %r"
                             % (path, lines[0]))
        action = m.group(4)
        if len(action) + len(m.group(5)) != max(8, len(action)):
            raise SystemExit("%s: action not padded to 8: %r"
                             % (path, lines[0]))
        out.append((m.group(1).strip(),
                    "%s %s (%s)" % (action, m.group(6), m.group(7)),
                    lines[1:]))
    return out


def prop(block, key):
    for kv in block[2]:
        if kv.startswith(key + "="):
            return kv[len(key) + 1:]
    return None


def group(bl, name):
    return [b for b in bl if b[0] == name]


def main():
    cmd = sys.argv[1]
    if cmd == "complete":
        bl = blocks(sys.argv[2])
        n = int(sys.argv[3])
        ok = len(group(bl, "KERNEL")) >= n and len(group(bl, "UDEV")) >= n
        sys.exit(0 if ok else 1)
    if cmd == "pairs":
        bl = blocks(sys.argv[2])
        n = int(sys.argv[3])
        kern, udev = group(bl, "KERNEL"), group(bl, "UDEV")
        assert len(kern) == n and len(udev) == n, (len(kern), len(udev))
        for g in (kern, udev):
            seqs = [int(prop(b, "SEQNUM")) for b in g]
            assert seqs == sorted(set(seqs)), ("SEQNUMs out of order", seqs)
        for k, u in zip(kern, udev):
            assert prop(k, "SEQNUM") == prop(u, "SEQNUM"), (k, u)
            assert k[1] == u[1], (k[1], u[1])
            assert prop(u, "USEC_INITIALIZED"), u
        print("ok")
        return
    if cmd == "ordered":
        seen = set()
        for b in blocks(sys.argv[2]):
            if b[0] == "KERNEL":
                seen.add(prop(b, "SEQNUM"))
            else:
                assert prop(b, "SEQNUM") in seen, ("udev copy first", b)
        print("ok")
        return
    if cmd == "same":
        a, b = blocks(sys.argv[2]), blocks(sys.argv[3])
        for name in ("KERNEL", "UDEV"):
            ga, gb = group(a, name), group(b, name)
            for x, y in zip(ga, gb):
                assert x == y, "%s differs:\n%r\n%r" % (name, x, y)
            assert len(ga) == len(gb), (name, len(ga), len(gb))
        print("ok")
        return
    raise SystemExit("usage: monitor-check.py complete|pairs|ordered|same ...")


main()
