#!/usr/bin/env python3
"""Colour statistics of a PNG screenshot, with the standard library only
(no PIL on the bench): decodes 8-bit RGB/RGBA PNGs (what Chromium writes),
undoing the scanline filters, and prints JSON: width, height, the share of
pixels that are not the page background (the most common colour), the
number of distinct colours, and how many pixels are reddish, greenish.

usage: png_stats.py FILE.png
"""
import json
import struct
import sys
import zlib


def decode(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, w = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6), 'only 8-bit RGB(A)'
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = decode(sys.argv[1])
    counts = {}
    red = green = 0
    for line in rows:
        for x in range(0, w * bpp, bpp * 2):	# every other pixel: fast enough
            r, g, b = line[x], line[x + 1], line[x + 2]
            counts[(r, g, b)] = counts.get((r, g, b), 0) + 1
            red += r > 180 and g < 80 and b < 80
            green += g > 130 and r < 80 and b < 80
    total = sum(counts.values())
    bg = max(counts.values())
    print(json.dumps({'width': w, 'height': h, 'colours': len(counts),
                      'non_background': round(1 - bg / total, 4),
                      'red': red, 'green': green}))


main()
