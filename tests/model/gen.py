#!/usr/bin/env python3
"""Seeded random DMA API programs for the fixture (tests/fixture, its batch
file): map_single/map_page/map_sg/map_resource, every allocation path,
syncs, unmaps and frees interleaved, sizes from 1 byte to several granules
at random offsets, on the trusted and the untrusted device, with wrong calls
among them (wrong size or direction, double unmap, never-mapped handle,
sync outside, leak). Only calls the fixture makes without harming the guest:
what it refuses (docs/fixture.md, -EBUSY) it refuses, and the log says so.

The program is a list of fixture command lines; each line gets the next
fixture id (the batch runs right after the probe, id 1, so the first line
is id FIRST_ID). The generator only tracks what it asked for; what the
kernel did comes from the fixture's log (tests/model/model.py).

usage: gen.py --seed S --ops N [--granule G] > program.txt
"""
import argparse
import random
import sys

FIRST_ID = 2
DIRS = ("to", "from", "bidi")
DIRNUM = {"bidi": 0, "to": 1, "from": 2}
BAR0_LEN = 1 << 20          # the edu device's BAR0 (the probe line says so)
MAX_LIVE = 48               # live ops at once: bounded memory in the guest
BOGUS_BASE = 0x10000        # handles never mapped: low IOVAs dma-iommu does
                            # not hand out first (it allocates top-down)


class Gen:
    def __init__(self, seed, granule):
        self.r = random.Random(seed)
        self.g = granule
        self.lines = []
        self.live = {}          # id -> op dict
        self.unmapped = []      # ids of unmapped map_single/map_page ops
        self.untrusted = False

    def emit(self, line):
        self.lines.append(line)
        return FIRST_ID + len(self.lines) - 1

    def size(self):
        """1 byte to three granules, biased to small and to edges."""
        r = self.r
        k = r.random()
        if k < 0.35:
            return r.randint(1, 512)
        if k < 0.5:
            return r.choice([self.g - 1, self.g, self.g + 1, 4096, 4095, 4097, 1])
        return r.randint(1, 3 * self.g)

    def offset(self):
        r = self.r
        return r.choice([0, 0, r.randint(0, 4095), r.randint(0, 2 * self.g - 1),
                         4096 - 1])

    # ---- operations ----
    def op_map(self):
        kind = self.r.choice(["map_single", "map_page"])
        off, ln, d = self.offset(), self.size(), self.r.choice(DIRS)
        i = self.emit(f"{kind} {off} {ln} {d}")
        self.live[i] = dict(kind=kind, len=ln, dir=d, untrusted=self.untrusted)

    def op_map_sg(self):
        n = self.r.randint(1, 4)
        segs = ",".join(f"{self.r.randint(0, 4095)}:{self.size()}" for _ in range(n))
        d = self.r.choice(DIRS)
        i = self.emit(f"map_sg {segs} {d}")
        self.live[i] = dict(kind="map_sg", dir=d, untrusted=self.untrusted)

    def op_map_resource(self):
        ln = self.r.randint(1, 2 * 4096)
        off = self.r.randint(0, BAR0_LEN - ln)
        d = self.r.choice(DIRS)
        i = self.emit(f"map_resource bar0+{off} {ln} {d}")
        self.live[i] = dict(kind="map_resource", len=ln, dir=d, untrusted=self.untrusted)

    def op_alloc(self):
        kind = self.r.choice(["alloc_coherent", "alloc_coherent", "alloc_noncontig",
                              "alloc_pages"])
        sz = self.size()
        if kind == "alloc_coherent":
            flavour = self.r.choice(["", "", " contig", " atomic"])
            i = self.emit(f"alloc_coherent {sz}{flavour}")
        else:
            i = self.emit(f"{kind} {sz} {self.r.choice(DIRS)}")
        self.live[i] = dict(kind=kind, len=sz)

    def pick(self, kinds):
        ids = [i for i, o in self.live.items() if o["kind"] in kinds]
        return self.r.choice(ids) if ids else None

    def op_unmap(self, wrong=None):
        i = self.pick(("map_single", "map_page", "map_sg", "map_resource"))
        if i is None:
            return self.op_map()
        o = self.live.pop(i)
        if o["kind"] == "map_sg" or wrong is None:
            self.emit(f"unmap {i}")
        elif wrong == "size":       # shorter: same span mostly (or refused)
            self.emit(f"unmap {i} {self.r.randint(1, o['len'])}")
        else:
            d = self.r.choice([x for x in DIRS if x != o["dir"]])
            self.emit(f"unmap {i} {o['len']} {d}")
        if o["kind"] in ("map_single", "map_page"):
            self.unmapped.append(i)

    def op_double_unmap(self):
        if not self.unmapped:
            return self.op_unmap()
        self.emit(f"double_unmap {self.r.choice(self.unmapped[-8:])}")

    def op_unmap_bogus(self):
        h = BOGUS_BASE + self.r.randint(0, 255) * 4096 + self.r.choice([0, 0, 100])
        self.emit(f"unmap_bogus {h} {self.r.randint(1, 4096)} {self.r.choice(DIRS)}")

    def op_sync(self):
        i = self.pick(("map_single", "map_page"))
        if i is None:
            return self.op_map()
        o = self.live[i]
        ln = o["len"]
        if not self.untrusted and self.r.random() < 0.15:     # outside
            off, n = self.r.choice([(ln, 16), (-16, 8), (0, ln + 1)])
        else:
            off = self.r.randint(0, ln - 1)
            n = self.r.randint(1, ln - off)
        self.emit(f"sync {i} {off} {n} {self.r.choice(['cpu', 'dev'])}")

    def op_free(self):
        i = self.pick(("alloc_coherent", "alloc_noncontig", "alloc_pages"))
        if i is None:
            return self.op_alloc()
        o = self.live.pop(i)
        self.emit(self.r.choice(["free", "free_" + o["kind"][6:]]) + f" {i}")

    def op_sgtable(self):
        i = self.pick(("alloc_coherent",))
        if i is None:
            return self.op_alloc()
        self.emit(f"get_sgtable {i}")

    def op_leak(self):
        i = self.pick(("map_single", "map_page", "alloc_coherent"))
        if i is None:
            return self.op_map()
        self.live.pop(i)
        self.emit(f"leak {i}")

    def op_untrusted(self):
        self.untrusted = not self.untrusted
        self.emit(f"untrusted {int(self.untrusted)}")

    def run(self, n):
        table = [
            (self.op_map, 20), (self.op_map_sg, 8), (self.op_map_resource, 3),
            (self.op_alloc, 10), (lambda: self.op_unmap(), 22),
            (lambda: self.op_unmap("size"), 1.5), (lambda: self.op_unmap("dir"), 1.5),
            (self.op_double_unmap, 0.3), (self.op_unmap_bogus, 0.3),
            (self.op_sync, 8), (self.op_free, 9), (self.op_sgtable, 2),
            (self.op_leak, 0.2), (self.op_untrusted, 1),
        ]
        fns, weights = zip(*table)
        while len(self.lines) < n:
            if len(self.live) >= MAX_LIVE:
                self.r.choice([self.op_unmap, self.op_free])()
                continue
            self.r.choices(fns, weights)[0]()
        if self.untrusted:
            self.op_untrusted()
        return self.lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--granule", type=int, default=4096)
    a = ap.parse_args()
    out = sys.stdout
    out.write(f"# tests/model/gen.py --seed {a.seed} --ops {a.ops} --granule {a.granule}\n")
    for line in Gen(a.seed, a.granule).run(a.ops):
        out.write(line + "\n")


if __name__ == "__main__":
    main()
