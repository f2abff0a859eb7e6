"""Reads two renders of /metrics with the Prometheus Python client's parser (prometheus_client
0.26.0) and compares what they say: every sample (name, labels, value; NaN equals NaN) and every
family's type and help. Prints the differences and, with --show, the samples of the first.

    validate.py OURS THEIRS [--show]
"""
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def read(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    families, samples = {}, {}
    try:
        parsed = list(text_string_to_metric_families(text))
    except ValueError as e:
        print(f"{path.rsplit('/', 1)[-1]}: not readable: {e}")
        return None, None
    for fam in parsed:
        families[fam.name] = (fam.type, fam.documentation)
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in samples:
                raise SystemExit(f"{path}: sample {key} twice")
            samples[key] = s.value
    return families, samples


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def main():
    ours_f, ours_s = read(sys.argv[1])
    theirs_f, theirs_s = read(sys.argv[2])
    if ours_f is None or theirs_f is None:
        return 1
    problems = 0
    for name in sorted(set(ours_f) | set(theirs_f)):
        if ours_f.get(name) != theirs_f.get(name):
            problems += 1
            print(f"family {name}: ours {ours_f.get(name)!r}, theirs {theirs_f.get(name)!r}")
    for key in sorted(set(ours_s) | set(theirs_s)):
        a, b = ours_s.get(key), theirs_s.get(key)
        if a is None or b is None or not same(a, b):
            problems += 1
            print(f"sample {key}: ours {a!r}, theirs {b!r}")
    if "--show" in sys.argv:
        for key, value in ours_s.items():
            print(f"  {key[0]} {dict(key[1])!r} = {value!r}")
    print(f"{len(ours_f)} families, {len(ours_s)} samples parsed from each; "
          f"{problems} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
