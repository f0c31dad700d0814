#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Whether the first page of FILE is in the kernel's page cache.

  incore.py FILE   prints "cached" or "not cached"

mmap(2) and mincore(2), without fstat(2): a FUSE fstat after a read asks
the daemon again (the read invalidated atime), and the size it answers
drops the cached pages of an attribute shorter than its st_size. A file
opened with direct I/O cannot be mapped (ENODEV): it has no cached pages.
"""
import ctypes
import ctypes.util
import errno
import os
import sys

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PROT_READ, MAP_SHARED, PAGE = 1, 1, 4096

fd = os.open(sys.argv[1], os.O_RDONLY)
p = libc.mmap(None, PAGE, PROT_READ, MAP_SHARED, fd, 0)
if p is None or p == ctypes.c_void_p(-1).value:
    e = ctypes.get_errno()
    if e != errno.ENODEV:
        sys.exit("incore.py: mmap: %s" % os.strerror(e))
    print("not cached")
    sys.exit(0)
vec = ctypes.create_string_buffer(1)
if libc.mincore(p, PAGE, vec) != 0:
    sys.exit("incore.py: mincore: %s" % os.strerror(ctypes.get_errno()))
print("cached" if vec.raw[0] & 1 else "not cached")
libc.munmap(p, PAGE)
os.close(fd)
