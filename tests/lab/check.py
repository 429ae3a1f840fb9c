#!/usr/bin/env python3
"""Host-side checks of one lab boot (tests/lab/run.sh), or of the
before/after comparison of two traces (--diff). Prints TAP-like
"ok - ..." / "not ok - ..." lines and "# ..." details; run.sh counts them.

What is expected, per granule G (P = 4096, the CPU page), comes from how
dma-iommu in 6.1 maps each call; docs/lab-kernel.md ("Seed scenarios")
explains each row.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
from model import Model  # noqa: E402  (its range arithmetic)

P = 4096


class Checker:
    def __init__(self, prefix=""):
        self.failed = 0
        self.prefix = prefix  # the kernel version: both suites' lines stay distinct

    def ok(self, cond, msg, detail=None):
        print(("ok - " if cond else "not ok - ") + self.prefix + msg)
        if not cond:
            self.failed += 1
            if detail is not None:
                print("#   got: %s" % detail)
        return cond

    def eq(self, msg, expected, got):
        """An assertion that prints actual vs expected when it fails."""
        cond = expected == got
        print(("ok - " if cond else "not ok - ") + self.prefix + msg)
        if not cond:
            self.failed += 1
            print("#   expected: %r" % (expected,))
            print("#   got:      %r" % (got,))
        return cond


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def findings(text):
    """The findings of an `iommu-audit -j check` output (JSON Lines)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "finding":
            out.append(o["finding"])
    return out


def fx_lines(text):
    """The fixture's result lines (key=value ...) as dicts."""
    out = []
    for line in text.splitlines():
        if not line.startswith("id="):
            continue
        d = {}
        for kv in line.split():
            k, _, v = kv.partition("=")
            d[k] = v
        out.append(d)
    return out


def short(f):
    keys = ("code", "request", "dma", "len", "head", "tail", "exposed_bytes",
            "exposed_pages", "count", "value")
    return " ".join("%s=%s" % (k, f.get(k)) for k in keys if k in f)


# ---- seed scenarios ----------------------------------------------------------

SGTABLE = "translation.sgtable_mismatch"


def sgtable(g):
    """get_sgtable of a 4 KiB buffer: one exported page, a granule mapped."""
    return {"code": SGTABLE, "severity": "warning", "exported_bytes": P, "mapped_bytes": g}


def unrelated(pages, nbytes):
    return {"code": "exposure.unrelated_pages", "exposed_pages": pages,
            "exposed_bytes": nbytes}


def seed_expect(g):
    """scenario -> (list of expected findings as field subsets, codes that
    must not appear). Fields are compared exactly."""
    k = g // P
    big = g > P
    e = {}
    # map_single(buf + 100, 200): the granule around it is reachable; head
    # is the buffer's offset in its granule (its page's place in the
    # granule + 100), from the fixture's phys.
    def head(fx):
        return int(fx[0]["phys"]) % g if fx and "phys" in fx[0] else None

    def tail(fx):
        return None if head(fx) is None else g - head(fx) - 200
    if big:
        e["single"] = ([dict(unrelated(k - 1, g - 200), head=head, tail=tail)], [])
    else:
        e["single"] = ([{"code": "exposure.sub_page", "exposed_bytes": P - 200,
                         "head": 100, "tail": P - 300, "exposed_pages": 0}],
                       ["exposure.unrelated_pages"])
    # GFP_KERNEL: iommu_dma_alloc_remap() allocates whole granules (its
    # min_size is the granule), so the buffer owns what is mapped; but
    # get_sgtable exports PAGE_ALIGN(size), one page of the G mapped.
    e["coherent"] = ([sgtable(g)] if big else [],
                     ["exposure.unrelated_pages", "exposure.sub_page"] + ([] if big else [SGTABLE]))
    # FORCE_CONTIGUOUS and GFP_ATOMIC: iommu_dma_alloc_pages() of
    # PAGE_ALIGN(size), then __iommu_dma_map() of the granule around it.
    for s in ("contig", "atomic"):
        e[s] = ([unrelated(k - 1, g - P), sgtable(g)] if big else [],
                [] if big else ["exposure.unrelated_pages", SGTABLE])
    # dma_alloc_pages: dma_common_alloc_pages() -> one page, map_page.
    e["pages"] = ([unrelated(k - 1, g - P)] if big else [],
                  [] if big else ["exposure.unrelated_pages"])
    # dma_alloc_noncontiguous: __iommu_dma_alloc_noncontiguous() rounds
    # the size to the granule before allocating, as the remap path.
    e["noncontig"] = ([], ["exposure.unrelated_pages", "exposure.sub_page"])
    # map_sg of one page-aligned, granule-unaligned page (patch 0002 maps
    # it): the rest of its granule is reachable.
    # head: the page's offset in its granule (a 16K-aligned block + 4K:
    # always 4096 at 16K, 4096 + a multiple of 16K at 64K)
    def sg_head(fx):
        return int(fx[0]["seg0_phys"]) % g if fx and "seg0_phys" in fx[0] else None

    def sg_tail(fx):
        return None if sg_head(fx) is None else g - sg_head(fx) - P
    e["sg"] = ([dict(unrelated(k - 1, g - P), head=sg_head, tail=sg_tail)] if big else [],
               ["alignment.pt_refused"] + ([] if big else ["exposure.unrelated_pages"]))
    # untrusted: bounced into a swiotlb slot of iova_align(200) = G bytes.
    # dma-iommu returns iova + iova_offset(slot), so the handle's offset in
    # its granule is where the kernel put the slot in its granule (the
    # fixture's dma). At 0 the mapped granule is the slot: the slack is in
    # the slot, nothing outside. Otherwise (6.1's swiotlb aligns slots to
    # the pool's start, not to physical addresses: seen at 16K on the
    # trimmed lab config, slot at +4 KiB) the device reaches the slots
    # before it: an error, exposed = the granule less the 200 bytes.
    def slot_off(fx):
        return int(fx[0]["dma"]) % g if fx and "dma" in fx[0] else None

    def unt_want(fx):
        off = slot_off(fx)
        if not off:
            return {"code": "exposure.bounce_slack", "exposed_bytes": g - 200}
        return {"code": "exposure.untrusted", "exposed_bytes": g - 200,
                "head": off, "tail": g - off - 200}

    def unt_never(fx):
        return ["exposure.unrelated_pages", "exposure.sub_page"] + \
            ([] if slot_off(fx) else ["exposure.untrusted"])
    e["untrusted"] = ([unt_want], unt_never)
    return e


def resolve(want, fx):
    """want with its computed fields (functions of the fixture's result
    lines) evaluated; want itself may be such a function."""
    if callable(want):
        return want(fx)
    return {k: (v(fx) if callable(v) else v) for k, v in want.items()}


def matches(f, want):
    return all(f.get(k) == v for k, v in want.items())


ERRORS = ("translation.", "alignment.", "lifecycle.")


def split_scenarios(fx_text, fs):
    """The seed part's one recording, per scenario: {name: (fixture result
    lines, findings)}, and the findings outside every scenario. The fixture
    log has a "scen=NAME" line before each scenario's calls; a finding
    belongs to the scenario whose calls' span [first t0, last t1] holds its
    ts (the same CLOCK_MONOTONIC)."""
    lines, cur = {}, None
    for line in fx_text.splitlines():
        if line.startswith("scen="):
            cur = line[5:].strip()
            lines[cur] = []
        elif cur is not None and line.startswith("id="):
            lines[cur].extend(fx_lines(line))
    span = {}
    for name, ls in lines.items():
        t = [int(l[k]) for l in ls for k in ("t0", "t1") if l.get(k, "").isdigit()]
        if t:
            span[name] = (min(t), max(t))
    out = {name: (ls, []) for name, ls in lines.items()}
    stray = []
    for f in fs:
        owner = [n for n, (lo, hi) in span.items() if lo <= f.get("ts", -1) <= hi]
        (out[owner[0]][1] if len(owner) == 1 else stray).append(f)
    return out, stray


# ---- classification: what the exposed bytes are -----------------------------

# The fixture's page kinds (its pages= field: the kernel's own predicates)
# -> the kinds iommu-audit may name them. PG_reserved covers the kernel
# image and swiotlb's pool, which iommu-audit tells apart by address.
FX_KINDS = {"reserved": ("reserved", "kernel_image", "swiotlb")}
CLASSIFY = (("map_slab", "slab"), ("map_file", "file"), ("map_single", "kernel"))


def fx_page_bytes(fx, g):
    """{fixture kind: exposed bytes} of one map's result line, from its
    pages= (every CPU page of the granules around [phys, phys + len), in
    order from pages_at), and the bytes of pages it could not state ("?":
    the page changed while the map ran). None when the line has none."""
    if "pages" not in fx:
        return None, 0
    lo, hi = int(fx["phys"]), int(fx["phys"]) + int(fx.get("len", 200))
    want, unstable = {}, 0
    for i, kind in enumerate(fx["pages"].split(",")):
        a = int(fx["pages_at"]) + i * P
        n = P - max(0, min(a + P, hi) - max(a, lo))
        if not n:
            continue
        if kind == "?":
            unstable += n
        else:
            want[kind] = want.get(kind, 0) + n
    return want, unstable


def kinds_agree(want, unstable, got):
    """The finding's exposed_kinds against the fixture's: equal where the
    fixture stated a page; the bytes of its "?" pages anywhere."""
    got = dict(got)
    for kind, n in want.items():
        for k in FX_KINDS.get(kind, (kind,)):
            take = min(n, got.get(k, 0))
            got[k] = got.get(k, 0) - take
            n -= take
        if n:
            return False
    return sum(got.values()) == unstable


def check_classify(c, g, fx, fs):
    """scen_classify (the VM case classify's three buffers, alone): each
    map's exposure finding names its bytes by kind as the fixture's pages=
    says, and the object's own page its cache (slab) or inode (file)."""
    code = "exposure.unrelated_pages" if g > P else "exposure.sub_page"
    for cmd, own in CLASSIFY:
        line = [l for l in fx if l.get("cmd") == cmd]
        if not c.ok(len(line) == 1 and "pages" in line[0],
                    "classify G=%d %s: the fixture's line names its granule's pages" % (g, cmd), line):
            continue
        l = line[0]
        phys = int(l["phys"])
        f = [x for x in fs if x["code"] == code and x.get("phys") == phys]
        if not c.eq("classify G=%d %s: one %s at the fixture's phys" % (g, cmd, code), 1, len(f)):
            continue
        f = f[0]
        want, unstable = fx_page_bytes(l, g)
        pages = l["pages"].split(",")
        print("# classify G=%d %s: fixture pages %s; iommu-audit %s" % (
            g, cmd, l["pages"], json.dumps(f.get("exposed_kinds"), sort_keys=True)))
        c.eq("classify G=%d %s: exposed bytes %d (the granules less the buffer)" % (g, cmd, g - 200),
             g - 200, f.get("exposed_bytes"))
        c.ok(kinds_agree(want, unstable, f.get("exposed_kinds", {})),
             "classify G=%d %s: exposed bytes by kind as the fixture's page kinds say (%s%s)" % (
                 g, cmd, json.dumps(want, sort_keys=True),
                 ", %d bytes of pages that changed during the map" % unstable if unstable else ""),
             f.get("exposed_kinds"))
        own_i = (phys - int(l["pages_at"])) // P
        c.eq("classify G=%d %s: the buffer's own page is %s (fixture)" % (g, cmd, own), own,
             pages[own_i] if own_i < len(pages) else None)
        first = [i for i, k in enumerate(pages) if k == own]
        if own == "slab" and first and first[0] == own_i:
            c.eq("classify G=%d map_slab: the exposed slab is the fixture's cache" % g,
                 ("ia_fx_obj", 200), (f.get("slab_cache"), f.get("slab_object_size")))
            if int(l["nbr_phys"]) // P == phys // P:
                c.ok(f.get("slab_objects", 0) >= 1,
                     "classify G=%d map_slab: the neighbour object (same page) is among those "
                     "overlapped" % g, f.get("slab_objects"))
        if own == "file" and first and first[0] == own_i:
            c.eq("classify G=%d map_file: the exposed page cache is the file's (fixture's inode, dev_t)"
                 % g, (int(l["ino"]), int(l["sdev"])), (f.get("file_ino"), f.get("file_dev")))


LAZY = "@lazy"		# the tag of the seed scenarios run after the switch to DMA-FQ
TEMPORAL_NEVER = {
    # strict: an unmap is flushed at once, nothing to report
    False: ["temporal.lazy_window", "temporal.unflushed_at_end", "temporal.reuse_before_flush"],
    # lazy: the recording waits for the flush timer; one domain only
    True: ["temporal.unflushed_at_end", "temporal.reuse_before_flush"],
}
# the fixture's map/alloc commands and the key of their length
FX_LEN_KEY = {"map_single": "len", "map_page": "len", "map_file": "len", "map_slab": "obj_size",
              "alloc_coherent": "size", "alloc_pages": "size", "alloc_noncontig": "size"}


# [lo, hi) ranges, sorted, touching ones joined: the random part's model's
merged = Model.merged


def fx_granules(fx, g):
    """The granules the device was given by a scenario's maps and
    allocations, by the fixture's log: around what the page tables
    translated the handle to (xlate: the buffer, or an untrusted device's
    bounce slot), else its phys (a scatterlist's segments)."""
    out = []
    for l in fx:
        if l.get("cmd") in FX_LEN_KEY:
            x, n = int(l.get("xlate", l["phys"])), int(l[FX_LEN_KEY[l["cmd"]]])
            out.append((x // g * g, -(-(x + n) // g) * g))
        elif l.get("cmd") == "map_sg":
            for i in range(int(l.get("nents", 0))):
                x, n = int(l["seg%d_phys" % i]), int(l["seg%d_len" % i])
                out.append((x // g * g, -(-(x + n) // g) * g))
    return merged(out)


def check_lazy_windows(c, name, g, fx, fs):
    """Lazy mode: every granule the scenario unmapped stays reachable until
    the flush-queue flush: temporal.lazy_window findings covering exactly
    the granules of its maps, as the fixture's log gives them."""
    want = fx_granules(fx, g)
    got = merged((f["phys"], f["phys"] + f["len"]) for f in fs if f["code"] == "temporal.lazy_window")
    c.eq("%s G=%d: lazy windows over exactly the granules mapped (fixture's xlate/phys)"
         % (name, g), [[hex(a), hex(b)] for a, b in want], [[hex(a), hex(b)] for a, b in got])


def check_switch(c, res, g, fx_text, edu, trace):
    """The run-time switch of the edu group to DMA-FQ (scen_seed_lazy) and
    back to DMA after the recording (guest.sh): what the kernel answered,
    the domain and granule the fixture's probe found, and the device
    records the recording made around the switch."""
    for what, text, want in (("to DMA-FQ", fx_text.split("scen=switch", 1)[-1], "DMA-FQ"),
                             ("back to DMA", read(os.path.join(res, "seed", "restore")), "DMA")):
        gt = re.search(r"^group_type want=%s rc=(\S+) now=(\S+) err=(\S*)" % want, text, re.M)
        probe = [l for l in fx_lines(text) if l.get("cmd") == "probe"]
        print("# seed G=%d: switch %s: %s; probe %s" % (
            g, what, gt.group(0) if gt else "no group_type line",
            " ".join("%s=%s" % (k, probe[0].get(k)) for k in ("domain", "granule")) if probe else "none"))
        c.eq("seed G=%d: the edu group's type switched %s at run time (write status, type file)"
             % (g, what), ("0", want), gt.groups()[:2] if gt else None)
        c.eq("seed G=%d: after the switch %s the fixture's probe sees domain %s, granule %d"
             % (g, what, want, g), (want, str(g)),
             (probe[0].get("domain"), probe[0].get("granule")) if probe else None)
    # the recording's device records of edu, in order, and the domain type
    # each request was read against
    devs, reqs, cur = [], [], None
    for r in dumped(c, trace):
        if r.get("type") == "device" and r.get("name") == edu:
            cur = r
            devs.append((r.get("domain_type"), r.get("granule"), r.get("driver"), r.get("domain")))
        elif r.get("type") == "request" and r.get("device") == edu:
            reqs.append((r.get("ts", 0), cur))
    print("# seed G=%d: edu device records: %s" % (g, devs))
    # the switch in place, the fixture bound (its log: the type file says
    # DMA-FQ, no unbind before its map): the next request's device record
    # is the same domain, bound, of the new type, right after the last
    # bound DMA one (before bpf/device.bpf.h compared the type, the
    # record came only at the unbind, and the map was read as strict)
    sw = fx_text.split("scen=switch", 1)[-1]
    inplace = [i for i in range(1, len(devs)) if devs[i][0] == "DMA-FQ" and devs[i][2] == "ia_fixture"
               and devs[i - 1][0] == "DMA" and devs[i - 1][2] == "ia_fixture"
               and devs[i][3] == devs[i - 1][3]]
    c.ok(re.search(r"^group_type want=DMA-FQ rc=0 now=DMA-FQ", sw, re.M) and
         sw.find("cmd=unbind") > sw.find("cmd=map_single") >= 0 and len(inplace) == 1,
         "seed G=%d: the in-place switch (fixture bound): a device record of the same "
         "domain, type DMA-FQ, right after the bound DMA one" % g, devs)
    return reqs


def check_seed(c, res, g, mode="strict", edu=None):
    """The seed part: each scenario as seed_expect() says, in a strict boot
    once strict and once lazy (tag @lazy, after the run-time switch to
    DMA-FQ), in one recording."""
    exp = seed_expect(g)
    table = []
    d = os.path.join(res, "scen", "seed")
    rec = read(os.path.join(d, "record"))
    c.ok("record_rc=0" in rec, "seed G=%d: recorded" % g, rec[-300:])
    fx_text = read(os.path.join(d, "fx"))
    per, outside = split_scenarios(fx_text, findings(read(os.path.join(d, "check"))))
    c.ok(not outside, "seed G=%d: every finding inside one scenario's calls" % g,
         [short(f) + " ts=%s" % f.get("ts") for f in outside])
    tags = ["", LAZY] if mode == "strict" else [""]
    switch = per.pop("switch", None)
    reqs = []
    if mode == "strict":
        c.ok(switch is not None, "seed G=%d: the lazy half ran (scen=switch)" % g)
        reqs = check_switch(c, res, g, fx_text, edu, os.path.join(res, "seed.trace"))
        t = re.search(r"^seed_lazy_seconds start=(\S+) end=(\S+)", fx_text, re.M)
        r = re.search(r"^restore_seconds start=(\S+) end=(\S+)",
                      read(os.path.join(res, "seed", "restore")), re.M)
        if t and r:
            print("# seed G=%d: the lazy half took %.2f s in the guest, the switch back %.2f s; "
                  "seed trace %d bytes" % (g, float(t.group(2)) - float(t.group(1)),
                                           float(r.group(2)) - float(r.group(1)),
                                           os.path.getsize(os.path.join(res, "seed.trace"))))
    c.eq("seed G=%d: the scenarios that ran" % g,
         sorted(n + t for n in list(exp) + ["classify"] for t in tags), sorted(per))
    saved = c.prefix
    for tag in tags:
        lazy = tag == LAZY or mode == "lazy"
        # a lazy half's lines say so: "6.1 lazy: single G=16384: ..."
        c.prefix = saved + ("lazy: " if tag == LAZY else "")
        cl_fx, cl_fs = per.get("classify" + tag, ([], []))
        check_classify(c, g, cl_fx, cl_fs)
        if lazy:
            check_lazy_windows(c, "classify", g, cl_fx, cl_fs)
        for name, (want, never) in exp.items():
            fx, fs = per.get(name + tag, ([], []))
            for f in fs:
                print("#   %s%s G=%d: %s" % (name, tag, g, short(f)))
            bad = [l for l in fx if l.get("err") != "0"]
            c.ok(fx and not bad, "%s G=%d: fixture calls succeeded" % (name, g),
                 [" ".join("%s=%s" % kv for kv in l.items()) for l in bad] or "no result lines")
            if name not in ("untrusted", "sg"):	# (bounced: xlate is the slot; map_sg has none)
                x = [(l["phys"], l["xlate"]) for l in fx if "xlate" in l]
                c.ok(x and all(p == t for p, t in x),
                     "%s G=%d: the page tables translate each handle to its phys (fixture xlate)"
                     % (name, g), x)
            for w in want:
                w = resolve(w, fx)
                c.ok(any(matches(f, w) for f in fs),
                     "%s G=%d: finding %s" % (name, g, json.dumps(w, sort_keys=True)),
                     [short(f) for f in fs])
            # nothing unexpected: no error findings at all (the fixture's
            # calls are correct), none of the codes ruled out
            wanted = {resolve(w, fx)["code"] for w in want}
            never = (never(fx) if callable(never) else never) + TEMPORAL_NEVER[lazy]
            stray = [f for f in fs if (f["code"].startswith(ERRORS) and f["code"] not in wanted
                                       and f["code"] != "lifecycle.live_at_end")
                     or f["code"] in never]
            c.ok(not stray, "%s G=%d: no other error findings, none of %s" % (name, g, never or "-"),
                 [short(f) for f in stray])
            if lazy:
                check_lazy_windows(c, name, g, fx, fs)
            if reqs:
                # every request of the scenario read against a device
                # record of the mode it ran in
                t = [int(l[k]) for l in fx for k in ("t0", "t1") if l.get(k, "").isdigit()]
                types = sorted({(dv or {}).get("domain_type")
                                for ts, dv in reqs if t and min(t) <= ts <= max(t)})
                c.eq("%s G=%d: its requests are read against a %s domain (device record)"
                     % (name, g, "DMA-FQ" if lazy else "DMA"), ["DMA-FQ" if lazy else "DMA"], types)
            table.append((name + tag, ", ".join(sorted(
                "%s%s" % (f["code"], (" %d pages" % f["exposed_pages"]) if f.get("exposed_pages") else
                          (" %.1f ms" % (f["value"] / 1e6)) if f["code"] == "temporal.lazy_window" else "")
                for f in fs)) or "none"))
    c.prefix = saved
    for name, what in table:
        print("# seed %s G=%d: %s" % (name, g, what))


# ---- workload: real drivers --------------------------------------------------

def check_workload(c, res, g, mode):
    out = read(os.path.join(res, "workload", "out"))
    c.ok("workload_rc=0" in out, "workload G=%d %s: passed" % (g, mode), out[-400:])
    try:
        rep = json.loads(read(os.path.join(res, "workload", "report")))
    except ValueError:
        c.ok(False, "workload G=%d: report -j is JSON" % g)
        return
    c.ok(rep.get("coverage", {}).get("complete") is True,
         "workload G=%d: coverage complete (every hook attached, nothing lost)" % g,
         rep.get("coverage", {}).get("checks"))
    devs = {d["driver"]: d for d in rep.get("devices", [])}
    for drv in ("nvme", "e1000e", "virtio-pci"):
        d = devs.get(drv)
        if not c.ok(d is not None, "workload G=%d: %s recorded" % (g, drv), sorted(devs)):
            continue
        print("#   %s G=%d %s: maps %d requested %d mapped %d exposed %d pages %d lazy_max %d ns" % (
            drv, g, mode, d["maps"], d["bytes_requested"], d["bytes_mapped"],
            d["bytes_exposed"], d["pages_exposed"], d["lazy_max_ns"]))
        c.eq("workload G=%d: %s granule" % (g, drv), g, d["granule"])
        # Every sub-granule buffer of a G > 4K domain makes whole pages
        # reachable: nvme's 4K reads, e1000e's packets, virtio's headers.
        if g > P:
            c.ok(d["pages_exposed"] > 0, "workload G=%d: %s exposes whole unrelated pages" % (g, drv),
                 d["pages_exposed"])
        else:
            c.eq("workload G=%d: %s exposes no whole page" % (g, drv), 0, d["pages_exposed"])
        if mode == "lazy":
            c.ok(d["lazy_max_ns"] > 0, "workload G=%d lazy: %s has a flush-queue window" % (g, drv),
                 d["lazy_max_ns"])
    print("# report (G=%d, %s):" % (g, mode))
    for line in read(os.path.join(res, "workload", "report.txt")).splitlines()[:8]:
        print("#   " + line)


# ---- dma-debug side by side ----------------------------------------------------

# Every error class of kernel/dma/debug.c (6.1 and 7.2: err_printk() calls)
# and what iommu-audit reports for the same bug: (dma-debug's words, the
# iommu-audit codes that must report the same handle, or None and why it
# has none). docs/lab-kernel.md holds the same table with what was seen.
DMA_DEBUG = [
    ("frees DMA memory with different size", ("lifecycle.size_mismatch",), None),
    ("frees DMA memory with different direction", ("lifecycle.dir_mismatch",), None),
    ("frees DMA memory with wrong function", ("lifecycle.wrong_kind",), None),
    ("tries to free DMA memory it has not allocated",
     ("lifecycle.double_unmap", "lifecycle.unmap_unknown"), None),
    ("tries to free an invalid DMA memory address", ("lifecycle.unmap_unknown",), None),
    ("to sync DMA memory it has not allocated", ("lifecycle.sync_outside",), None),
    ("syncs DMA memory outside allocated range", ("lifecycle.sync_outside",), None),
    ("syncs DMA memory with different direction", ("lifecycle.sync_dir_mismatch",), None),
    ("syncs device read-only DMA memory for cpu", ("lifecycle.sync_dir_mismatch",), None),
    ("syncs device write-only DMA memory to device", ("lifecycle.sync_dir_mismatch",), None),
    ("DMA sg list with different entry count", ("lifecycle.sg_nents_mismatch",), None),
    ("frees DMA memory with different CPU address", ("lifecycle.free_cpu_mismatch",), None),
    ("frees DMA memory with different attributes", "attrs", None),
    ("failed to check map error", None,
     "dma_mapping_error() is an inline comparison: without CONFIG_DMA_API_DEBUG no call is"
     " left to hook"),
    ("mapping sg segment longer than device claims to support", ("alignment.max_seg_size",), None),
    ("mapping sg segment across boundary", ("alignment.seg_boundary",), None),
    ("cacheline tracking EEXIST", None,
     "not built: the checker keeps a device's sub-granule buffers, not every mapping's"
     " cachelines"),
    ("maps memory from stack", ("exposure.stack",), None),
    ("dma_map_resource called for RAM address", None,
     "not built: map_resource of a phys below max_pfn"),
    ("has pending DMA allocations while released from device", ("lifecycle.live_at_unbind",), None),
]

# What the scenario (scenarios.sh scen_dmadebug) must make dma-debug log, per
# version: its witness that each fixture command made its bug. 6.1 types
# single and resource maps apart ("wrong function"); 7.x calls both "phy"
# and tells them by DMA_ATTR_MMIO ("different attributes"), checks
# attributes and RAM behind map_resource, and on x86 reports no cacheline
# overlap (dma_get_cache_alignment() is 1, below L1_CACHE_BYTES).
DMA_DEBUG_EXPECT = {
    "common": ["frees DMA memory with different size", "frees DMA memory with different direction",
               "frees DMA memory with wrong function", "tries to free DMA memory it has not allocated",
               "tries to free an invalid DMA memory address", "to sync DMA memory it has not allocated",
               "syncs DMA memory with different direction", "syncs device read-only DMA memory for cpu",
               "syncs device write-only DMA memory to device",
               "syncs DMA sg list with different entry count", "frees DMA sg list with different entry count",
               "frees DMA memory with different CPU address", "failed to check map error",
               "mapping sg segment longer than device claims to support",
               "mapping sg segment across boundary", "maps memory from stack",
               "has pending DMA allocations while released from device"],
    "6.1": ["cacheline tracking EEXIST"],
    "7.2": ["frees DMA memory with different attributes", "dma_map_resource called for RAM address"],
}

DMA_API_RE = re.compile(r"DMA-API: (\S+) (\S+): (.*)")
DMA_MMIO = 1 << 10	# DMA_ATTR_MMIO (7.x include/linux/dma-mapping.h)


def dma_debug_errors(dmesg):
    """(driver, device, message, address or None) per err_printk."""
    out = []
    lines = dmesg.splitlines()
    for i, line in enumerate(lines):
        m = DMA_API_RE.search(line)
        if not m:
            continue
        msg = m.group(3)
        # the leak report puts the address on the next line
        more = msg + (" " + lines[i + 1] if i + 1 < len(lines) else "")
        a = re.search(r"(?:device address|start)=0x([0-9a-f]+)", more)
        addr = int(a.group(1), 16) if a else None
        if "invalid DMA memory address" in msg:
            addr = (1 << 64) - 1	# dma_mapping_error() said so: DMA_MAPPING_ERROR
        out.append((m.group(1), m.group(2), msg, addr))
    return out


def dma_debug_class(msg):
    """(class words, codes or None, why none) of one dma-debug message.
    7.x's "different attributes" is iommu-audit's wrong_kind when the
    attributes differ by DMA_ATTR_MMIO (a single map undone as a resource or
    the other way round); other attributes are not compared."""
    for text, codes, why in DMA_DEBUG:
        if text not in msg:
            continue
        if codes == "attrs":
            a = re.search(r"mapped with 0x([0-9a-f]+)\] \[unmapped with 0x([0-9a-f]+)", msg)
            if a and (int(a.group(1), 16) ^ int(a.group(2), 16)) & DMA_MMIO:
                return text, ("lifecycle.wrong_kind",), None
            return text, None, "not built: the checker compares no DMA attributes besides MMIO"
        return text, codes, why
    return msg.split(" [")[0], None, "unknown class"


def each_findings(binary, trace):
    """check --each: one finding per occurrence, each with its handle (the
    fixture's calls share call sites, which the default output folds)."""
    p = subprocess.run([binary, "-j", "check", "--each", trace], capture_output=True, text=True)
    return findings(p.stdout)


def check_dmadebug(c, res, g, edu, kernel):
    dm = read(os.path.join(res, "dmadebug", "dmesg"))
    errs = dma_debug_errors(dm)
    before = read(os.path.join(res, "dmadebug", "before")).strip()
    after = read(os.path.join(res, "dmadebug", "error_count")).strip()
    fs = each_findings(c.binary, os.path.join(res, "dmadebug.trace"))
    rec = read(os.path.join(res, "scen", "dmadebug", "record"))
    c.ok("record_rc=0" in rec, "dmadebug G=%d: recorded" % g, rec[-300:])
    try:
        logged = int(after) - int(before)
    except ValueError:
        logged = None
    c.eq("dmadebug G=%d: every error dma-debug counted is in the log (error_count delta)" % g,
         logged, len(errs))
    for text in DMA_DEBUG_EXPECT["common"] + DMA_DEBUG_EXPECT.get(kernel, []):
        c.ok(any(text in e[2] for e in errs), "dmadebug G=%d: dma-debug logged '%s'" % (g, text),
             sorted({e[2].split(" [")[0] for e in errs}))
    rows = []
    for drv, dev, msg, addr in errs:
        text, codes, why = dma_debug_class(msg)
        hit = None
        for f in fs if codes else []:
            if f["code"] not in codes or f.get("device") != dev:
                continue
            # the same operation: the handle dma-debug names
            if addr is None or f.get("dma") == addr or (
                    f.get("dma", 0) <= addr < f.get("dma", 0) + max(f.get("len", 0), 1)):
                hit = f
                break
        label = re.split(r"\s*\[", msg)[0]
        where = "0x%x" % addr if addr is not None else "-"
        rows.append((label, where, hit["code"] if hit else ("none: " + why if why else "MISSING")))
        if dev == edu:
            c.ok(hit is not None or (codes is None and why != "unknown class"),
                 "dmadebug G=%d: dma-debug '%s' (%s) %s" % (
                     g, label, where, "also reported by iommu-audit" if codes else "has its reason"),
                 [short(f) for f in fs if not codes or f["code"] in codes])
    for label, addr, code in rows:
        print("# dma-debug G=%d: %-70s %-18s -> %s" % (g, label, addr, code))
    seen = {r[2] for r in rows}
    for f in fs:
        if f["code"] not in seen:
            print("# iommu-audit only G=%d: %s" % (g, short(f)))


# ---- freed while mapped, and IOMMU_DEBUG_PAGEALLOC ---------------------------

def check_freed(c, res, g, mode, boot):
    """scen_freed: the fixture's own result lines are the witness of what
    was freed (free_mapped: phys, size; the lazy unmap's page is freed by
    the fixture right after the unmap). IOMMU_DEBUG_PAGEALLOC (7.2 with
    iommu.debug_pagealloc=1) refcounts mapped memory per IOMMU page
    (iommu_debug_page_size(): the domain's smallest page, the granule),
    counting the first CPU page of each: it warns "Detected page leak" when
    a counted page is freed (free_pages_prepare), so at G > 4K only a page
    at the start of its granule is seen; it never sees a slab object (its
    page is not freed), nor a page freed after its unmap before the flush
    (iommu_unmap() has already dropped the count)."""
    d = os.path.join(res, "scen", "freed")
    rec = read(os.path.join(d, "record"))
    c.ok("record_rc=0" in rec, "freed G=%d %s: recorded" % (g, mode), rec[-300:])
    fx = fx_lines(read(os.path.join(d, "fx")))
    fs = findings(read(os.path.join(d, "check")))
    for f in fs:
        print("#   freed G=%d %s: %s" % (g, mode, short(f)))
    frees = [l for l in fx if l.get("cmd") == "free_mapped"]
    maps = [l for l in fx if l.get("cmd") in ("map_single", "map_slab")]
    c.ok(len(frees) == 2 and len(maps) == 3 and all(l.get("err") == "0" for l in fx),
         "freed G=%d %s: the fixture's 3 maps, 2 frees and 3 unmaps ran" % (g, mode), fx)
    if len(frees) != 2 or len(maps) != 3:
        return
    page, slab = int(frees[0]["phys"]), int(frees[1]["phys"])

    def span(fr):
        # the IOVA granules of the mapping the fixture's free was of (its
        # result line's "of"): where the finding for that free must lie
        m = [l for l in maps if l.get("id") == fr.get("of")]
        if not m:
            return None
        lo = int(m[0]["dma"]) & ~(g - 1)
        n = int(m[0].get("len") or m[0].get("obj_size") or 1)
        return lo, (int(m[0]["dma"]) + n + g - 1) & ~(g - 1)

    def at(code, phys, size=None, within=None):
        # size: the fixture's free's (its result line). A slab object at
        # the start of its page shares its phys with that page, which
        # another owner may have freed inside a mapped granule before the
        # slab took it (6.1 g16384-lazy: a 4096-byte page free at the
        # 200-byte object's phys; check_freed_exact counts it as others').
        # within: the freed mapping's granules. The page the fixture freed
        # may be taken again and freed by its next owner while a later
        # mapping's granule holds it (7.2 g16384-lazy in CI: the same
        # phys and size, at the third map's IOVA)
        return [f for f in fs if f["code"] == code and f.get("phys") == phys and
                (size is None or f.get("len") == size) and
                (within is None or within[0] <= f.get("dma", -1) < within[1])]
    c.eq("freed G=%d %s: page freed while mapped: lifecycle.freed_while_mapped" % (g, mode),
         1, len(at("lifecycle.freed_while_mapped", page, int(frees[0]["size"]),
                   span(frees[0]))))
    c.eq("freed G=%d %s: slab object freed while mapped: lifecycle.freed_while_mapped" % (g, mode),
         1, len(at("lifecycle.freed_while_mapped", slab, int(frees[1]["size"]),
                   span(frees[1]))))
    # lazy: the fixture's buf (the third map's page, freed by the fixture
    # right after its unmap), once; at G > 4K other owners' frees inside
    # the fixture's granules may follow (check_freed_exact). strict: none
    fbf = [f for f in fs if f["code"] == "temporal.freed_before_flush"]
    if mode == "lazy":
        c.eq("freed G=%d %s: page freed after unmap, before the flush: temporal.freed_before_flush"
             " at the fixture's buf" % (g, mode), 1, len(at("temporal.freed_before_flush",
                                                             int(maps[2]["buf"]))))
    else:
        c.eq("freed G=%d %s: no temporal.freed_before_flush (no flush queue)" % (g, mode),
             [], [short(f) for f in fbf])
    check_freed_exact(c, res, g, mode, fs, frees, maps)
    # IOMMU_DEBUG_PAGEALLOC, where the kernel has it and it is on. Its
    # WARN (with the task: "CPU#1: iafx/339") comes before each "Detected
    # page leak!"; a page freed while mapped warns at that free and again
    # at every later allocation and free of it until its unmap (seen: 5
    # warnings, the first two by the fixture's task, then exe, sh).
    on = "iommu: Debugging page allocations" in boot
    dm = read(os.path.join(res, "freed", "dmesg"))
    tasks = re.findall(r"WARNING: drivers/iommu/iommu-debug-pagealloc\.c:\d+ at \S+, CPU#\d+: (\S+)/\d+", dm)
    leaks = len(re.findall(r"iommu: Detected page leak", dm))
    counted = page % g == 0
    print("# IOMMU_DEBUG_PAGEALLOC G=%d %s: %s; page at +%d in its granule; %d warning(s), tasks %s"
          % (g, mode, "on" if on else "absent", page % g, leaks, " ".join(tasks) or "-"))
    if not on:
        c.eq("freed G=%d %s: no IOMMU_DEBUG_PAGEALLOC, no warning" % (g, mode), 0, leaks)
    elif counted:
        # not necessarily first: at G > 4K other owners free memory inside
        # mapped granules too (check_freed_exact's others), and a granule's
        # first page freed so warns as well (7.2 g16384-lazy: the first of
        # 13 warnings was iommu-audit's own task, the fixture's second)
        c.ok(leaks >= 1 and "iafx" in tasks,
             "freed G=%d %s: IOMMU_DEBUG_PAGEALLOC warns, at the fixture's free among them "
             "(its page is the first of its granule: counted)" % (g, mode), tasks)
    want = on and counted
    rows = [("page freed while mapped", "lifecycle.freed_while_mapped",
             "warns" if want else "nothing"),
            ("slab object freed while mapped", "lifecycle.freed_while_mapped", "nothing"),
            ("page freed after a lazy unmap, before the flush",
             "temporal.freed_before_flush" if mode == "lazy" else "- (strict)", "nothing")]
    for what, ours, theirs in rows:
        print("# pagealloc G=%d %s: %-48s iommu-audit %-30s IOMMU_DEBUG_PAGEALLOC %s"
              % (g, mode, what, ours, theirs if on else "absent"))


def check_freed_exact(c, res, g, mode, fs, frees, maps):
    """The VM case freed's assertions, on the lab kernels: each fixture
    finding as the fixture's own log says (what it freed, its size, the
    freeing call site, the mapping's), the slab one a slab object in the
    trace's free record; the lazy one the third map's page (the fixture
    frees it at the unmap). At G = 4K exactly those two are freed while
    mapped; at a larger granule the others are frees by other owners of
    memory inside the fixture's mapped granules (the fixture's phys and G
    say which granules), never the fixture's own."""
    lbl = "freed G=%d %s" % (g, mode)
    fw = [f for f in fs if f["code"] == "lifecycle.freed_while_mapped"]
    # by phys and size: the slab object may sit where the page freed just
    # before it was (the buddy allocator hands the freed page to the slab
    # allocator: seen on 6.1 g16384-lazy, both at the same phys)
    for what, fr in (("page", frees[0]), ("slab object", frees[1])):
        f = [x for x in fw if x.get("phys") == int(fr["phys"]) and x.get("len") == int(fr["size"])]
        if not f:
            continue
        f = f[0]
        c.eq("%s: %s: an error of the %s bytes the fixture freed, once" % (lbl, what, fr["size"]),
             ("error", int(fr["size"]), 1), (f.get("severity"), f.get("len"), f.get("count")))
        c.ok(any(x.startswith("fx_free_mapped+") for x in f.get("stack", [])),
             "%s: %s: the freeing call site is the fixture's free_mapped" % (lbl, what), f.get("stack"))
        c.ok("mapped at fx_map" in f.get("message", ""),
             "%s: %s: the mapping's call site is in the message" % (lbl, what), f.get("message"))
    slab, slab_size = int(frees[1]["phys"]), int(frees[1]["size"])
    rec = [r for r in dumped(c, os.path.join(res, "freed.trace"))
           if r.get("type") == "freed" and r.get("phys") == slab and r.get("size") == slab_size]
    c.ok(len(rec) == 1 and rec[0].get("slab") is True,
         "%s: the slab object's free is recorded once, as a slab free" % lbl, rec)
    # every occurrence (check --each on the host: the guest's output folds
    # the others' frees by call site)
    each_all = host_check(c, os.path.join(res, "freed.trace"))[0]
    each = [f for f in each_all if f["code"] == "lifecycle.freed_while_mapped"]
    mine = {int(fr["phys"]) for fr in frees}
    granules = {int(m["phys"]) // g for m in maps}
    others = [f for f in each if f.get("phys") not in mine]
    other_owners(c, g, granules, others, "fx_free_mapped+",
                 "%s: exactly the fixture's two frees are freed while mapped" % lbl,
                 "%s: the %d other freed while mapped are other owners' frees inside the "
                 "fixture's mapped granules" % (lbl, len(others)))
    if mode == "lazy":
        # after an unmap the granule stays reachable until the flush: a
        # free in it by anyone then is temporal.freed_before_flush. The
        # fixture frees only its buf so; at G > 4K the others are other
        # owners' pages inside the fixture's mapped granules (seen on 7.2
        # g16384-lazy: 2 besides the buf, one granule below it)
        buf = int(maps[2]["buf"])
        fb = [f for f in each_all if f["code"] == "temporal.freed_before_flush"]
        c.eq("%s: freed before the flush: the third map's page (the fixture's buf), once" % lbl,
             [buf], [f.get("phys") for f in fb if f.get("phys") == buf])
        # on other devices (their own lazy unmaps: nvme, e1000e) the
        # fixture's log says nothing of what is mapped: shown, not checked
        dev = next((f.get("device") for f in fb if f.get("phys") == buf), None)
        for f in fb:
            if f.get("device") != dev:
                print("#   %s: freed before the flush on %s: %s" % (lbl, f.get("device"), short(f)))
        fo = [f for f in fb if f.get("phys") != buf and f.get("device") == dev]
        other_owners(c, g, granules, fo, "fx_",
                     "%s: freed before the flush: nothing but the fixture's buf" % lbl,
                     "%s: freed before the flush: the %d others are other owners' frees "
                     "inside the fixture's mapped granules" % (lbl, len(fo)))


def other_owners(c, g, granules, others, fx_frame, at_page, above_page):
    """Frees other than the fixture's in a finding the fixture's log
    explains: at G = 4K none (assertion at_page); at a larger granule each
    inside one of the fixture's mapped granules (its log's phys and G) and
    not freed by the fixture (no stack frame starting with fx_frame)
    (assertion above_page)."""
    if g == P:
        c.eq(at_page, [], [short(f) for f in others])
        return
    bad = [f for f in others if f.get("phys", 0) // g not in granules or
           any(x.startswith(fx_frame) for x in f.get("stack", []))]
    c.ok(not bad, above_page, [short(f) + " phys=0x%x" % f.get("phys", 0) for f in bad])


# ---- the boot ----------------------------------------------------------------

# ---- the page-table oracle ---------------------------------------------------

def summary(text):
    """The summary line of an `iommu-audit -j check` output."""
    for line in text.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "summary":
            return o
    return {}


def host_check(a, trace):
    p = subprocess.run([a.binary, "-j", "check", "--each", trace], capture_output=True, text=True)
    return findings(p.stdout), summary(p.stdout)


def dumped(a, trace):
    """The records of a trace (`iommu-audit dump`)."""
    p = subprocess.run([a.binary, "dump", trace], capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def check_oracle_all(c, a):
    """Every recording of the boot: its closing page-table snapshot agrees
    with the writes it recorded (issue 13's done-when), checked on the host
    from the trace. In lazy mode also: no range whose IOVA release was still
    queued (unmapped, IOTLB not flushed) is in a dump: dma-iommu clears the
    entries at unmap, only the flush is deferred."""
    # the oracle part's differences are injected: check_oracle_injected
    traces = sorted(t for t in glob.glob(os.path.join(a.dir, "*.trace"))
                    if os.path.basename(t) != "oracle.trace")
    c.ok(traces, "%s: recordings to compare" % a.name, a.dir)
    for t in traces:
        name = os.path.basename(t)[:-len(".trace")]
        fs, s = host_check(a, t)
        o = s.get("oracle", {})
        ora = [short(f) for f in fs if f["code"].startswith("oracle.")]
        print("# %s %s: oracle %s" % (a.name, name, json.dumps(o, sort_keys=True)))
        c.ok(o.get("state") == "compared" and o.get("compared", 0) >= 1 and
             o.get("differences") == 0 and not ora,
             "%s %s: the closing page-table snapshot agrees with the recorded writes "
             "(0 differences)" % (a.name, name), (o, ora))
        if a.mode == "lazy" and name == "workload":
            check_lazy_dumps(c, a, t)


def check_lazy_dumps(c, a, trace):
    # device -> [(iova, end)]: unmapped before the snapshot's read began,
    # IOVA release queued and not flushed by then. dma-iommu frees the IOVA
    # only at the flush, so until then nothing else can be mapped there; a
    # flush during the read may free it, and a write recorded during the
    # read over it takes it out of the check.
    queued = {}
    reading = False
    seen = checked = snaps = 0
    for r in dumped(a, trace):
        if r.get("type") == "iova_free" and r.get("queued") and not reading:
            queued.setdefault(r["device"], []).append((r["iova"], r["iova"] + r["size"]))
        elif r.get("type") == "fq_flush" and not reading:
            queued = {}	# a flush: what was queued before it is revoked
        elif r.get("type") == "pt_map" and reading:
            lo, hi = r["iova"], r["iova"] + r["size"]
            for dev in queued:
                queued[dev] = [(a0, b0) for a0, b0 in queued[dev] if b0 <= lo or hi <= a0]
        elif r.get("type") == "pt_snap" and r.get("phase") == "begin":
            reading = True
            snaps += 1
        elif r.get("type") == "pt_snap" and r.get("phase") == "end":
            reading = False
            queued = {}	# a flush ran during the read (10 ms timer): start over
        elif r.get("type") == "pt_snap" and r.get("phase") == "device":
            for lo, hi in queued.get(r["device"], []):
                checked += 1
                for x in r["ranges"]:
                    if x["iova"] < hi and lo < x["iova"] + x["size"]:
                        seen += 1
    print("# %s workload: %d snapshots; %d lazily unmapped, unflushed ranges looked up in "
          "their dumps" % (a.name, snaps, checked))
    if not checked:
        # a read takes 0.3 s or more under TCG, the flush timer 10 ms: no
        # assertion that could not fail
        print("# %s workload: no range was still queued when a snapshot's read began: "
              "nothing to check" % a.name)
        return
    c.eq("%s workload: unmapped but unflushed (lazy) ranges are absent from the page "
         "tables" % a.name, 0, seen)


def check_oracle_injected(c, a, g, edu):
    """scen_oracle: the mapping made before the recording is known from the
    start snapshot (its unmap is a snapshot_unmaps, not preexisting); the
    fixture's iommu_unmap() behind dma-iommu's back is recorded as a removal
    outside any request and reported as lifecycle.unmapped_behind_api of the
    live mapping; its pt_clear (the driver's own op, below the hooks) is in
    no record, and the closing snapshot shows it: exactly one
    oracle.not_in_page_tables, the fixture's granule. Witnesses: the
    fixture's log (iova, size, and phys as the page tables translated it
    before the removal) and the hardware's page tables (the snapshot)."""
    res = a.dir
    fx = fx_lines(read(os.path.join(res, "scen", "oracle", "fx")))
    setup = fx_lines(read(os.path.join(res, "scen", "oracle", "setup")))
    m = [x for x in fx if x.get("cmd") == "map_single"]
    rm = {}
    for cmd in ("iommu_unmap", "pt_clear"):
        u = [x for x in fx if x.get("cmd") == cmd]
        if not c.ok(len(m) == 2 and setup and len(u) == 1 and u[0].get("err") == "0" and
                    int(u[0]["unmapped"]) == int(u[0]["size"]) == g and
                    int(u[0]["phys"]) == int(x_of(m, u[0]["of"]).get("phys", -1)) // g * g and
                    u[0]["after"] == "0",
                    "%s oracle: the fixture's %s removed its mapping's granule (the page tables "
                    "translated it to the buffer's granule before, to nothing after)" % (a.name, cmd),
                    (fx, setup)):
            return
        rm[cmd] = {k: int(u[0][k]) for k in ("iova", "size", "phys", "of")}
    trace = os.path.join(res, "oracle.trace")
    p = subprocess.run([a.binary, "-j", "report", trace], capture_output=True, text=True)
    try:
        devs = {d["name"]: d for d in json.loads(p.stdout)["devices"]}
    except (ValueError, KeyError):
        devs = {}
    d = devs.get(edu, {})
    c.ok(d.get("snapshot_unmaps") == 1 and d.get("preexisting_unmaps") == 0,
         "%s oracle: the unmap of the mapping made before the recording is known from the "
         "start snapshot (snapshot_unmaps 1, preexisting_unmaps 0)" % a.name, d)
    recs = dumped(a, trace)
    c.eq("%s oracle: the iommu_unmap() is recorded, outside any request" % a.name,
         [g], [r.get("unmapped") for r in recs if r.get("type") == "pt_unmap" and
               r.get("req") == 0 and r.get("iova") == rm["iommu_unmap"]["iova"]])
    c.eq("%s oracle: pt_clear's removal is in no record (no pt_unmap, no iommu:unmap)" % a.name,
         [], [r for r in recs if r.get("type") in ("pt_unmap", "tp_unmap") and
              r.get("iova") == rm["pt_clear"]["iova"]])
    fs, s = host_check(a, trace)

    def pick(code):
        return [{k: f.get(k) for k in ("code", "severity", "device", "dma", "len", "phys")}
                for f in fs if f["code"] == code or (code.endswith(".") and f["code"].startswith(code))]
    u = rm["iommu_unmap"]
    c.eq("%s oracle: the iommu_unmap() of the live mapping is lifecycle.unmapped_behind_api "
         "(the fixture's granule, its phys before the removal)" % a.name,
         [{"code": "lifecycle.unmapped_behind_api", "severity": "error", "device": edu,
           "dma": u["iova"], "len": g, "phys": u["phys"]}], pick("lifecycle.unmapped_behind_api"))
    site = [f.get("stack", [""])[0] for f in fs if f["code"] == "lifecycle.unmapped_behind_api"]
    c.ok(site and all(x.startswith("fx_map+") for x in site),
         "%s oracle: its call site is the live mapping's (fx_map)" % a.name, site)
    pc = rm["pt_clear"]
    c.eq("%s oracle: the removal no hook saw is caught: the recorded writes map pt_clear's "
         "granule, the closing snapshot does not" % a.name,
         [{"code": "oracle.not_in_page_tables", "severity": "error", "device": edu,
           "dma": pc["iova"], "len": g, "phys": pc["phys"]}], pick("oracle."))
    o = s.get("oracle", {})
    c.ok(o.get("state") == "compared" and o.get("compared", 0) >= 1 and o.get("differences") == 1,
         "%s oracle: one difference in the summary, the closing snapshot's" % a.name, o)


def x_of(ops, of):
    """The fixture line of op id OF among OPS ({} when none)."""
    return next((x for x in ops if x.get("id") == of), {})


# ---- the two-step IOVA API at the lab granule (7.2) --------------------------

def check_iova(c, a, g, edu):
    """scen_iova: each state's hint is its own buffer, so its one link at a
    sub-granule offset maps the whole granule around it. Expected from the
    fixture's log (the link's phys, the state's addr, the granule, what the
    page tables translate the link's IOVA to) and the closing page-table
    snapshot of the trace (the hardware's tables, read through debugfs), not
    from the checker: the writes, the removals, the exposure per link, and
    the kept state's granule in the tables at the end."""
    lbl = "%s iova G=%d" % (a.name, g)
    t = read(os.path.join(a.dir, "iova", "seconds")).split()
    if len(t) == 2:
        print("# %s: the part took %.2f s in the guest (with its recording, if any)"
              % (lbl, float(t[1]) - float(t[0])))
    fx = fx_lines(read(os.path.join(a.dir, "scen", "iova", "fx")))
    allocs = [l for l in fx if l.get("cmd") == "iova_alloc"]
    links = [l for l in fx if l.get("cmd") == "iova_link"]
    if a.kernel == "6.1":
        c.eq("%s: before 6.16 the fixture refuses iova_alloc" % lbl,
             [("-95", "no_iova_api_before_6.16")] * 2, [(l.get("err"), l.get("msg")) for l in allocs])
        return
    bad = [l for l in fx if l.get("err") != "0"]
    if not c.ok(len(allocs) == 2 and len(links) == 2 and not bad,
                "%s: the fixture made every call (err=0)" % lbl, bad or fx):
        return
    trace = os.path.join(a.dir, "iova.trace")
    recs = dumped(a, trace)
    fs, _ = host_check(a, trace)
    for al, ln in zip(allocs, links):
        phys, addr, n = int(ln["phys"]), int(al["addr"]), int(ln["len"])
        pad = phys % g
        what = "link of %d bytes at +%#x in its granule" % (n, pad)
        print("# %s: state %s: buf %#x, hint %#x, addr %#x; link phys %#x" % (
            lbl, al["id"], int(al["buf"]), int(al["phys"]), addr, phys))
        c.eq("%s: %s: the reservation keeps the buffer's offset in its granule (addr %% G)"
             % (lbl, what), pad, addr % g)
        c.ok(pad != 0, "%s: %s: the link starts inside its granule" % (lbl, what), pad)
        c.eq("%s: %s: the page tables translate its IOVA to its phys (fixture xlate)" % (lbl, what),
             phys, int(ln["xlate"]))
        # the command's writes: those inside its [t0, t1] (docs/fixture.md)
        w = [(r["iova"], r["paddr"], r["size"]) for r in recs if r.get("type") == "pt_map"
             and int(ln["t0"]) <= r.get("ts", 0) <= int(ln["t1"])]
        c.eq("%s: %s: one write of the whole granule around it (iova, paddr, size)" % (lbl, what),
             [(addr - pad, phys - pad, g)], w)
        e = [f for f in fs if f.get("request") == "iova_link" and f.get("phys") == phys
             and f["code"].startswith("exposure.")]
        want = {"code": "exposure.unrelated_pages" if g > P else "exposure.sub_page",
                "exposed_bytes": g - n, "head": pad, "tail": g - pad - n,
                "exposed_pages": (g - (-(-(pad + n) // P) - pad // P) * P) // P if g > P else 0}
        c.eq("%s: %s: its exposure: the rest of the granule" % (lbl, what),
             [want], [{k: f.get(k) for k in want} for f in e])
    # the first state destroyed: its granule removed, its IOVA freed
    a0, l0 = int(allocs[0]["addr"]), int(links[0]["phys"])
    rm = [(r["iova"], r["unmapped"]) for r in recs if r.get("type") == "pt_unmap"]
    c.eq("%s: the destroy removes the first link's granule" % lbl, [(a0 - l0 % g, g)], rm)
    # the second kept: the closing snapshot's tables hold its granule
    a1, l1 = int(allocs[1]["addr"]), int(links[1]["phys"])
    snap = [r for r in recs if r.get("type") == "pt_snap" and r.get("phase") == "device"
            and r.get("device") == edu and r.get("why") == "stop"]
    got = merged((x["iova"], x["iova"] + x["size"]) for r in snap for x in r.get("ranges", []))
    phys_ok = all(x["paddr"] - x["iova"] == (l1 - l1 % g) - (a1 - l1 % g)
                  for r in snap for x in r.get("ranges", []))
    c.ok(snap and got == [(a1 - l1 % g, a1 - l1 % g + g)] and phys_ok,
         "%s: the closing page-table snapshot holds exactly the kept link's granule, at its phys"
         % lbl, [(hex(x["iova"]), hex(x["paddr"]), x["size"]) for r in snap for x in r.get("ranges", [])])
    errs = sorted(f["code"] for f in fs if f["code"].startswith(ERRORS))
    c.eq("%s: the only errors: the state kept to the end (reserved, its link live)" % lbl,
         ["lifecycle.iova_reserved_at_end", "lifecycle.live_at_end"], errs)
    c.ok(not [r for r in recs if r.get("type") in ("pt_map", "pt_unmap") and r.get("unattributed")],
         "%s: every page-table change attributed" % lbl)


def check_boot(c, a):
    res, g = a.dir, a.granule
    parts = a.parts.split(",")
    cmdline = read(os.path.join(res, "cmdline"))
    boot = read(os.path.join(res, "dmesg_boot"))
    if g > P:
        c.ok("lab: IOMMU granule forced to %d" % g in boot,
             "%s: kernel took iommu_lab.granule=%d" % (a.name, g), cmdline)
    else:
        c.ok("iommu_lab" not in cmdline and "granule forced" not in boot,
             "%s: stock granule (no lab parameter)" % a.name, cmdline)
    if "sg_fix=0" in cmdline:
        c.ok("map_sg granule fix disabled" in boot, "%s: kernel took iommu_lab.sg_fix=0" % a.name)
    drivers = read(os.path.join(res, "drivers"))
    for dev, drv in (("NVME", "nvme"), ("E1000E", "e1000e"), ("VIRTIO", "virtio-pci")):
        c.ok(re.search(r"^%s \S+ driver=%s " % (dev, drv), drivers, re.M) is not None,
             "%s: %s bound" % (a.name, drv), drivers)
    unaligned = len(re.findall(r"iommu: unaligned", boot + read(os.path.join(res, "dmesg_end"))))
    print("# %s: 'iommu: unaligned' refusals in dmesg: %d" % (a.name, unaligned))
    edu = (re.search(r"^EDU (\S+)", drivers, re.M) or [None, None])[1]
    if "workload" in parts:
        check_workload(c, res, g, a.mode)
    if "seed" in parts:
        check_seed(c, res, g, a.mode, edu)
    # with the fix, the sg part is only the diff's "after" (seed checks it)
    if "sg" in parts and "sg_fix=0" in cmdline:
        fs = findings(read(os.path.join(res, "scen", "sg", "check")))
        fx = fx_lines(read(os.path.join(res, "scen", "sg", "fx")))
        for f in fs:
            print("#   sg G=%d sg_fix=0: %s" % (g, short(f)))
        c.ok(fx and fx[0].get("err") != "0",
             "%s: map_sg of a granule-unaligned page fails without the fix" % a.name, fx)
        c.ok(any(f["code"] == "alignment.pt_refused" for f in fs),
             "%s: the refused page-table write is flagged (alignment.pt_refused)" % a.name,
             [short(f) for f in fs])
        c.ok(unaligned > 0, "%s: the kernel logged 'iommu: unaligned'" % a.name, unaligned)
    if "freed" in parts:
        check_freed(c, res, g, a.mode, boot)
    if "dmadebug" in parts:
        check_dmadebug(c, res, g, edu, a.kernel)
    if "oracle" in parts:
        check_oracle_injected(c, a, g, edu)
    if "iova" in parts:
        check_iova(c, a, g, edu)
    check_oracle_all(c, a)


def check_diff(c, a):
    before, after = a.dir, a.after
    p = subprocess.run([a.binary, "-j", "diff", before, after], capture_output=True, text=True)
    print("# iommu-audit diff (sg_fix=0 -> patch 0002), exit %d" % p.returncode)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        c.ok(False, "diff: -j output is JSON", p.stdout[:300] + p.stderr[:300])
        return
    txt = subprocess.run([a.binary, "diff", before, after], capture_output=True, text=True).stdout
    for line in txt.splitlines():
        print("#   " + line)
    blob = json.dumps(d)

    def status(st, code):
        return [f for f in d.get("findings", []) if f.get("status") == st
                and (f.get("new") or f.get("old") or {}).get("code") == code]
    # An exposure warning replaces an error: not a regression at the
    # default --fail-on error.
    c.eq("diff: exit status (0: nothing new at or above error)", 0, p.returncode)
    c.eq("diff: alignment.pt_refused fixed by patch 0002", 1,
         len(status("fixed", "alignment.pt_refused")))
    new = status("new", "exposure.unrelated_pages")
    c.ok(len(new) == 1 and new[0]["new"]["exposed_pages"] == a.granule // P - 1,
         "diff: new exposure.unrelated_pages of %d pages (the mapped segment's granule)"
         % (a.granule // P - 1), blob[:800])
    dev = [x for x in d.get("devices", []) if x.get("differs")]
    c.ok(len(dev) == 1 and dev[0]["old"]["maps"] == 0 and dev[0]["new"]["maps"] == 1,
         "diff: the device's map count goes from 0 (refused) to 1", blob[:800])
    # The other way round, the refused write is a regression: exit 1.
    r = subprocess.run([a.binary, "diff", after, before], capture_output=True, text=True)
    c.eq("diff: reverting the fix is a regression (exit 1)", 1, r.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("after", nargs="?")
    ap.add_argument("--name", default="lab")
    ap.add_argument("--kernel", default="", help="the lab kernel's version (6.1, 7.2)")
    ap.add_argument("--granule", type=int, default=P)
    ap.add_argument("--mode", default="strict")
    ap.add_argument("--parts", default="")
    ap.add_argument("--binary", default="iommu-audit")
    ap.add_argument("--diff", action="store_true")
    a = ap.parse_args()
    c = Checker(a.kernel + " " if a.kernel else "")
    c.binary = a.binary
    if a.diff:
        check_diff(c, a)
    else:
        check_boot(c, a)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
