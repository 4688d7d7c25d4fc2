"""text_diff.py PID: how many bytes of PID's executable text in memory
differ from its file (a uprobe writes a breakpoint into the page; a removed
one restores the byte). Prints the count; exits 0."""
import os
import sys

pid = int(sys.argv[1])
exe = os.path.realpath("/proc/%d/exe" % pid)
diff = 0
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem, \
        open(exe, "rb") as f:
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) < 6 or "x" not in parts[1] or parts[5].strip() != exe:
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        off = int(parts[2], 16)
        mem.seek(lo)
        a = mem.read(hi - lo)
        f.seek(off)
        b = f.read(hi - lo)
        n = min(len(a), len(b))
        diff += sum(1 for i in range(n) if a[i] != b[i])
print(diff)
