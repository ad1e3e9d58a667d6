#!/usr/bin/env python3
"""Summarises the registry requests of bench/run.sh's cold phase.

Reads docker-registry's log from line FROM_LINE on: the access log lines
("METHOD URI HTTP/1.1" STATUS, one per request) for counts and repeats, and
logrus' "response completed" lines (end time and duration of each request the
registry application answered) for timing. Admissions in the cold phase run
one after another, so a verification's requests are the lines from one
"GET .../manifests/<tag>" (its first request) to the next.

  registry_log_summary.py LOG FROM_LINE REPO_PATH TAG_PREFIX
  e.g. registry_log_summary.py registry.log 1234 /v2/bench/cold/ c

Prints one JSON object.
"""
import collections
import datetime
import json
import re
import statistics
import sys

ACCESS = re.compile(r'^\S+ - \S+ \[[^\]]+\] "(\w+) (\S+) HTTP/[\d.]+" (\d+) ')
LOGRUS_TIME = re.compile(r'^time="([^"]+)"')
LOGRUS_FIELD = re.compile(r'(http\.request\.method|http\.request\.uri|http\.response\.duration)=("[^"]*"|\S+)')


def kind(rest, tag_prefix):
    if re.fullmatch(r'manifests/' + re.escape(tag_prefix) + r'\d+', rest):
        return 'manifest by tag'
    if re.fullmatch(r'manifests/sha256:[0-9a-f]{64}', rest):
        return 'manifest by digest'
    if re.fullmatch(r'manifests/sha256-[0-9a-f]{64}\.sig', rest):
        return 'signature manifest (.sig tag)'
    if re.fullmatch(r'manifests/sha256-[0-9a-f]{64}\.att', rest):
        return 'attestation manifest (.att tag)'
    if re.fullmatch(r'manifests/sha256-[0-9a-f]{64}', rest):
        return 'referrers tag fallback (sha256-<hex>)'
    if rest.startswith('referrers/'):
        return 'referrers API'
    if rest.startswith('blobs/'):
        return 'blob'
    return rest


def duration_seconds(text):
    text = text.strip('"')
    for unit, scale in (('ms', 1e-3), ('µs', 1e-6), ('us', 1e-6), ('ns', 1e-9), ('s', 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return 0.0


def parse_time(text):
    # 2026-11-25T15:29:07.71973471Z: Python wants at most 6 fraction digits.
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z', text)
    base = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    frac = float('0.' + m.group(2)) if m.group(2) else 0.0
    return base.timestamp() + frac


def group(items, is_first):
    groups = []
    for it in items:
        if is_first(it) or not groups:
            groups.append([])
        groups[-1].append(it)
    return groups


def main():
    log, from_line, repo, tag_prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    first_re = re.compile(re.escape(repo) + r'manifests/' + re.escape(tag_prefix) + r'\d+$')
    access, timed = [], []
    with open(log, encoding='utf-8', errors='replace') as f:
        for n, line in enumerate(f, 1):
            if n < from_line:
                continue
            m = ACCESS.match(line)
            if m and m.group(2).startswith(repo):
                access.append((m.group(1), m.group(2), int(m.group(3))))
                continue
            t = LOGRUS_TIME.match(line)
            if t and 'response completed' in line:
                fields = {k: v.strip('"') for k, v in LOGRUS_FIELD.findall(line)}
                uri = fields.get('http.request.uri', '')
                if uri.startswith(repo):
                    end = parse_time(t.group(1))
                    d = duration_seconds(fields.get('http.response.duration', '0s'))
                    timed.append((end - d, end, fields.get('http.request.method'), uri))

    verifications = group(access, lambda r: r[0] == 'GET' and first_re.search(r[1]))
    per = [len(v) for v in verifications]
    repeated_within = sum(len(v) - len(set((m, u) for m, u, _ in v)) for v in verifications)
    repeated_overall = len(access) - len(set((m, u) for m, u, _ in access))
    kinds = collections.Counter()
    for m, u, s in access:
        kinds['%s %s -> %d' % (m, kind(u[len(repo):], tag_prefix), s)] += 1

    spans, sums, counts = [], [], []
    for v in group(sorted(timed), lambda r: r[2] == 'GET' and first_re.search(r[3])):
        spans.append(max(e for _, e, _, _ in v) - min(s for s, _, _, _ in v))
        sums.append(sum(e - s for s, e, _, _ in v))
        counts.append(len(v))
    out = {
        'requests': len(access),
        'verifications': len(verifications),
        'requests_per_verification': {'min': min(per, default=0), 'max': max(per, default=0),
                                      'mean': statistics.mean(per) if per else 0},
        'repeated_within_a_verification': repeated_within,
        'repeated_across_the_phase': repeated_overall,
        'kinds': dict(sorted(kinds.items())),
        # Registry-side timing of the requests logrus logs (router 404s such
        # as the missing referrers API are not among them).
        'timed_requests_per_verification': statistics.median(counts) if counts else 0,
        'median_span_ms': statistics.median(spans) * 1e3 if spans else 0,
        'median_sum_of_durations_ms': statistics.median(sums) * 1e3 if sums else 0,
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
