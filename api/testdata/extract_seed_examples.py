#!/usr/bin/env python3
"""Copies every YAML example of the seed documents that declares one of our kinds into
api/testdata/seed-examples/, verbatim (the text of the code block is not re-serialised).

Usage: extract_seed_examples.py [SEEDS_DIR] [OUT_DIR]
Each output file starts with a comment naming the seed file, the code block and its line.
Requires PyYAML only to decide which blocks declare one of our kinds.
"""
import os
import re
import sys

import yaml

OUR_KINDS = {
    ("aim.eai.amd.com/v1alpha1", k)
    for k in [
        "AIMModel", "AIMClusterModel", "AIMServiceTemplate", "AIMClusterServiceTemplate",
        "AIMService", "AIMTemplateCache", "AIMArtifact", "AIMRuntimeConfig",
        "AIMClusterRuntimeConfig", "AIMClusterModelSource", "AIMClusterArtifactDownloader",
    ]
} | {("nvidia.com/v1alpha1", "DynamoModel")}


def blocks(text):
    """Yields (block_index, first_line_number, body) of every ```yaml fenced block."""
    lines = text.split("\n")
    i, index = 0, 0
    while i < len(lines):
        m = re.match(r"^\s*```\s*ya?ml\s*$", lines[i])
        if m:
            start = i + 1
            j = start
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                j += 1
            yield index, start + 1, "\n".join(lines[start:j]) + "\n"
            index += 1
            i = j
        i += 1


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    seeds = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/seeds"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "seed-examples")
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.endswith(".yaml"):
            os.remove(os.path.join(out, old))
    count = 0
    for name in sorted(os.listdir(seeds)):
        if not name.endswith(".txt"):
            continue
        text = open(os.path.join(seeds, name), encoding="utf-8").read()
        for index, line, body in blocks(text):
            try:
                docs = [d for d in yaml.safe_load_all(body) if d is not None]
            except yaml.YAMLError:
                continue
            ours = [d for d in docs if isinstance(d, dict)
                    and (d.get("apiVersion"), d.get("kind")) in OUR_KINDS]
            if not ours or len(ours) != len(docs):
                continue
            kinds = "-".join(d["kind"].lower() for d in ours)
            fname = f"{name[:3]}-block{index:02d}-{kinds}.yaml"
            with open(os.path.join(out, fname), "w", encoding="utf-8") as f:
                f.write(f"# source: seeds/{name}, yaml code block {index} (starts at line {line})\n")
                f.write("# extracted verbatim by api/testdata/extract_seed_examples.py\n")
                f.write(body)
            count += 1
    print(f"wrote {count} example files to {out}")


if __name__ == "__main__":
    main()
