#!/usr/bin/env python3
"""An independent model of the DMA API and dma-iommu, to compare a
recording of a random fixture program with, operation by operation.

Written from the DMA API's documented semantics (Documentation/core-api/
dma-api.rst, dma-api-howto.rst) and dma-iommu's rounding rules in
drivers/iommu/dma-iommu.c (6.1): iova_align()/iova_offset() to the IOVA
granule G, swiotlb bounce slots for an untrusted device's buffers that do
not fill their granules (slot aligned to G, alloc_size = iova_align(size)),
iommu_dma_map_sg's one IOVA range of granule-padded segments and
__finalise_sg's merging, the remap/contiguous/noncontiguous allocation
paths; and the checker's documented policy (docs/checks.md: which finding
an exposure or a lifecycle error is). Not from the checker's code.

Inputs: the fixture's result log (what each command asked and what the
kernel answered: handles, phys, errors, its [t0, t1] window), the trace's
`iommu-audit dump` and `iommu-audit -j check`. For every operation it
computes the root requests, page-table writes and removals that must be in
its window, and the findings the run must have; it prints each mismatch
and a summary, and exits 1 on any.

usage: model.py RESULT.txt DUMP.jsonl CHECK-EACH.jsonl [--json SUMMARY.json]
  CHECK-EACH.jsonl: `iommu-audit -j check --each` (one finding per
  occurrence, with its request id): findings are compared per operation
"""
import argparse
import collections
import json
import sys

PAGE = 4096


def align(v, g):
    return (v + g - 1) // g * g


def parse_result(path):
    ops = []
    for line in open(path):
        d = {}
        for tok in line.split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    d[k] = int(v)
                except ValueError:
                    d[k] = v
        if "id" in d:
            ops.append(d)
    return ops


class Trace:
    """The dump, indexed: root requests by time, children, records by request."""

    def __init__(self, path):
        self.reqs, self.children = {}, collections.defaultdict(list)
        self.by_req = collections.defaultdict(lambda: collections.defaultdict(list))
        self.roots, self.device = [], None
        # the IOMMU's page tables as the kernel dumped them when the
        # recording started (CONFIG_INTEL_IOMMU_DEBUGFS; none elsewhere):
        # the only word on mappings made before it
        self.snap_start = []
        for line in open(path):
            e = json.loads(line)
            t = e.get("type")
            if t == "pt_snap" and e.get("why") == "start" and e.get("phase") == "device":
                self.snap_start += [(g["iova"], g["size"]) for g in e.get("ranges", [])]
            if t == "request":
                self.reqs[e["req"]] = e
                if e["parent"]:
                    self.children[e["parent"]].append(e["req"])
                else:
                    self.roots.append(e)
            elif t in ("pt_map", "pt_unmap", "bounce", "sg"):
                self.by_req[e["req"]][t].append(e)
            elif t == "device" and self.device is None:
                self.device = e
        self.roots.sort(key=lambda e: e["entry_ns"])
        self.starts = [e["entry_ns"] for e in self.roots]

    def in_window(self, t0, t1):
        import bisect
        i = bisect.bisect_left(self.starts, t0)
        out = []
        while i < len(self.roots) and self.roots[i]["entry_ns"] <= t1:
            if self.roots[i]["ts"] <= t1:
                out.append(self.roots[i])
            i += 1
        return out

    def tree(self, rid):
        ids, todo = [], [rid]
        while todo:
            r = todo.pop()
            ids.append(r)
            todo.extend(self.children.get(r, []))
        return ids

    def recs(self, rid, t):
        return [x for r in self.tree(rid) for x in self.by_req[r][t]]


class Model:
    def __init__(self, g):
        self.g = g
        self.untrusted = False
        self.live = {}          # fixture id -> mapping (what the model expects)
        self.unmapped = set()   # handles unmapped (single/page), not mapped again
        self.findings = collections.Counter()     # code -> count
        self.exposed = collections.Counter()      # code -> bytes
        self.per_req = {}       # root request id -> [(code, exposed)], the model's
        self.req_op = {}        # root request id -> the op it belongs to
        self.cur = None         # root request of the op being modelled
        self.mismatches = []
        self.checked = collections.Counter()      # what was compared
        self.ops = 0

    # ---- expectations helpers ----
    def bad(self, op, what, want, got):
        self.mismatches.append(f"op {op.get('id')} ({op.get('cmd')}): {what}: "
                               f"model {want}, trace {got}")

    def eq(self, op, what, want, got):
        self.checked[what.split(":")[0]] += 1
        if want != got:
            self.bad(op, what, want, got)

    def finding(self, code, exposed=0, req=None):
        self.findings[code] += 1
        self.exposed[code] += exposed
        req = req if req is not None else self.cur
        self.per_req.setdefault(req, []).append((code, exposed))

    def other_live_bytes(self, lo, hi, me, owned=()):
        """Bytes of [lo, hi) that other live buffers of the device own and
        the request (owned) does not: MMIO ranges of one BAR overlap."""
        cut = sorted((max(a, lo), min(b, hi)) for i, m in self.live.items() if i != me
                     for a, b in m.get("owns", []) if a < hi and b > lo)
        mine = sorted((max(a, lo), min(b, hi)) for a, b in owned if a < hi and b > lo)
        return self.union(cut + mine, lo) - self.union(mine, lo)

    @staticmethod
    def union(ranges, lo):
        n, end = 0, lo
        for a, b in sorted(ranges):
            a = max(a, end)
            if b > a:
                n += b - a
                end = b
        return n

    @staticmethod
    def merged(ranges):
        """Sorted, overlapping and adjacent ranges joined."""
        out = []
        for a, b in sorted(ranges):
            if out and a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return [tuple(x) for x in out]

    def exposure(self, op, spans, owned, me, slots=(), padded=False):
        """docs/checks.md: the memory a mapping makes reachable that no
        live request of the device owns. spans: the phys ranges mapped
        (one memory mapped twice, e.g. two scatterlist segments in one
        granule each mapped as its own at G > PAGE, is one memory: counted
        once); owned: what this request owns (its buffer, or its bounce
        slots); slots: this request's whole bounce slots (exposure inside
        them is bounce slack, outside them an untrusted device's error).
        Whole CPU pages neither this request nor another live buffer
        touches are unrelated pages."""
        own = self.merged(owned)
        exp = in_slot = pages = 0
        for lo, hi in self.merged(spans):
            cur, pieces = lo, []    # [lo, hi) less what the request owns
            for a, b in own:
                if b > cur and a < hi:
                    if a > cur:
                        pieces.append((cur, a))
                    cur = max(cur, b)
            if cur < hi:
                pieces.append((cur, hi))
            for a, b in pieces:
                exp += (b - a) - self.other_live_bytes(a, b, me, owned)
                in_slot += sum(max(0, min(b, y) - max(a, x)) for x, y in slots)
            for pg in range(lo - lo % PAGE, hi, PAGE):
                if pg < lo or pg + PAGE > hi:
                    continue
                touched = any(a < pg + PAGE and b > pg for a, b in owned)
                for i, m in self.live.items():
                    if i != me and any(a < pg + PAGE and b > pg for a, b in m.get("owns", [])):
                        touched = True
                pages += not touched
        if exp <= 0:
            return exp
        if self.untrusted and exp > in_slot:
            # docs/checks.md: for an untrusted device any exposure of
            # memory outside its bounce slots is an error
            self.finding("exposure.untrusted", exp)
        elif padded:
            self.finding("exposure.sg_padding", exp)
        elif slots and exp == in_slot:
            self.finding("exposure.bounce_slack", exp)
        else:
            self.finding("exposure.unrelated_pages" if pages else "exposure.sub_page", exp)
        return exp

    # ---- per command ----
    def root(self, op, trace, kind, n=1):
        rs = [r for r in trace.in_window(op["t0"], op["t1"]) if r["kind"] == kind]
        others = [r["kind"] for r in trace.in_window(op["t0"], op["t1"]) if r["kind"] != kind]
        self.eq(op, f"root {kind} requests", n, len(rs))
        if others:
            self.bad(op, "other root requests in the window", [], others)
        self.cur = rs[0]["req"] if len(rs) == 1 else None
        if self.cur is not None:
            self.req_op[self.cur] = op
        return rs[0] if len(rs) == 1 else None

    def no_request(self, op, trace):
        self.eq(op, "requests of a command the fixture refused or that calls nothing", [],
                [r["kind"] for r in trace.in_window(op.get("t0", 0), op.get("t1", -1))])

    def writes(self, trace, r):
        return sorted((w["iova"], w["paddr"], w["size"]) for w in trace.recs(r["req"], "pt_map")
                      if w["result"] == 0)

    def bounced(self, op, dma, tlb, ln, w):
        """A bounced buffer: swiotlb aligns its slot to the granule only
        relative to the pool's start (swiotlb_do_find_slots: a stride of
        G / IO_TLB_SIZE slots), so tlb % G need not be 0 when G > PAGE;
        __iommu_dma_map keeps that offset in the handle and maps the whole
        granules around the slot. Bytes of them outside the slot (other
        slots: other buffers' bounce data) are exposure of memory the
        untrusted device was not given (docs/checks.md: exposure.untrusted);
        inside it, bounce slack."""
        g, off = self.g, tlb % self.g
        span = align(off + ln, g)
        self.eq(op, "writes (bounced: the granules around the slot)",
                [(dma - off, tlb - off, span)], w)
        self.eq(op, "bounced handle keeps the slot's offset in the granule", off, dma % g)
        # the device is given the slot's first ln bytes (its other live
        # slots are its own too); the slot is align(ln, G) bytes
        self.exposure(op, [(tlb - off, tlb - off + span)], [(tlb, tlb + ln)], op["id"],
                      slots=[(tlb, tlb + align(ln, g))])
        return span

    def map_single(self, op, trace):
        g, phys, ln, dma = self.g, op["phys"], op["len"], op["dma"]
        r = self.root(op, trace, "map_page")
        if not r:
            return
        self.eq(op, "map_page request (phys size dma dir failed)",
                (phys, ln, dma, op["dir"], False),
                (r["phys"], r["size"], r["dma"], r["dir"], r.get("failed", False)))
        bounce = self.untrusted and (phys | ln) % g != 0
        bs = trace.recs(r["req"], "bounce")
        w = self.writes(trace, r)
        if bounce:
            self.bounce_seen()
            self.eq(op, "bounce (count orig size alloc)", (1, phys, ln, align(ln, g)),
                    (len(bs), bs[0]["orig_phys"] if bs else None,
                     bs[0]["mapping_size"] if bs else None, bs[0]["alloc_size"] if bs else None))
            tlb = bs[0]["tlb_phys"] if bs else 0
            span = self.bounced(op, dma, tlb, ln, w)
            owns = [(tlb, tlb + ln)]    # the device's: the slot, not the driver's buffer
        else:
            self.eq(op, "bounces", 0, len(bs))
            off = phys % g
            self.eq(op, "handle offset = phys offset in the granule", off, dma % g)
            span = align(off + ln, g)
            self.eq(op, "writes", [(dma - off, phys - off, span)], w)
            owns = [(phys, phys + ln)]
            self.exposure(op, [(phys - off, phys - off + span)], owns, op["id"])
        self.live[op["id"]] = dict(kind=op["cmd"], dma=dma, len=ln, dir=op["dir"], req=self.cur,
                                   span=span, base=dma - dma % g, owns=owns, removes=span)
        self.unmapped.discard(dma)

    def map_resource(self, op, trace):
        g, phys, ln, dma = self.g, op["phys"], op["len"], op["dma"]
        r = self.root(op, trace, "map_resource")
        if not r:
            return
        self.eq(op, "map_resource request (phys size dma)", (phys, ln, dma),
                (r["phys"], r["size"], r["dma"]))
        off = phys % g
        span = align(off + ln, g)
        self.eq(op, "writes", [(dma - off, phys - off, span)], self.writes(trace, r))
        self.exposure(op, [(phys - off, phys - off + span)], [(phys, phys + ln)], op["id"])
        # the MMIO range is a live buffer of the device too (docs/checks.md)
        self.live[op["id"]] = dict(kind="map_resource", dma=dma, len=ln, dir=op["dir"],
                                   base=dma - off, removes=span, owns=[(phys, phys + ln)],
                                   req=self.cur)

    def finalise_sg(self, segs, base, mask, max_seg):
        """__finalise_sg: output segments (dma, len) of segments laid out
        (iova_off, length, iova_len) from base."""
        out, cur_len, dma = [], 0, base
        for off, ln, ilen in segs:
            if cur_len and not off and (dma & mask) and max_seg - cur_len >= ln:
                cur_len += ln
                out[-1][1] = cur_len
            else:
                out.append([dma + off, ln])
                cur_len = ln
            dma += ilen
            if ln + off < ilen:
                cur_len = 0
        return [tuple(x) for x in out]

    def segment_limits(self, op, outs):
        """The device takes no output segment that crosses its segment
        boundary or is longer than its max_segment_size
        (dma_set_seg_boundary, dma_set_max_seg_size: Documentation/
        core-api/dma-api-howto.rst). dma-iommu merges segments only within
        both, and splits none: an input segment longer than the limit (the
        lab's granules of 64K make them) comes out as long. One finding per
        request, of its first such segment."""
        for d, ln in outs:
            if (d ^ (d + ln - 1)) & ~op["boundary"]:
                self.finding("alignment.seg_boundary")
                return
            if ln > op["max_seg"]:
                self.finding("alignment.max_seg_size")
                return

    def map_sg(self, op, trace):
        g, n = self.g, op["nents"]
        segs = [(op[f"seg{i}_phys"], op[f"seg{i}_len"]) for i in range(n)]
        r = self.root(op, trace, "map_sg")
        if not r:
            return
        outs = [(op[f"out{i}_dma"], op[f"out{i}_len"]) for i in range(op["ret"])]
        self.eq(op, "map_sg request (dma nents ret)", (op["dma"], n, op["ret"]),
                (r["dma"], r["nents"], r["ret"]))
        sg_out = [(s["dma"], s["dma_len"]) for rec in trace.recs(r["req"], "sg")
                  if rec.get("output") for s in rec["segs"] if s["dma_len"]]
        self.eq(op, "output segments (trace = fixture)", outs, sg_out)
        self.segment_limits(op, outs)
        w = self.writes(trace, r)
        if self.untrusted:      # iommu_dma_map_sg_swiotlb: one map_page each
            kids = [trace.reqs[c] for c in trace.children.get(r["req"], [])
                    if trace.reqs[c]["kind"] == "map_page"]
            self.eq(op, "untrusted map_sg: one map_page per segment", n, len(kids))
            self.eq(op, "untrusted map_sg: outputs are the segments", n, len(outs))
            bounced = [(p, ln) for p, ln in segs if (p | ln) % g]
            if bounced:
                self.bounce_seen()
            self.eq(op, "untrusted map_sg: bounces", len(bounced),
                    len(trace.recs(r["req"], "bounce")))
            exp_w, spans, owns, slots = [], [], [], []
            tlbs = {b["orig_phys"]: b["tlb_phys"] for b in trace.recs(r["req"], "bounce")}
            for (p, ln), (d, _) in zip(segs, outs):
                if (p | ln) % g:        # as bounced() for one map_page
                    tlb = tlbs.get(p, 0)
                    off = tlb % g
                    span = align(off + ln, g)
                    exp_w.append((d - off, tlb - off, span))
                    spans.append((tlb - off, tlb - off + span))
                    owns.append((tlb, tlb + ln))
                    slots.append((tlb, tlb + align(ln, g)))
                else:
                    exp_w.append((d, p, ln))
                    spans.append((p, p + ln))
                    owns.append((p, p + ln))
            self.exposure(op, spans, owns, op["id"], slots=slots)
            self.eq(op, "writes", sorted(exp_w), w)
            removes = [(d - d % g, align(d % g + ln, g)) for d, ln in outs]
            self.live[op["id"]] = dict(kind="map_sg", outs=outs, removes_sg=removes, owns=owns,
                                       dir=op["dir"], untrusted=True)
            return
        mask, max_seg = op["boundary"], op["max_seg"]
        lay, iova_len, prev = [], 0, None
        for p, ln in segs:
            # iova_offset(s->offset): the offset in the CPU page; with the
            # lab kernel's granule > PAGE_SIZE (its patch 0002) the offset
            # of the buffer in its granule. Both are p % g at G = PAGE.
            off = p % g
            ilen = align(ln + off, g)
            pad = (mask - iova_len + 1) & mask
            if pad and pad < ilen - 1:
                lay[-1][2] += pad
                iova_len += pad
            lay.append([off, ln, ilen])
            iova_len += ilen
        base = op["dma"] - lay[0][0]
        self.eq(op, "output segments (model)", self.finalise_sg(lay, base, mask, max_seg), outs)
        exp_w, cur = [], base
        for (p, ln), (off, _, ilen) in zip(segs, lay):
            exp_w.append((cur, p - off, ilen))
            cur += ilen
        self.eq(op, "writes", exp_w, w)
        owns = [(p, p + ln) for p, ln in segs]
        padded = any(ilen > align(off + ln, g) for off, ln, ilen in lay)
        self.exposure(op, [(p - off, p - off + ilen) for (p, _), (off, _, ilen) in zip(segs, lay)],
                      owns, op["id"], padded=padded)
        self.live[op["id"]] = dict(kind="map_sg", owns=owns, dir=op["dir"],
                                   removes=iova_len, base=base, outs=outs)

    def alloc(self, op, trace):
        g, size, cmd = self.g, op["size"], op["cmd"]
        kind = {"alloc_coherent": "alloc", "alloc_noncontig": "alloc_noncontiguous",
                "alloc_pages": "alloc_pages"}[cmd]
        r = self.root(op, trace, kind)
        if not r:
            return
        req_size = align(size, PAGE) if cmd == "alloc_pages" else size
        self.eq(op, f"{kind} request (size dma failed)", (req_size, op["dma"], False),
                (r["size"], r["dma"], r.get("failed", False)))
        if not (cmd == "alloc_pages" and self.untrusted and (op["phys"] | align(size, PAGE)) % g):
            self.eq(op, "fixture: the handle translates to phys", op["phys"], op["xlate"])
        # iommu_dma_alloc(): the remap path only for an allocation that may
        # block (gfpflags_allow_blocking: __GFP_DIRECT_RECLAIM, 0x400 in
        # 6.1 and 7.x) without DMA_ATTR_FORCE_CONTIGUOUS (0x40). Not
        # GFP_ATOMIC's value: 0xa20 in 6.1, 0x820 once __GFP_ATOMIC went
        # (6.4); the model took 7.2's atomic allocations for remapped ones,
        # which maps the same at 4K and not at 16K (the 7.2 lab)
        contiguous = cmd == "alloc_pages" or (cmd == "alloc_coherent" and (
            op.get("attrs", 0) & 0x40 or not op.get("gfp", 0) & 0x400))
        w = self.writes(trace, r)
        pa = align(size, PAGE)
        # what a sync of the handle may touch, by the checker's documented
        # rule (docs/checks.md: bytes a live mapping holds): dma_alloc_pages()
        # maps PAGE_ALIGN(size) (kernel/dma/mapping.c __dma_alloc_pages),
        # the other allocations their size. dma-debug holds the driver to
        # the size it asked for (debug_dma_map_page(.., size, ..) with the
        # unaligned size), which iommu-audit's hook, after the PAGE_ALIGN,
        # does not see: a sync past it inside the page is a known gap.
        mlen = pa if cmd == "alloc_pages" else size
        bs = trace.recs(r["req"], "bounce")
        if cmd == "alloc_pages" and self.untrusted and (op["phys"] | pa) % g:
            # dma_alloc_pages -> map_page of PAGE_ALIGN(size): an untrusted
            # device's pages that do not fill their granules are bounced
            self.bounce_seen()
            tlb = bs[0]["tlb_phys"] if bs else 0
            self.eq(op, "bounce of the pages (count orig size)", (1, op["phys"], pa),
                    (len(bs), bs[0]["orig_phys"] if bs else None,
                     bs[0]["mapping_size"] if bs else None))
            # the device sees the slot, not the pages (xlate is the slot)
            span = self.bounced(op, op["dma"], tlb, pa, w)
            self.live[op["id"]] = dict(kind=cmd, dma=op["dma"], len=mlen, removes=span,
                                       req=self.cur, base=op["dma"] - op["dma"] % g,
                                       owns=[(tlb, tlb + pa)],
                                       dir=op.get("dir", 0))
            return
        self.eq(op, "bounces", 0, len(bs))
        if contiguous:      # one __iommu_dma_map of PAGE_ALIGN(size)
            off = op["phys"] % g
            span = align(off + pa, g)
            self.eq(op, "writes", [(op["dma"] - off, op["phys"] - off, span)], w)
            owns = [(op["phys"], op["phys"] + pa)]
            self.exposure(op, [(op["phys"] - off, op["phys"] - off + span)], owns, op["id"])
        else:               # whole granules of pages it allocated itself
            span = align(size, g)
            self.eq(op, "writes (total, from the handle, contiguous)", (span, op["dma"], True),
                    (sum(x[2] for x in w), w[0][0] if w else None,
                     all(w[i][0] + w[i][2] == w[i + 1][0] for i in range(len(w) - 1))))
            owns = [(x[1], x[1] + x[2]) for x in w]
        # dma_alloc_pages() and dma_alloc_noncontiguous() take a direction
        # (a sync of their bytes must name it); coherent memory has none
        self.live[op["id"]] = dict(kind=cmd, dma=op["dma"], len=mlen, removes=span, req=self.cur,
                                   base=op["dma"] - op["dma"] % g, owns=owns,
                                   dir=op.get("dir", 0))

    def unmap(self, op, trace, release=False):
        m = self.live.pop(op["of"], None)
        if m is None:
            self.bad(op, "unmap of an op the model does not have live", "live", "none")
            return
        kind = {"map_single": "unmap_page", "map_page": "unmap_page", "map_sg": "unmap_sg",
                "map_resource": "unmap_resource", "alloc_coherent": "free",
                "alloc_noncontig": "free_noncontiguous", "alloc_pages": "free_pages"}[m["kind"]]
        r = self.root(op, trace, kind)
        if not r:
            return
        ln, d = op.get("len", m.get("len")), op.get("dir", m.get("dir"))
        if kind in ("unmap_page", "unmap_resource"):
            self.eq(op, f"{kind} request (dma size dir)", (m["dma"], ln, d),
                    (r["dma"], r["size"], r["dir"]))
            if ln != m["len"]:
                self.finding("lifecycle.size_mismatch")
            elif d != m["dir"]:
                self.finding("lifecycle.dir_mismatch")
            self.unmapped.add(m["dma"])
        rm = sorted((u["iova"], u["unmapped"]) for u in trace.recs(r["req"], "pt_unmap"))
        if "removes_sg" in m:
            self.eq(op, "removals (each segment)", sorted(m["removes_sg"]), rm)
        else:
            self.eq(op, "removals (total from the aligned handle)", (m["base"], m["removes"]),
                    (rm[0][0] if rm else None, sum(x[1] for x in rm)))

    def double_unmap(self, op, trace):
        r = self.root(op, trace, "unmap_page")
        if r:
            self.eq(op, "double unmap removes nothing", 0,
                    sum(u["unmapped"] for u in trace.recs(r["req"], "pt_unmap")))
            self.finding("lifecycle.double_unmap" if op["dma"] in self.unmapped
                         else "lifecycle.unmap_unknown")

    def unmap_bogus(self, op, trace):
        r = self.root(op, trace, "unmap_page")
        if r:
            self.eq(op, "never-mapped unmap removes nothing", 0,
                    sum(u["unmapped"] for u in trace.recs(r["req"], "pt_unmap")))
            self.finding("lifecycle.double_unmap" if op["dma"] in self.unmapped
                         else "lifecycle.unmap_unknown")

    def sgtable(self, op, trace):
        """dma_get_sgtable of a coherent buffer: the table covers its pages
        (PAGE_ALIGN(size)) while the IOMMU maps whole granules from the
        handle's: with G > PAGE the device reaches beyond the table
        (docs/checks.md: translation.sgtable_mismatch, a warning)."""
        r = self.root(op, trace, "get_sgtable")
        m = self.live.get(op["of"])
        if not r or not m:
            return
        self.eq(op, "get_sgtable request (dma size)", (m["dma"], m["len"]), (r["dma"], r["size"]))
        if m["base"] + m["removes"] > m["dma"] + align(m["len"], PAGE) or m["base"] < m["dma"]:
            self.finding("translation.sgtable_mismatch")

    def holder(self, start, end):
        """The live mapping of the device that holds [start, end), or None."""
        for m in self.live.values():
            if "outs" in m:
                if any(d <= start and end <= d + ln for d, ln in m["outs"]):
                    return m
            elif "dma" in m and m["dma"] <= start and end <= m["dma"] + m["len"]:
                return m
        return None

    @staticmethod
    def in_snapshot(trace, start, end):
        """Did the start snapshot's page tables map every byte of [start, end)?"""
        cur = start
        for lo, n in sorted(trace.snap_start):
            if lo <= cur < lo + n:
                cur = lo + n
            if cur >= end:
                return True
        return cur >= end

    def in_our_granules(self, start, end):
        """Does a granule of a live mapping of the fixture's touch [start, end)?"""
        g = self.g
        for m in self.live.values():
            spans = m["outs"] if "outs" in m else [(m["dma"], m["len"])] if "dma" in m else []
            for d, ln in spans:
                if d // g * g < end and start < align(d + max(ln, 1), g):
                    return True
        return False

    def holds(self, start, end):
        """Does a live mapping of the device hold [start, end)?"""
        return self.holder(start, end) is not None

    def bounce_seen(self):
        # A map the model says is bounced (an untrusted device's buffer
        # that does not fill its granules): swiotlb_tbl_map_single() clears
        # dev->dma_skip_sync for good (dma_reset_need_sync(), 6.11+), so
        # from the next op on, syncs reach dma-iommu. Not the device
        # turning untrusted: a 7.2 run synced between the two (op 243 of
        # seed 523762972) and the kernel skipped it.
        self.syncs = 1

    def sync(self, op, trace):
        # Since 6.11 dma_sync_*() return at once for a device that needs no
        # sync (dev->dma_skip_sync, decided when its mask was set; the
        # fixture's info line says syncs=0): no request reaches dma-iommu,
        # so there is nothing to check either.
        if not self.syncs:
            self.no_request(op, trace)
            return
        kind = "sync_single_for_cpu" if op["for"] == "cpu" else "sync_single_for_device"
        r = self.root(op, trace, kind)
        if r:
            self.eq(op, "sync request (dma size)", (op["dma"], op["len"]), (r["dma"], r["size"]))
            m = self.holder(op["dma"], op["dma"] + op["len"])
            if m is None and op.get("mapped") and not self.in_our_granules(
                    op["dma"], op["dma"] + op["len"]) and self.in_snapshot(
                    trace, op["dma"], op["dma"] + op["len"]):
                # the page tables translate the bytes (the fixture read
                # them: mapped=1), no mapping of the fixture's covers their
                # granules, and the page tables dumped at the start held
                # them: a mapping made before the recording, whose bounds
                # nobody saw (docs/checks.md, lifecycle.sync_outside);
                # where no dump was made, nothing says it is one
                pass
            elif m is None:
                self.finding("lifecycle.sync_outside")
            # Documentation/core-api/dma-api.rst: a sync names the direction
            # the buffer was mapped with; a bidirectional (0) mapping takes
            # any. The fixture syncs with its own mapping's direction, so a
            # sync whose bytes another live mapping holds names that one's
            # direction only by chance (dma-debug's check_sync looks up the
            # mapping that contains the range, as this does).
            elif m.get("dir", 0) and op["dir"] != m["dir"]:
                self.finding("lifecycle.sync_dir_mismatch")

    def step(self, op, trace):
        cmd, err = op["cmd"], op.get("err", 0)
        self.ops += 1
        self.cur = None
        if cmd == "untrusted" and err == 0:
            self.untrusted = bool(op["value"])
        if cmd in ("map_single", "map_page", "map_sg", "map_resource", "alloc_coherent",
                   "alloc_noncontig", "alloc_pages") and err:
            # a failed map: a failed request, and a failed.* finding
            rs = [r for r in trace.in_window(op["t0"], op["t1"]) if r.get("failed")]
            self.cur = rs[0]["req"] if rs else None
            self.finding("failed.*")
            return
        if err or "t0" not in op:
            if "t0" in op:
                self.no_request(op, trace)
            return
        if cmd in ("map_single", "map_page"):
            self.map_single(op, trace)
        elif cmd == "map_sg":
            self.map_sg(op, trace)
        elif cmd == "map_resource":
            self.map_resource(op, trace)
        elif cmd.startswith("alloc_"):
            self.alloc(op, trace)
        elif cmd in ("unmap", "free", "free_coherent", "free_noncontig", "free_pages"):
            self.unmap(op, trace)
        elif cmd == "double_unmap":
            self.double_unmap(op, trace)
        elif cmd == "unmap_bogus":
            self.unmap_bogus(op, trace)
        elif cmd == "sync":
            self.sync(op, trace)
        elif cmd == "unbind_live":
            if op["action"] == "released":
                self.unmap(op, trace, release=True)
            else:
                # left mapped by the driver being unbound: reported at
                # the unbind (bpf/unbind.bpf.c), not again at the end
                m = self.live.pop(op["of"], {})
                self.finding("lifecycle.live_at_unbind", req=m.get("req"))
        elif cmd == "get_sgtable":
            self.sgtable(op, trace)
        else:
            self.no_request(op, trace)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("result")
    ap.add_argument("dump")
    ap.add_argument("check")
    ap.add_argument("--json")
    ap.add_argument("--show", type=int, default=40, help="mismatches printed")
    a = ap.parse_args()
    ops = parse_result(a.result)
    info = next(o for o in ops if o["cmd"] in ("probe", "info"))
    trace = Trace(a.dump)
    m = Model(info["granule"])
    m.syncs = int(info.get("syncs", 1))   # absent before 6.11's fixture line
    for op in ops:
        m.step(op, trace)
    # the findings, per operation: the model's for each root request
    # against check --each's (one per occurrence, with its request id)
    got = {}
    got_n = collections.Counter()
    for line in open(a.check):
        e = json.loads(line)
        if e.get("type") != "finding":
            continue
        f = e["finding"]
        if f["count"] != 1:
            m.mismatches.append("check output is folded: run it with --each")
            break
        code = "failed.*" if f["invariant"] == "failed" else f["code"]
        if code.startswith("temporal."):
            continue    # timing: not modelled
        if code == "exposure.sensitive":
            continue    # what the neighbour pages hold: not modelled (the
                        # lab's classify scenario holds it to the fixture)
        got_n[code] += 1
        got.setdefault(f["req_id"], []).append((code, f["exposed_bytes"]))
    for req in sorted(set(got) | set(m.per_req), key=lambda x: (x is None, x or 0)):
        want, have = sorted(m.per_req.get(req, [])), sorted(got.get(req, []))
        m.checked["findings of an operation"] += 1
        if want != have:
            op = m.req_op.get(req, {})
            m.mismatches.append(f"op {op.get('id')} ({op.get('cmd')}, request {req}): findings: "
                                f"model {want}, check {have}")
    for x in m.mismatches[:a.show]:
        print("MISMATCH", x)
    summary = dict(ops=m.ops, granule=m.g, mismatches=len(m.mismatches),
                   compared=sum(m.checked.values()),
                   findings={k: [m.findings[k], got_n[k]] for k in sorted(set(got_n) | set(m.findings))
                             if not k.startswith("temporal.") and k != "exposure.sensitive"})
    print(f"model: {m.ops} operations, {summary['compared']} comparisons, "
          f"{len(m.mismatches)} mismatches (granule {m.g})")
    if a.json:
        json.dump(summary, open(a.json, "w"))
    sys.exit(1 if m.mismatches else 0)


if __name__ == "__main__":
    main()
