#!/usr/bin/env python3
"""Compare `lspci -vvv -nn` over an imported dump with `lspci -F DUMP -vvv
-nn` on the dump itself.

usage: corpus-compare.py DUMP REF OURS

REF is what lspci -F printed from the dump's registers, OURS what lspci
printed over the import's sysfs view. Every line must be the same, apart
from the classes below, which exist because lspci reads a sysfs tree
differently from a dump. Each class is applied to the lines it names
only. Where the dump has the -v text of the source's own lspci (which
read the source's sysfs), the import must show what that text shows:
region sizes, IRQ, driver, NUMA node, IOMMU group.

Prints the differing lines (a unified diff) and exits 1 if there are any.
"""
import difflib
import re
import sys

CLASSES = """\
sysfs-only lines: "Kernel driver in use", "Kernel modules", "NUMA node",
  "IOMMU group" come from sysfs files and links that a dump does not have
  (lspci -F cannot print them). Where the dump's text has them, ours must
  say the same. "IOMMU group" more strictly: where the dump's text shows
  a function's group ours must show that line, and where it has text for
  the function but no group (lspci -v prints the line wherever the
  iommu_group link exists: the source had no IOMMU), ours must show none.
region sizes: " [size=N]" on Region and Expansion ROM lines comes from the
  `resource` file; a dump holds no sizes (lspci -F prints none). Where the
  dump's text has a size, ours must be the same, except a size of 1: lspci
  reads a size only when a resource ends above its start (sysfs.c), so a
  one-byte resource shows none.
legacy IDE: pci_setup_device() in drivers/pci/probe.c gives an IDE
  controller's channel in legacy mode (programming interface bit 0 or 2
  clear) the ISA ports 1f0/3f6 or 170/376 whatever BARs 0-3 say; lspci -F
  prints the BARs. Ours must show those ports.
bridge window widths: over sysfs, lspci takes an enabled window from the
  bridge lines of `resource` and its width ([16-bit]/[32-bit]/[64-bit],
  hence the digits printed) from the low bits of the window's start
  (show_htype1() in lspci.c), which resource_show() in
  drivers/pci/pci-sysfs.c prints aligned: a real machine's lspci shows
  "[16-bit]" and "[32-bit]" there whatever the registers say. The range
  and size must be the same.
unassigned regions: lspci -F prints a BAR whose address is 0 as "<unassigned>"
  (and the upper half of a 64-bit BAR as a region of its own); the kernel
  resets the resource of a BAR it did not assign (reset_resource() in
  drivers/pci/setup-bus.c) and never has one for an upper half, so over
  sysfs lspci prints no line for either.
interrupt without a pin: lspci -F prints the Interrupt Line register even
  when Interrupt Pin is 0; the kernel's irq is 0 then (pci_read_irq() in
  drivers/pci/probe.c) and lspci prints no Interrupt line. Where the dump's
  text shows the source's IRQ, ours must show that IRQ.
"""

DEV = re.compile(r'^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ')
HEX = re.compile(r'^[0-9a-f]{2,3}: ')
SIZE = re.compile(r' \[size=([0-9]+[KMGT]?)\]')
REGION = re.compile(r'^\t(Region ([0-5]): |Expansion ROM at )')
WINDOW = re.compile(r'^\t(I/O|Memory|Prefetchable memory) behind bridge: '
                    r'([0-9a-f]+)-([0-9a-f]+) (\[size=[0-9]+[KMGT]?\]) \[(16|32|64)-bit\]$')
SYSFS_ONLY = re.compile(r'^\t(Kernel driver in use|Kernel modules|NUMA node|IOMMU group): (.*)$')
IRQ = re.compile(r'^\tInterrupt: pin (.) routed to IRQ ([0-9]+)$')
FLAGS_IRQ = re.compile(r'^\tFlags: (.*), IRQ ([0-9]+)')


def key(m):
    return '%s:%s:%s.%s' % (m.group(1) or '0000', m.group(2), m.group(3), m.group(4))


def dump_text(path):
    """What the source's lspci printed about each function, from its -v
    text: the function's own lines, indented as its first text line is
    (deeper lines belong to capabilities)."""
    info, cur, indent = {}, None, None
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = DEV.match(line)
            if m:
                cur, indent = info.setdefault(key(m), {'size': {}}), None
                continue
            if cur is None or HEX.match(line) or not line.startswith(('\t', ' ')):
                continue
            ind = line[:len(line) - len(line.lstrip(' \t'))]
            if indent is None:
                indent = ind
            if ind != indent:
                continue
            cur['text'] = True
            line = '\t' + line.strip()
            r = REGION.match(line)
            s = SIZE.search(line)
            if r and s:
                cur['size'][r.group(2) or 'rom'] = s.group(1)
            m = IRQ.match(line) or FLAGS_IRQ.match(line)
            if m:
                cur['irq'] = m.group(2)
            m = SYSFS_ONLY.match(line)
            if m:
                cur[m.group(1)] = m.group(2)
    return info


def blocks(text):
    """Lines of lspci output, each with the key of its function."""
    out, cur = [], None
    for line in text.splitlines():
        m = DEV.match(line)
        if m:
            cur = key(m)
        out.append((cur, line))
    return out


IDE = re.compile(r'^\S+ IDE interface \[0101\]: .*\(prog-if ([0-9a-f]{2})')
IDE_PORTS = {'0': '01f0', '1': '03f4', '2': '0170', '3': '0374'}


def legacy_ide(lines):
    """The keys of IDE functions and which of their BARs 0-3 the legacy
    ports replace."""
    out = {}
    for k, line in lines:
        m = IDE.match(line)
        if m:
            pi = int(m.group(1), 16)
            out[k] = ('01' if not pi & 1 else '') + ('23' if not pi & 4 else '')
    return out


def normalize(lines, text, ours, problems):
    res = []
    ide = legacy_ide(lines)
    groups = {}
    for k, line in lines:
        t = text.get(k, {'size': {}})
        r = REGION.match(line)
        if r and r.group(2) and r.group(2) in ide.get(k, ''):
            want = '\tRegion %s: I/O ports at %s' % (r.group(2), IDE_PORTS[r.group(2)])
            if ours and not SIZE.sub('', line).startswith(want):
                problems.append('%s: "%s" where the legacy IDE ports are %s' %
                                (k, line.strip(), IDE_PORTS[r.group(2)]))
            continue
        m = SYSFS_ONLY.match(line)
        if m:
            if m.group(1) == 'IOMMU group':
                groups[k] = m.group(2)
            if ours and m.group(1) in t and t[m.group(1)] != m.group(2):
                problems.append('%s: "%s: %s" where the dump says "%s"' %
                                (k, m.group(1), m.group(2), t[m.group(1)]))
            continue
        r = REGION.match(line)
        if r:
            s = SIZE.search(line)
            want = t['size'].get(r.group(2) or 'rom')
            if ours and want and want != '1' and (not s or s.group(1) != want):
                problems.append('%s: %s has %s where the dump says size=%s' %
                                (k, line.strip(), s.group(0).strip() if s else 'no size',
                                 want))
            line = SIZE.sub('', line)
            if '<unassigned>' in line:
                continue
        m = WINDOW.match(line)
        if m:
            line = '\t%s behind bridge: %x-%x %s' % (m.group(1), int(m.group(2), 16),
                                                      int(m.group(3), 16), m.group(4))
        m = IRQ.match(line)
        if m:
            if 'irq' in t:
                if ours and m.group(2) != t['irq']:
                    problems.append('%s: IRQ %s where the dump says IRQ %s' %
                                    (k, m.group(2), t['irq']))
                line = '\tInterrupt: pin %s routed to IRQ <source>' % m.group(1)
            elif m.group(1) == '?' and not ours:
                continue
        res.append(line)
    if ours:
        for k in sorted({k for k, _ in lines if k}):
            t = text.get(k, {})
            if 'IOMMU group' in t and k not in groups:
                problems.append('%s: no "IOMMU group" line where the dump says "%s"' %
                                (k, t['IOMMU group']))
            elif t.get('text') and 'IOMMU group' not in t and k in groups:
                problems.append('%s: "IOMMU group: %s" where the dump shows none' %
                                (k, groups[k]))
    return res


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    text = dump_text(sys.argv[1])
    with open(sys.argv[2], errors='replace') as f:
        ref = blocks(f.read())
    with open(sys.argv[3], errors='replace') as f:
        ours = blocks(f.read())
    problems = []
    a = normalize(ref, text, False, problems)
    b = normalize(ours, text, True, problems)
    diff = list(difflib.unified_diff(a, b, 'lspci -F ' + sys.argv[1], 'lspci over the import',
                                     lineterm='', n=1))
    for p in problems:
        print('text: ' + p)
    for d in diff:
        print(d)
    sys.exit(1 if diff or problems else 0)


if __name__ == '__main__':
    main()
