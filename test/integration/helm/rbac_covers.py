#!/usr/bin/env python3
"""Checks that one set of RBAC rules grants everything another grants.

    rbac_covers.py WANT.yaml HAVE.yaml

Reads the ClusterRoles and Roles of both multi-document YAML files, expands every rule into
(apiGroup, resource, resourceName, verb) grants and prints each grant of WANT that no rule of HAVE
covers. Used to keep the plain manifest bundle (deploy/operator/rbac.yaml) from granting less than
the Helm chart: an operator installed from the bundle must not hit a Forbidden the chart's does not.
Exits 1 when something is missing.
"""
import sys

import yaml


def rules(path):
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") in ("ClusterRole", "Role"):
                yield from doc.get("rules") or []


def matches(pattern, value):
    if pattern == "*":
        return True
    if pattern.startswith("*/"):  # "*/status" covers every subresource named status
        return "/" in value and value.split("/", 1)[1] == pattern[2:]
    return pattern == value


def covered(grant, have):
    group, resource, name, verb = grant
    for r in have:
        if group not in r.get("apiGroups", []) and "*" not in r.get("apiGroups", []):
            continue
        if not any(matches(p, resource) for p in r.get("resources", [])):
            continue
        if verb not in r.get("verbs", []) and "*" not in r.get("verbs", []):
            continue
        names = r.get("resourceNames") or []
        if names and name not in names:
            continue
        return True
    return False


def main():
    want, have = sys.argv[1], sys.argv[2]
    have_rules = list(rules(have))
    missing = []
    for r in rules(want):
        for group in r.get("apiGroups", []):
            for resource in r.get("resources", []):
                for name in r.get("resourceNames") or [None]:
                    for verb in r.get("verbs", []):
                        grant = (group, resource, name, verb)
                        if not covered(grant, have_rules):
                            missing.append(grant)
    for group, resource, name, verb in missing:
        print(f"{verb} {group or 'core'}/{resource}{'/' + name if name else ''}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
