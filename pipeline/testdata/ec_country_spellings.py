#!/usr/bin/python3
"""Writes pipeline/testdata/ec_country_spellings.csv: every distinct Schengen
State and host country spelling of the data sheets of the EC consulate
workbooks, per workbook, sheet and field, with its rows, its consulate towns
and the publisher's own code where the 2009 workbook gives one (see
ec_country_spellings.md).

Run from the repository root (needs xlrd for .xls and openpyxl for .xlsx):
    /usr/bin/python3 pipeline/testdata/ec_country_spellings.py"""
import collections
import csv
import os
import sys

import openpyxl
import xlrd

DIR = "data/ec_schengen_consulates"
OUT = "pipeline/testdata/ec_country_spellings.csv"

# file, year, sheets, columns (state, host, consulate town), first data row
# (1-based). Data rows: both state and host non-empty (the footers leave the
# state empty).
LAYOUTS = [
    ("statistiques2009.xls", 2009, ["Visa Statistics 2009"], "DBC", 2),
    ("synthese_2010_with_filters_en.xls", 2010, ["SCHENGEN", "NON SCHENGEN"], "CAB", 2),
    ("synthese_2012_with_filters_en.xlsx", 2012, ["Sheet1"], "ACD", 3),
    ("synthese_2013_with_filters_en.xls", 2013, ["Complete data"], "ABC", 2),
    ("2014_global_schengen_visa_stats_compilation_consulates_-_final_en.xlsx", 2014, ["Data for consulates"], "ABC", 2),
    ("2015_consulates_schengen_visa_stats_en.xlsx", 2015, ["Data for consulates"], "ABC", 2),
    ("2016_consulates_schengen_visa_stats_en.xlsx", 2016, ["Data for consulates"], "ABC", 2),
    ("2017-consulates-schengen-visa-stats.xlsx", 2017, ["Data for consulates"], "ABC", 2),
    ("2018-consulates-schengen-visa-stats.xlsx", 2018, ["Data for consulates"], "ABC", 2),
    ("2019-consulates-schengen-visa-stats.xlsx", 2019, ["Data for consulates"], "ABC", 2),
    ("visa_statistics_for_consulates_2020.xlsx", 2020, ["Data for consulates"], "ABC", 2),
    ("Visa statistics for consulates 2021_0.xlsx", 2021, ["Data for consulates"], "ABC", 2),
    ("Visa statistics for consulates in 2022_en.xlsx", 2022, ["Data for consulates"], "ABC", 2),
    ("2023-schengen-visa-statistics-consulates_en.xlsx", 2023, ["Data for consulates"], "ABC", 2),
    ("2024-schengen-visa-statistics-consulates_en.xlsx", 2024, ["Data for consulates"], "ABC", 2),
]
# The 2009 sheet's hidden columns: AF the host country's code, AH the State's
# (ISO alpha-2 codes, except EL for Greece in both).
HOST_CODE_2009, STATE_CODE_2009 = 31, 33


def cells(path, sheet):
    """Yields (row number, list of cell values) of one sheet."""
    if path.endswith(".xls"):
        sh = xlrd.open_workbook(path, on_demand=True).sheet_by_name(sheet)
        for r in range(sh.nrows):
            yield r + 1, sh.row_values(r)
    else:
        sh = openpyxl.load_workbook(path, read_only=True, data_only=True)[sheet]
        for i, row in enumerate(sh.iter_rows(values_only=True)):
            yield i + 1, list(row)


def text(v):
    return "" if v is None else str(v)


def town_key(s):
    return s.strip().upper()


def main():
    rows = []  # (year, file, sheet, row, state, host, town, host code, state code)
    for name, year, sheets, cols, first in LAYOUTS:
        idx = [ord(c) - ord("A") for c in cols]
        for sheet in sheets:
            for n, vals in cells(os.path.join(DIR, name), sheet):
                if n < first:
                    continue
                get = lambda i: text(vals[i]) if i < len(vals) else ""
                state, host, town = get(idx[0]), get(idx[1]), get(idx[2])
                if not state.strip() or not host.strip():
                    continue
                hc = get(HOST_CODE_2009) if year == 2009 else ""
                sc = get(STATE_CODE_2009) if year == 2009 else ""
                rows.append((year, name, sheet, n, state, host, town, hc, sc))

    # What 2009 says: the code of each host spelling, State spelling (upper
    # case, trimmed) and consulate town (towns in two countries, such as
    # VALENCIA, are left out).
    host09, state09, town09 = {}, {}, collections.defaultdict(set)
    for year, _, _, _, state, host, town, hc, sc in rows:
        if year == 2009:
            host09[host] = hc
            state09[state.strip().upper()] = sc
            town09[town_key(town)].add(hc)
    town09 = {t: next(iter(c)) for t, c in town09.items() if len(c) == 1}

    spellings = collections.OrderedDict()
    for year, name, sheet, _, state, host, town, _, _ in rows:
        for field, spelling in (("schengen_state", state), ("host_country", host)):
            k = (year, name, sheet, field, spelling)
            e = spellings.setdefault(k, {"rows": 0, "towns": set()})
            e["rows"] += 1
            if field == "host_country":
                e["towns"].add(town.strip())

    out = csv.writer(open(OUT, "w", newline=""), lineterminator="\n")
    out.writerow(["year", "file", "sheet", "field", "spelling", "rows", "consulates", "code_2009", "code_2009_from"])
    for (year, name, sheet, field, spelling), e in sorted(spellings.items(), key=lambda kv: kv[0]):
        code, frm = "", ""
        if field == "host_country":
            if spelling in host09:
                code, frm = host09[spelling], "spelling"
            else:
                votes = collections.Counter(town09[town_key(t)] for t in e["towns"] if town_key(t) in town09)
                known = sum(votes.values())
                if known:
                    best, n = votes.most_common(1)[0]
                    if 2 * n > known:
                        code, frm = best, "towns %d of %d" % (n, known)
        elif spelling.strip().upper() in state09:
            code, frm = state09[spelling.strip().upper()], "spelling"
        elif spelling.strip() in state09.values():
            code, frm = spelling.strip(), "code"
        out.writerow([year, name, sheet, field, spelling, e["rows"], "|".join(sorted(e["towns"])), code, frm])


if __name__ == "__main__":
    sys.exit(main())
