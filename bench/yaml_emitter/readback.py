"""Reads what each emitter wrote with PyYAML (a YAML 1.1 reader, as Go's yaml.v2 under kubectl
is) and compares with the JSON it came from: the CRDs and the awkward strings.

    readback.py DIR CRD_JSON_DIR...   (DIR as compare writes it)
"""
import json
import os
import sys

import yaml


def main():
    out = sys.argv[1]
    strings = json.load(open(os.path.join(out, "strings.json"), encoding="utf-8"))
    for who in ("ours", "yaml-cpp"):
        d = os.path.join(out, who)
        wrong = []
        for k, v in strings.items():
            try:
                back = yaml.safe_load(open(os.path.join(d, "strings", k + ".yaml"),
                                           encoding="utf-8"))["v"]
            except yaml.YAMLError as e:
                back = "(refused: " + str(e).splitlines()[0] + ")"
            if back != v:
                wrong.append(f"{v!r} read as {back!r}")
        print(f"{who}: {len(strings) - len(wrong)} of {len(strings)} strings read back by PyYAML"
              + (": " + "; ".join(wrong) if wrong else ""))
        ours_dir = os.path.join(out, "ours")
        differ = 0
        for name in sorted(os.listdir(d)):
            if name == "strings":
                continue
            # The reference: our file read by yaml-cpp already equals the JSON (compare checks);
            # PyYAML must read both files to the same value.
            a = yaml.safe_load(open(os.path.join(ours_dir, name), encoding="utf-8"))
            b = yaml.safe_load(open(os.path.join(d, name), encoding="utf-8"))
            differ += a != b
        print(f"{who}: CRDs PyYAML reads differently from ours: {differ}")


if __name__ == "__main__":
    main()
