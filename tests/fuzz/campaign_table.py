#!/usr/bin/env python3
"""Sums a fuzzing campaign's ledger into the table of tests/fuzz/README.md.

    python3 tests/fuzz/campaign_table.py tests/fuzz/campaign.tsv

The ledger is what `scripts/fuzz.sh --ledger FILE` appends: one row per
harness run (a campaign runs each harness in chunks, `--runs R
--corpus-dir D`, so that it can stop and go on). Per harness the table gives
the executions and seconds of every chunk added up, the rate they make, the
coverage (cov, ft) and corpus size at the last chunk, the commits the chunks
ran at, and the chunks that did not end "ok".

A finding that has been fixed is recorded in the ledger by a comment line

    # fixed<TAB>HARNESS<TAB>DATE OF THE FAILED CHUNK<TAB>COMMIT OF THE FIX<TAB>REGRESSION ROW

and the table then says where its regression row is; a failed chunk without
such a line is an open finding.
"""
import collections
import sys

TARGET = 10_000_000


def main(path):
    rows = collections.OrderedDict()
    fixed = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# fixed\t"):
                _, name, date, commit, row = line.split("\t")
                fixed[(name, date)] = f"fixed in {commit}, regression row {row}"
                continue
            if not line or line.startswith("#"):
                continue
            date, commit, name, seconds, execs, _rate, cov, ft, files, result = line.split("\t")
            r = rows.setdefault(name, {"execs": 0, "seconds": 0, "chunks": 0, "commits": [], "failed": [],
                                       "first": date, "last": date})
            r["execs"] += int(execs)
            r["seconds"] += int(seconds)
            r["chunks"] += 1
            r["cov"], r["ft"], r["files"], r["last"] = cov, ft, files, date
            if commit not in r["commits"]:
                r["commits"].append(commit)
            if result != "ok":
                r["failed"].append((date, result))
    print("| harness | executions | seconds | exec/s | cov | ft | corpus files | chunks | commits | findings |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    open_findings = 0
    for name, r in rows.items():
        rate = r["execs"] / r["seconds"] if r["seconds"] else 0
        done = "" if r["execs"] >= TARGET else " (short of 10M)"
        findings = []
        for date, result in r["failed"]:
            fix = fixed.get((name, date))
            open_findings += fix is None
            findings.append(f"{date} {result}, " + (fix if fix else "OPEN"))
        findings = "; ".join(findings) if findings else "none"
        print(f"| {name} | {r['execs']:,}{done} | {r['seconds']:,} | {rate:,.0f} | {r['cov']} | {r['ft']} | "
              f"{r['files']} | {r['chunks']} | {', '.join(r['commits'])} | {findings} |")
    print()
    print(f"Open findings: {open_findings}.")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: campaign_table.py LEDGER")
    main(sys.argv[1])
