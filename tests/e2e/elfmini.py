"""elfmini: just enough of an ELF64 little-endian reader for the e2e tests.

Independent of goscope on purpose: the tests use it to pick addresses inside
.text, to tell whether a pc lies in a binary's executable segments and to
read code bytes at an address. Sections, program headers, bytes by virtual
address, and the load bias of a running process from its auxv (AT_ENTRY),
which is a different route from the /proc/PID/maps one goscope takes.
"""
import struct

PT_LOAD = 1
PF_X = 1
ET_DYN = 3
AT_ENTRY = 9


class Section:
    def __init__(self, name, typ, flags, addr, offset, size, hdr_off, name_off):
        self.name, self.type, self.flags = name, typ, flags
        self.addr, self.offset, self.size = addr, offset, size
        self.hdr_off = hdr_off    # file offset of this section's header
        self.name_off = name_off  # sh_name: offset in the name table


class Segment:
    def __init__(self, typ, flags, offset, vaddr, filesz, memsz):
        self.type, self.flags, self.offset = typ, flags, offset
        self.vaddr, self.filesz, self.memsz = vaddr, filesz, memsz


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("%s: not a little-endian ELF64 file" % path)
        (self.type, _machine, _version, self.entry, phoff, shoff, _flags,
         _ehsize, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
        self.segments = []
        for i in range(phnum):
            (typ, flags, off, vaddr, _paddr, filesz, memsz,
             _align) = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
            self.segments.append(Segment(typ, flags, off, vaddr, filesz, memsz))
        raw = []
        for i in range(shnum if shoff else 0):
            (name, typ, flags, addr, off, size, _link, _info, _align,
             _entsize) = struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            raw.append((name, typ, flags, addr, off, size, shoff + i * shentsize))
        self.sections = []
        if raw and shstrndx < len(raw):
            stroff = raw[shstrndx][4]
            for name, typ, flags, addr, off, size, hoff in raw:
                end = d.index(b"\0", stroff + name)
                self.sections.append(Section(d[stroff + name:end].decode(),
                                             typ, flags, addr, off, size, hoff, name))

    def section(self, name):
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def is_pie(self):
        return self.type == ET_DYN

    def exec_ranges(self):
        """[lo, hi) link-time ranges of the executable PT_LOAD segments."""
        return [(s.vaddr, s.vaddr + s.memsz) for s in self.segments
                if s.type == PT_LOAD and s.flags & PF_X]

    def read(self, vaddr, n):
        """N bytes at link-time address VADDR, or None if not file-backed."""
        for s in self.segments:
            if s.type == PT_LOAD and s.vaddr <= vaddr and vaddr + n <= s.vaddr + s.filesz:
                off = s.offset + (vaddr - s.vaddr)
                return self.data[off:off + n]
        return None


class Pcln118:
    """The Go 1.18+ pclntab (magic 0xfffffff0/0xfffffff1, 64-bit), read
    from the layout in runtime/symtab.go; only what a2lcompare needs: which
    function holds a pc and whether its file/line tables exist (offset 0
    means none: the runtime then reports "?:0")."""

    def __init__(self, elf):
        sec = elf.section(".gopclntab") or elf.section(".data.rel.ro.gopclntab")
        if sec is None:
            raise ValueError("no pclntab section")
        d = elf.data[sec.offset:sec.offset + sec.size]
        magic, = struct.unpack_from("<I", d, 0)
        if magic not in (0xfffffff0, 0xfffffff1) or d[7] != 8:
            raise ValueError("not a 64-bit Go 1.18+ pclntab")
        (self.nfunc, _nfiles, self.text, self.names, _cu, _files, _pc,
         self.ftab) = struct.unpack_from("<8Q", d, 8)
        self.d = d
        self.entries = [self.text + struct.unpack_from("<I", d, self.ftab + 8 * i)[0]
                        for i in range(self.nfunc + 1)]

    def func_at(self, pc):
        """(name, pcfile, pcln) of the function holding PC, or None."""
        import bisect
        i = bisect.bisect_right(self.entries, pc) - 1
        if self.text == 0 or i < 0 or i >= self.nfunc:
            return None
        fo, = struct.unpack_from("<I", self.d, self.ftab + 8 * i + 4)
        f = self.ftab + fo
        nameoff, = struct.unpack_from("<i", self.d, f + 4)
        pcfile, pcln = struct.unpack_from("<II", self.d, f + 20)
        n = self.names + nameoff
        return self.d[n:self.d.index(b"\0", n)].decode(errors="replace"), pcfile, pcln


def load_bias(pid, elf):
    """Run-time minus link-time address of PID's executable, from AT_ENTRY."""
    with open("/proc/%d/auxv" % pid, "rb") as f:
        auxv = f.read()
    for i in range(0, len(auxv) - 15, 16):
        key, val = struct.unpack_from("<QQ", auxv, i)
        if key == AT_ENTRY:
            return val - elf.entry
    raise ValueError("pid %d: no AT_ENTRY in auxv" % pid)


if __name__ == "__main__":
    # elfmini.py bias PID: PID's load bias in hex (for shell tests).
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "bias":
        pid = int(sys.argv[2])
        print("0x%x" % load_bias(pid, Elf("/proc/%d/exe" % pid)))
    else:
        sys.exit("usage: elfmini.py bias PID")
