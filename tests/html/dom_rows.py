#!/usr/bin/env python3
"""The numbers of an iommu-audit HTML report, read back from the DOM that
Chromium dumps (--dump-dom): per device row (tr.dev) and the totals row
(tr#totals) the td cells by class (a diff page: a row per device and run,
keyed NAME/old and NAME/new), the findings (tr.finding: code, count),
the run header cells, and the number of inline SVG maps. Prints JSON.

usage: dom_rows.py DOM.html
"""
import json
import sys
from html.parser import HTMLParser


class Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out = {'devices': {}, 'totals': {}, 'findings': [], 'svg': 0,
                    'rects': 0, 'run': {}}
        self.row = None
        self.cell = None
        self.text = ''

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'svg':
            self.out['svg'] += 1
        if tag == 'rect':
            self.out['rects'] += 1
        if tag == 'tr':
            cls = a.get('class', '')
            if cls == 'dev':	# diff pages: one row per run, NAME/old, NAME/new
                key = a['data-name'] + ('/' + a['data-run'] if 'data-run' in a else '')
                self.row = self.out['devices'].setdefault(key, {})
            elif a.get('id') == 'totals':
                self.row = self.out['totals']
            elif cls == 'finding':
                self.row = {'status': a['data-status']} if 'data-status' in a else {}
                self.out['findings'].append(self.row)
            else:
                self.row = None
        if tag == 'td':
            self.cell = a.get('class', '') or a.get('id', '')
            if a.get('id'):
                self.cell = '#' + a['id']
            self.text = ''

    def handle_data(self, data):
        if self.cell is not None:
            self.text += data

    def handle_endtag(self, tag):
        if tag != 'td' or self.cell is None:
            return
        key = self.cell.split()[-1] if self.cell else ''
        val = self.text.strip()
        if self.cell.startswith('#'):
            self.out['run'][self.cell[1:]] = val
        elif self.row is not None and key:
            self.row[key] = int(val) if val.isdigit() else val
        self.cell = None


p = Rows()
p.feed(open(sys.argv[1]).read())
print(json.dumps(p.out))
