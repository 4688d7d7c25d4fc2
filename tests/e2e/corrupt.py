#!/usr/bin/env python3
"""corrupt: write a damaged copy of a Go binary, for robustness tests.

  corrupt.py magic  BIN OUT        zero the pclntab's 4 magic bytes
  corrupt.py random BIN OUT SEED [N]  damage the pclntab at random (seeded):
      seed % 3 == 0: 32 random bytes anywhere in the table
      seed % 3 == 1: the header words after the magic (counts, offsets)
      seed % 3 == 2: a random 4 KiB block filled with random bytes
The pclntab is found by section name (.gopclntab, .data.rel.ro.gopclntab).
Prints what was changed; with N, a second line of N random addresses in
.text to ask the damaged copy about.
"""
import random
import sys

import elfmini


def main():
    mode, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    elf = elfmini.Elf(src)
    sec = elf.section(".gopclntab") or elf.section(".data.rel.ro.gopclntab")
    if sec is None:
        sys.exit("%s: no pclntab section" % src)
    data = bytearray(elf.data)
    lo, size = sec.offset, sec.size
    if mode == "magic":
        data[lo:lo + 4] = b"\0\0\0\0"
        what = "magic zeroed at file offset 0x%x" % lo
    else:
        seed = int(sys.argv[4])
        rnd = random.Random(seed)
        if seed % 3 == 0:
            for _ in range(32):
                data[lo + rnd.randrange(size)] = rnd.randrange(256)
            what = "32 random bytes in the table"
        elif seed % 3 == 1:
            n = min(64, size - 8)
            data[lo + 8:lo + 8 + n] = bytes(rnd.randrange(256) for _ in range(n))
            what = "header words randomized"
        else:
            at = lo + rnd.randrange(max(1, size - 4096))
            n = min(4096, lo + size - at)
            data[at:at + n] = bytes(rnd.randrange(256) for _ in range(n))
            what = "4 KiB block randomized at table offset 0x%x" % (at - lo)
    with open(out, "wb") as f:
        f.write(data)
    print(what)
    if mode == "random" and len(sys.argv) > 5:
        t = elf.section(".text")
        print(" ".join(hex(rnd.randrange(t.addr, t.addr + t.size))
                       for _ in range(int(sys.argv[5]))))


if __name__ == "__main__":
    main()
