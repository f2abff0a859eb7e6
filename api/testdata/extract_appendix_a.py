#!/usr/bin/env python3
"""Extracts api.md Appendix A (the flattened schema path index per CRD) into appendix-a.json.

Usage: extract_appendix_a.py [API_MD] [OUT_JSON]
Output: {"source": ..., "kinds": {Kind: [{"path", "type", "required", "constraints": {...}}]}}
Constraint keys: enum, allOfEnum, default, format, pattern, minLength, maxLength, minimum,
maximum, minItems, maxItems, listType, listMapKeys, mapType, requiredKeys,
preserveUnknownFields, cel: [{rule, message, paraphrased}].
"""
import json
import os
import re
import sys

INT_KEYS = {"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}


def split_top(s, sep="; "):
    """Splits on sep outside [...] brackets."""
    parts, depth, cur, i = [], 0, "", 0
    while i < len(s):
        c = s[i]
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            parts.append(cur)
            cur, i = "", i + len(sep)
            continue
        cur += c
        i += 1
    if cur:
        parts.append(cur)
    return parts


def scalar(v):
    if v in ("true", "false"):
        return v == "true"
    if re.fullmatch(r"-?[0-9]+", v):
        return int(v)
    return v


def parse_constraints(text):
    out = {"cel": []}
    pending_rule = None
    for part in split_top(text.strip()):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^CEL\[(.*)\] msg(=|≈)(.*)$", part)
        if m:
            out["cel"].append({"rule": m.group(1), "message": m.group(3).strip(),
                               "paraphrased": m.group(2) == "≈"})
            continue
        key, _, value = part.partition("=")
        if key == "requiredKeys":
            out["requiredKeys"] = json.loads(value.replace("'", '"'))
        elif key == "enum":
            out["enum"] = json.loads(value)
        elif key == "allOf.enum":
            out["allOfEnum"] = json.loads(value)
        elif key == "x-kubernetes-list-type":
            out["listType"] = value
        elif key == "x-kubernetes-list-map-keys":
            out["listMapKeys"] = json.loads(value)
        elif key == "x-kubernetes-map-type":
            out["mapType"] = value
        elif key == "x-kubernetes-preserve-unknown-fields":
            out["preserveUnknownFields"] = value == "true"
        elif key == "default":
            out["default"] = scalar(value)
        elif key in INT_KEYS:
            out[key] = int(value)
        elif key in ("format", "pattern"):
            out[key] = value
        else:
            raise ValueError(f"unknown constraint {part!r}")
    if not out["cel"]:
        del out["cel"]
    return out


def parse_line(line):
    # "path  type  [R]  constraints" with two-space separators; the type may be "(any JSON)".
    fields = re.split(r"\s{2,}", line.strip(), maxsplit=3)
    path, typ = fields[0], fields[1]
    rest = fields[2:]
    required = False
    if rest and rest[0] == "R":
        required = True
        rest = rest[1:]
    constraints = parse_constraints("  ".join(rest)) if rest else {}
    return {"path": path, "type": typ, "required": required, "constraints": constraints}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    api_md = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/spec/api.md"
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "appendix-a.json")
    text = open(api_md, encoding="utf-8").read()
    appendix = text[text.index("## Appendix A."):]
    sections = re.findall(r"^### (.+?)\n\n```\n(.*?)```", appendix, re.S | re.M)
    kinds = {}
    for title, body in sections:
        rows = [parse_line(l) for l in body.strip("\n").split("\n") if l.strip()]
        if title.startswith("AIMModel / AIMClusterModel"):
            kinds["AIMModel"] = rows
            kinds["AIMClusterModel"] = rows
        elif title.startswith("AIMServiceTemplate"):
            kinds["AIMServiceTemplate"] = rows
            kinds["AIMClusterServiceTemplate"] = [
                r for r in rows if not r["path"].startswith("spec.caching")]
        elif title.startswith("AIMRuntimeConfig / AIMClusterRuntimeConfig"):
            kinds["AIMRuntimeConfig"] = rows
            kinds["AIMClusterRuntimeConfig"] = rows
        else:
            kinds[title.strip()] = rows
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"source": "spec/api.md Appendix A, extracted by extract_appendix_a.py",
                   "kinds": kinds}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {out_path}: " + ", ".join(f"{k}={len(v)}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
