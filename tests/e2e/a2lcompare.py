#!/usr/bin/env python3
"""a2lcompare: `goscope addr2line` against `go tool addr2line` on random
addresses of a binary's .text section.

Without -i goscope prints what `go tool addr2line` prints (function, then
file:line; "?" and "?:0" outside any function), so the two can be compared
line for line.

The shift. Go 1.19's go tool addr2line (cmd/internal/objfile, debug/gosym)
counts function entries from the runtime.text symbol when the binary has a
symbol table, and otherwise from the .text section's address. For
externally linked (cgo) binaries the linker puts C code first and
runtime.text = .text + 0x100 (golang/go#65232), so on a *stripped* cgo
binary go tool's idea of every function is off by (.text - runtime.text).
goscope takes runtime.text from moduledata (printed as "text" by `goscope
info --json`). So go tool is asked about addr + (its text start -
runtime.text) and goscope about addr; both then describe the code at addr.
When the binary has a symbol table, goscope's "text" is first checked
against `go tool nm`'s runtime.text (and the shift is then 0).

--prologue checks the claim behind the shift without go tool's help: read
the code bytes at every function entry goscope lists (`goscope funcs`) and
at the unshifted entries go tool would use (entry + shift); real entries
start with a Go prologue (stack-bound check on r14/fs, frame setup) far
more often. Only meaningful where the shift is not 0 (stripped cgo).

Two faults of Go 1.19's go tool are worked around, not counted against
goscope:
- PIE: go tool reads the table only from a section named .gopclntab, and
  PIE binaries keep it in .data.rel.ro.gopclntab, so it answers "?" for
  everything. go tool is given a copy whose section header names the table
  .gopclntab (sh_name moved to the ".gopclntab" tail of the same string:
  one 4-byte field changes; bytes and addresses are identical).
- C functions that the internal linker lists in the table (cgo runtime
  support in a cgo build that is not externally linked) have no file/line
  tables (offset 0). The runtime reports "?:0" there (pcvalue of offset 0 is
  -1); debug/gosym decodes whatever lies at offset 0 and prints a made-up
  file:line. Where the pclntab (read here independently, elfmini.Pcln118)
  says the function has no table and goscope names the same function with
  an unknown position (":-1" or "?:0"), the address is counted as agreeing
  and reported apart.

--entries K adds, for K random functions, the addresses entry-1, entry and
entry+1 (function boundaries, where an off-by-one would hide from uniform
sampling); they must agree 100%.

Usage: a2lcompare.py --goscope G --binary BIN [-n 5000] [--seed 1]
                     [--min-agree 99.9] [--entries K] [--prologue]
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import elfmini

GO = os.environ.get("GO", "go")

# First bytes of amd64 Go function entries.
PROLOGUES = [
    bytes.fromhex("493b6610"),          # cmp rsp, [r14+0x10]     (1.17+ regabi)
    bytes.fromhex("4c8d6424"),          # lea r12, [rsp-N]        (big frames)
    bytes.fromhex("4c8da424"),          # lea r12, [rsp-N32]
    bytes.fromhex("64488b0c25f8ffffff"),  # mov rcx, fs:[-8]      (ABI0, <1.17)
    bytes.fromhex("55488bec"),          # push rbp; mov rbp, rsp
    bytes.fromhex("554889e5"),          # push rbp; mov rbp, rsp
    bytes.fromhex("4883ec"),            # sub rsp, imm8            (nosplit)
    bytes.fromhex("4881ec"),            # sub rsp, imm32
]


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def pairs(out):
    ls = out.split("\n")
    return [(ls[i], ls[i + 1]) for i in range(0, len(ls) - 1, 2)]


def is_prologue(b):
    return b is not None and any(b.startswith(p) for p in PROLOGUES)


def gotool_copy(binary, elf, tmpdir):
    """BINARY, or a copy whose PIE pclntab section is named .gopclntab."""
    if elf.section(".gopclntab") or not elf.section(".data.rel.ro.gopclntab"):
        return binary
    sec = elf.section(".data.rel.ro.gopclntab")
    path = tmpdir + "/gotool-view"
    shutil.copyfile(binary, path)
    with open(path, "r+b") as f:
        f.seek(sec.hdr_off)
        f.write(struct.pack("<I", sec.name_off + len(".data.rel.ro")))
    return path


def no_line_table(pcln, addr, mine):
    """True if ADDR's function has no file/line table and goscope says the
    position is unknown (see the module comment)."""
    if pcln is None:
        return False
    f = pcln.func_at(addr)
    return (f is not None and (f[1] == 0 or f[2] == 0) and mine[0] == f[0]
            and mine[1] in (":-1", "?:0"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goscope", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-agree", type=float, default=99.9)
    ap.add_argument("--prologue", action="store_true")
    ap.add_argument("--entries", type=int, default=0)
    ap.add_argument("--show", type=int, default=10)
    a = ap.parse_args()

    elf = elfmini.Elf(a.binary)
    sec = elf.section(".text")
    if sec is None:
        sys.exit("%s: no .text section" % a.binary)
    info = json.loads(run([a.goscope, "info", "--json", a.binary]))
    rtext = int(info["text"], 16)
    status = 0

    go_text = sec.addr  # where go tool counts entries from
    if elf.section(".symtab"):
        nm = [l.split() for l in run([GO, "tool", "nm", a.binary]).splitlines()]
        want = [int(f[0], 16) for f in nm if len(f) == 3 and f[2] == "runtime.text"]
        if want and want[0] != rtext:
            print("FAIL runtime.text: goscope 0x%x, go tool nm 0x%x" % (rtext, want[0]))
            status = 1
        elif want:
            print("runtime.text 0x%x agrees with go tool nm" % rtext)
        if want:
            go_text = want[0]
    shift = go_text - rtext
    print(".text 0x%x size 0x%x, runtime.text 0x%x, shift for go tool %d"
          % (sec.addr, sec.size, rtext, shift))

    rnd = random.Random(a.seed)
    addrs = [rnd.randrange(sec.addr, sec.addr + sec.size) for _ in range(a.n)]
    entries = []
    if a.prologue or a.entries:
        entries = [int(l.split()[0], 16) for l in
                   run([a.goscope, "funcs", a.binary]).splitlines() if l.strip()]
    edges = []
    for e in rnd.sample(entries, min(a.entries, len(entries))):
        edges += [e - 1, e, e + 1]
    allq = addrs + edges
    tmpdir = tempfile.mkdtemp(prefix="a2lcompare.")
    try:
        view = gotool_copy(a.binary, elf, tmpdir)
        if view != a.binary:
            print("go tool reads a copy with .data.rel.ro.gopclntab named .gopclntab (PIE)")
        mine = pairs(run([a.goscope, "addr2line", a.binary],
                         "".join("0x%x\n" % x for x in allq)))
        theirs = pairs(run([GO, "tool", "addr2line", view],
                           "".join("0x%x\n" % (x + shift) for x in allq)))
    finally:
        shutil.rmtree(tmpdir)
    try:
        pcln = elfmini.Pcln118(elf)
    except ValueError:
        pcln = None
    if len(mine) != len(allq) or len(theirs) != len(allq):
        print("FAIL output count: goscope %d, go tool %d, asked %d"
              % (len(mine), len(theirs), len(allq)))
        return 1
    n = len(addrs)
    diff = [(x, m, t) for x, m, t in zip(allq, mine, theirs) if m != t]
    notab = {x for x, m, t in diff if no_line_table(pcln, x, m)}
    bad = [(x, m, t) for x, m, t in zip(addrs, mine[:n], theirs[:n])
           if m != t and x not in notab]
    unknown = sum(1 for m in mine[:n] if m[0] == "?")
    agree = 100.0 * (n - len(bad)) / n
    print("addr2line agreement: %.3f%% (%d/%d random; %d outside any Go function)"
          % (agree, n - len(bad), n, unknown))
    nt = sum(1 for x in addrs if x in notab)
    if nt:
        print("  of which %d in C functions without line tables (go tool invents"
              " a file:line, goscope says unknown)" % nt)
    for x, m, t in bad[:a.show]:
        print("  0x%x: goscope %s | go tool %s" % (x, " ".join(m), " ".join(t)))
    if agree < a.min_agree:
        print("FAIL agreement below %.3f%%" % a.min_agree)
        status = 1
    if edges:
        ebad = [(x, m, t) for x, m, t in zip(edges, mine[n:], theirs[n:])
                if m != t and x not in notab]
        nt = sum(1 for x in edges if x in notab)
        print("function boundaries: %d/%d agree (entry-1, entry, entry+1 of %d functions%s)"
              % (len(edges) - len(ebad), len(edges), len(edges) // 3,
                 "; %d in C functions without line tables" % nt if nt else ""))
        for x, m, t in ebad[:a.show]:
            print("  0x%x: goscope %s | go tool %s" % (x, " ".join(m), " ".join(t)))
        if ebad:
            status = 1

    if a.prologue:
        g = sum(is_prologue(elf.read(e, 9)) for e in entries)
        t = sum(is_prologue(elf.read(e + shift, 9)) for e in entries)
        print("entries starting with a Go prologue: goscope %.1f%%, go tool (unshifted) %.1f%%"
              " of %d" % (100.0 * g / len(entries), 100.0 * t / len(entries), len(entries)))
        if shift != 0 and g <= t:
            print("FAIL goscope's entries are not more often real entries")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
