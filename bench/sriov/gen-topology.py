#!/usr/bin/env python3
"""A topology of SR-IOV PFs behind PCI Express switch ports, sized so that
every PF can enable 255 VFs whose routing IDs fill the PF's own bus.

    gen-topology.py [PFS] [DRIVER]     (default: 256 PFs, sriov-pf)

Per domain (128 PFs each): a host bridge, a root port 00:01.0 with
buses 01-ff, a switch upstream port 01:00.0 (buses 02-ff), and downstream
ports 02:DD.F, one per PF, each with a single bus B on which the PF sits
at B:00.0 with First VF Offset 1 and VF Stride 1: VF n is B:(n+1), so the
255 VFs take devfn 01..ff of bus B. 256 PFs x 255 VFs + 256 PFs = 65,536
PCI functions (plus 131 bridges and host bridges per domain).
"""
import sys

pfs = int(sys.argv[1]) if len(sys.argv) > 1 else 256
driver = sys.argv[2] if len(sys.argv) > 2 else "sriov-pf"
per_domain = 128
out = []
for dom in range((pfs + per_domain - 1) // per_domain):
    n = min(per_domain, pfs - dom * per_domain)
    d = "%04x" % dom
    out.append(f"{d}:00:00.0 vendor=0x8086 device=0x29c0 class=0x060000")
    out.append(f"{d}:00:01.0 type=rootport vendor=0x8086 device=0x3420 secbus=01 subbus=ff")
    out.append(f"{d}:01:00.0 type=upstream vendor=0x8086 device=0x8796 secbus=02 subbus=ff")
    for k in range(n):
        bus = 3 + k
        dev, fn = k // 8, k % 8
        out.append(f"{d}:02:{dev:02x}.{fn} type=downstream vendor=0x8086 device=0x8797 "
                   f"secbus={bus:02x} subbus={bus:02x} slot=no")
        out.append(f"{d}:{bus:02x}:00.0 vendor=0x8086 device=0x1572 class=0x020000 "
                   f"bar0=1M,64 sriov=255,offset=1,stride=1,vfdev=0x154c "
                   f"vfbar0=16K,64,pref driver={driver}")
print("\n".join(out))
