#!/usr/bin/env python3
"""Write a topology file with N functions (default 1000): a root port per
8 slots ... kept simple: root buses 00, 01, ... each with up to 32 devices
of 8 functions (virtio-like NICs), so lspci has N functions to print."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
print(f"# {n} functions for the lspci benchmark")
made = 0
bus = 0
while made < n:
    for dev in range(32):
        for fn in range(8):
            if made == n:
                break
            print(f"0000:{bus:02x}:{dev:02x}.{fn} vendor=0x1af4 device=0x1041 "
                  f"class=0x020000 bar0=16K,64 msix=4")
            made += 1
    bus += 1
