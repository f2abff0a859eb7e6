"""Admission: one test per validation rule of the generated CRDs, against the real API server.

The cases are generated from deploy/crds*/: every CEL rule under `spec` becomes at least one test
that sends a manifest (or an update) the server must reject, and checks the rule's message is in
the answer. What a rule needs to fail is known by its message (BAD_NODE) or, for immutability, by
its kind (a `self == oldSelf` rule: change the value; a presence rule: remove the field, add it
back, add it for the first time). A rule nobody taught this file to break fails the suite, so a
new rule cannot land untested. Bounds that are not CEL (minimum, minLength, pattern) that issue 14
added are listed in BOUNDS.

Run: python3 -m pytest -q test/integration/api   (from the repository root, cluster running)
"""
import copy
import glob
import json
import os
import re
import uuid

import pytest
import yaml

from test_api_crds import KUBECONFIG, REPO, apply, crds, kubectl, ns, obj  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not os.path.exists(KUBECONFIG),
                                reason=f"no cluster kubeconfig at {KUBECONFIG}")

API = {"aim.eai.amd.com": "aim.eai.amd.com/v1alpha1", "nvidia.com": "nvidia.com/v1alpha1"}

HW = {"gpu": {"requests": 1, "model": "MI300X"}, "cpu": {"requests": "2", "limits": "4"}}
SOURCE = {"modelId": "org/model", "sourceUri": "hf://org/model", "sourceURI": "hf://org/model",
          "size": "1Gi"}

# A valid spec per kind with every field a rule looks at set, so each rule can be broken alone.
BASE = {
    "AIMModel": {"image": "ghcr.io/amd/x:1", "custom": {"hardware": HW},
                 "customTemplates": [{"name": "a", "hardware": HW}], "modelSources": [SOURCE]},
    "AIMServiceTemplate": {"modelName": "m1", "metric": "latency", "precision": "fp8",
                           "hardware": HW, "modelSources": [SOURCE]},
    "AIMService": {"model": {"name": "m1"}, "template": {"name": "t1"},
                   "caching": {"mode": "Shared"}, "minReplicas": 1, "maxReplicas": 2,
                   "overrides": {"metric": "latency", "precision": "fp8", "hardware": HW,
                                 "gpuSelector": {"model": "MI300X", "count": 1}}},
    "AIMArtifact": {"sourceUri": "hf://org/model", "revision": "main", "size": "1Gi",
                    "existingClaimName": "models", "include": ["*.json"],
                    "exclude": ["original/"]},
    "AIMTemplateCache": {"templateName": "t", "templateScope": "Namespace",
                         "modelSources": [SOURCE]},
    "AIMClusterArtifactDownloader": {"image": "ghcr.io/amd/downloader:1", "schemes": ["custom"]},
    "DynamoModel": {"name": "org/model", "sourceURL": "hf://org/model",
                    "pvc": {"create": True, "storageClass": "fast", "size": "1Gi"}},
}
CLUSTER_KINDS = {"AIMClusterModel": "AIMModel",
                 "AIMClusterServiceTemplate": "AIMServiceTemplate"}

# Paths whose base value sits elsewhere: the model's custom form of an AIMService.
CUSTOM_SERVICE = {"model": {"custom": {"baseImage": "ghcr.io/amd/x:1", "modelSources": [SOURCE],
                                       "hardware": HW}}}


def base_for(kind, path):
    base = BASE[CLUSTER_KINDS.get(kind, kind)]
    if kind == "AIMService" and path.startswith("spec.model.custom"):
        return copy.deepcopy(CUSTOM_SERVICE)
    return copy.deepcopy(base)


IMAGE_BAD = [lambda n: "ghcr.io/AMD/llama:1", lambda n: "https://ghcr.io/amd/llama:1",
             lambda n: "ghcr.io/amd/llama:", lambda n: "ghcr.io/amd/llama@sha256:123",
             lambda n: "x"]

# What makes the node at the rule's path break the rule, by the rule's message.
BAD_NODE = {
    "at least one of gpu or cpu must be specified": [lambda n: {}],
    "model and minVram are mutually exclusive": [lambda n: dict(n, minVram="64Gi")],
    "cpu requests must be greater than 0": [lambda n: 0, lambda n: "0m"],
    "sourceUri is required": [lambda n: {"modelId": "org/model"}],
    "the URI must not contain a '.' or '..' path segment": [
        lambda n: "hf://../../etc/passwd", lambda n: "hf://org/..", lambda n: "s3://b/./k"],
    "the URI must not contain an empty path segment": [
        lambda n: "hf://org//model", lambda n: "hf:///org/model", lambda n: "file:///etc/passwd"],
    # What aim-fetch would refuse (issue 26: a percent-encoded '..' got a PVC and a Job first).
    "an hf:// URI is hf://org/model[/path][@revision]": [
        lambda n: "hf://org%2F..%2F/model", lambda n: "hf://org/mo del",
        lambda n: "hf://org/model@rev%20x"],
    "an s3:// URI is s3://bucket[/prefix]": [lambda n: "s3://UPPER/k", lambda n: "s3://ab"],
    "an ngc:// URI is ngc://org/[team/]model[:version]": [
        lambda n: "ngc://model", lambda n: "ngc://a/b/c/d", lambda n: "ngc://org/m:v%2F1"],
    # Credentials in a URI would be copied into the download Job and the status (issue 26).
    "the URI must not hold credentials": [
        lambda n: "s3://AKID:secret@bucket/k", lambda n: "hf://hf_token@org/model"],
    "the URI must not hold a signature or a token in its query": [
        lambda n: "s3://bucket/k?X-Amz-Signature=abc", lambda n: "s3://bucket/k?a=1&SIG=x",
        lambda n: "s3://bucket/k?access_token=t"],
    # Quantities out of range (issue 26: `-1Gi` was accepted, `1Ei` got a Bound claim).
    "size must not be negative": [lambda n: "-1Gi", lambda n: -5],
    "size must be at most 1Pi": [lambda n: "1Ei", lambda n: "1025Ti"],
    "cpu limits must not be negative": [lambda n: "-1", lambda n: "-500m"],
    "minVram must not be negative": [lambda n: "-64Gi", lambda n: -1],
    # Image fields hold what the registry client parses (issue 26: an unparsable reference got an
    # AIMModel named after the mangled text).
    "image must be an image reference": IMAGE_BAD,
    "baseImage must be an image reference": IMAGE_BAD,
    "modelDownloadImage must be an image reference": IMAGE_BAD,
    "downloadImage must be an image reference": IMAGE_BAD,
    "exactly one of name, image, or custom must be specified": [
        lambda n: {"name": "m", "image": "ghcr.io/amd/x:1"}],
    "at least one model source must be specified": [lambda n: dict(n, modelSources=[])],
    "minReplicas must not be greater than maxReplicas": [
        lambda n: dict(n, minReplicas=5, maxReplicas=2)],
    # Without custom.hardware, a template without hardware breaks it. (With no customTemplates
    # at all it passes: seed 000 shows that manifest as valid; test_seed_example_* applies it.)
    "when using modelSources, hardware must be specified": [
        lambda n: dict({k: v for k, v in n.items() if k != "custom"},
                       customTemplates=[{"name": "a"}])],
    "storageClass and size are required when create is true": [
        lambda n: {"create": True, "size": "1Gi"}],
    "name is required when create is false": [lambda n: {"create": False}],
    "each file pattern must be 1 to 1024 characters": [
        lambda n: n + [""], lambda n: n + ["x" * 1025]],
}

# A different valid value for a `self == oldSelf` field, by its key.
OTHER_VALUE = {
    "modelName": "m2", "metric": "throughput", "precision": "fp16",
    "hardware": {"gpu": {"requests": 2, "model": "MI300X"}},
    "model": {"name": "m2"}, "template": {"name": "t2"}, "caching": {"mode": "Dedicated"},
    "gpuSelector": {"model": "MI300X", "count": 2},
    "sourceUri": "hf://org/other", "revision": "v2", "existingClaimName": "other",
    "include": ["*.safetensors"], "exclude": ["*.bin"],
}

# Bounds that are not CEL rules (issue 14): kind, spec changes, message the server gives.
BOUNDS = [
    ("AIMService", {"replicas": -5}, "should be greater than or equal to 0"),
    ("AIMService", {"model": {"name": ""}}, "should be at least 1 chars long"),
    ("AIMService", {"model": {"image": ""}}, "should be at least 1 chars long"),
    ("AIMService", {"routing": {"requestTimeout": "forever"}}, "spec.routing.requestTimeout"),
    ("AIMArtifact", {"modelId": "org/.."}, "spec.modelId"),
    ("AIMArtifact", {"modelId": "org/."}, "spec.modelId"),
    ("AIMModel", {"modelSources": [dict(SOURCE, modelId="org/..")]}, "modelSources[0].modelId"),
    ("AIMClusterModelSource", {"filters": [{"image": "amd/*"}], "syncInterval": "daily"},
     "spec.syncInterval"),
]


def crd_rules():
    """(kind, namespaced, path, rule, message) for every CEL rule under spec."""
    out = []
    for f in sorted(glob.glob(os.path.join(REPO, "deploy", "crds*", "*.yaml"))):
        with open(f, encoding="utf-8") as fh:
            crd = yaml.safe_load(fh)
        kind = crd["spec"]["names"]["kind"]
        namespaced = crd["spec"]["scope"] == "Namespaced"
        if kind not in BASE and kind not in CLUSTER_KINDS:
            continue
        root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

        def walk(node, path):
            for r in node.get("x-kubernetes-validations") or []:
                out.append((kind, namespaced, path, r["rule"], r["message"]))
            for k, v in (node.get("properties") or {}).items():
                walk(v, f"{path}.{k}")
            if "items" in node:
                walk(node["items"], path + "[]")

        walk(root["properties"]["spec"], "spec")
    return out


def kinds_with_rules_but_no_base():
    seen = set()
    for f in glob.glob(os.path.join(REPO, "deploy", "crds*", "*.yaml")):
        with open(f, encoding="utf-8") as fh:
            crd = yaml.safe_load(fh)
        kind = crd["spec"]["names"]["kind"]
        if "x-kubernetes-validations" in json.dumps(crd["spec"]["versions"][0]["schema"]
                                                    ["openAPIV3Schema"]["properties"]["spec"]):
            if kind not in BASE and kind not in CLUSTER_KINDS:
                seen.add(kind)
    return seen


# ---------------------------------------------------------------------------------- helpers

def steps(path):
    """'spec.a[].b' -> ['a', 0, 'b'] (below spec; lists use their first element)."""
    out = []
    for part in path.split(".")[1:]:
        if part.endswith("[]"):
            out += [part[:-2], 0]
        else:
            out.append(part)
    return out


def get_at(spec, keys):
    n = spec
    for k in keys:
        n = n[k]
    return n


def get_or_none(spec, keys):
    """The node at keys, or None where the base leaves it out (the bad value is then added)."""
    try:
        return get_at(spec, keys)
    except (KeyError, IndexError):
        return None


def set_at(spec, keys, value):
    if not keys:
        return value
    get_at(spec, keys[:-1])[keys[-1]] = value
    return spec


def pointer(keys):
    return "/spec" + "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in keys)


class Target:
    def __init__(self, kind, namespaced, ns):
        self.kind, self.ns = kind, (ns if namespaced else None)
        group = "nvidia.com" if kind == "DynamoModel" else "aim.eai.amd.com"
        self.api = API[group]
        self.name = "adm-" + uuid.uuid4().hex[:8]
        self.resource = f"{kind.lower()}.{group}"

    def manifest(self, spec):
        return obj(self.kind, self.name, spec, api=self.api)

    def create(self, spec):
        apply(self.manifest(spec), self.ns)

    def rejected_create(self, spec, message):
        p = apply(self.manifest(spec), self.ns, check=False)
        if p.returncode == 0:
            self.delete()  # cluster-scoped objects outlive the test namespace
        assert p.returncode != 0, f"created, expected rejection with {message!r}: {spec}"
        assert message in p.stderr, p.stderr

    def rejected_patch(self, ops, message):
        args = ["patch", self.resource, self.name, "--type=json", "-p", json.dumps(ops)]
        if self.ns:
            args += ["-n", self.ns]
        p = kubectl(*args, check=False)
        assert p.returncode != 0, f"patch {ops} accepted, expected rejection with {message!r}"
        assert message in p.stderr, p.stderr

    def delete(self):
        args = ["delete", self.resource, self.name, "--wait=false", "--ignore-not-found"]
        kubectl(*(args + (["-n", self.ns] if self.ns else [])), check=False)


PRESENCE = re.compile(r"has\(oldSelf\.")


def presence_keys(rule):
    """The keys a presence rule guards: the self side's last has(self.a.b)."""
    lhs = rule.split(" == ")[0]
    return re.findall(r"has\(self\.([A-Za-z0-9_.]+)\)", lhs)[-1].split(".")


# ---------------------------------------------------------------------------------- tests

RULES = crd_rules()


def test_every_kind_with_rules_has_a_base_spec():
    assert not kinds_with_rules_but_no_base()


def test_the_crds_have_rules():
    # A broken walk would make every generated test vanish silently.
    assert len(RULES) >= 60, len(RULES)
    assert sum(1 for r in RULES if PRESENCE.search(r[3])) >= 15


@pytest.mark.parametrize("kind,namespaced,path,rule,message", RULES,
                         ids=[f"{r[0]}:{r[2]}:{r[4][:40]}" for r in RULES])
def test_rule_rejects(ns, kind, namespaced, path, rule, message):
    keys = steps(path)
    if PRESENCE.search(rule):
        # Presence: removal, re-addition after removal at create time, first addition. For a
        # nested field (overrides.metric), also the removal of its parent (overrides).
        guarded = presence_keys(rule)
        full = keys + guarded
        base = base_for(kind, path)
        value = get_at(base, full)
        t = Target(kind, namespaced, ns)
        try:
            t.create(base)
            t.rejected_patch([{"op": "remove", "path": pointer(full)}], message)
            if len(guarded) > 1:
                t.rejected_patch([{"op": "remove", "path": pointer(keys + guarded[:1])}], message)
        finally:
            t.delete()
        without = base_for(kind, path)
        del get_at(without, full[:-1])[full[-1]]
        t = Target(kind, namespaced, ns)
        try:
            t.create(without)
            t.rejected_patch([{"op": "add", "path": pointer(full), "value": value}], message)
        finally:
            t.delete()
        return
    if rule == "self == oldSelf":
        other = OTHER_VALUE.get(keys[-1])
        assert other is not None, f"no other value known for {path}; add it to OTHER_VALUE"
        t = Target(kind, namespaced, ns)
        try:
            t.create(base_for(kind, path))
            t.rejected_patch([{"op": "replace", "path": pointer(keys), "value": other}], message)
        finally:
            t.delete()
        return
    makers = [m for msg, ms in BAD_NODE.items() if message.startswith(msg) for m in ms]
    assert makers, f"no bad value known for the rule {rule!r} ({message!r}); add it to BAD_NODE"
    for make in makers:
        spec = base_for(kind, path)
        bad = set_at(spec, keys, make(copy.deepcopy(get_or_none(spec, keys))))
        t = Target(kind, namespaced, ns)
        t.rejected_create(bad, message)
    # The base itself passes, so the rejection came from the broken node.
    t = Target(kind, namespaced, ns)
    try:
        t.create(base_for(kind, path))
    finally:
        t.delete()


@pytest.mark.parametrize("kind,change,message", BOUNDS,
                         ids=[f"{b[0]}:{json.dumps(b[1])[:40]}" for b in BOUNDS])
def test_bound_rejects(ns, kind, change, message):
    base = copy.deepcopy(BASE.get(kind, {}))
    t = Target(kind, kind != "AIMClusterModelSource", ns)
    t.rejected_create(dict(base, **change), message)


def test_valid_values_next_to_the_bounds_are_accepted(ns):
    for kind, spec in [
        ("AIMService", {"model": {"name": "m"}, "replicas": 0, "minReplicas": 2,
                        "maxReplicas": 2, "routing": {"requestTimeout": "1m30s"}}),
        ("AIMArtifact", {"sourceUri": "hf://org/model.v1", "modelId": "org/.model"}),
        ("AIMArtifact", {"sourceUri": "https://host/dir/file?x=a/../b"}),
        ("AIMArtifact", {"sourceUri": "https://host/a@b/file?download=true&name=x@y"}),
        ("AIMArtifact", {"sourceUri": "s3://bucket/.hidden/key"}),
        ("AIMServiceTemplate", {"modelName": "m", "hardware": {"cpu": {"requests": "100m"}}}),
    ]:
        t = Target(kind, True, ns)
        try:
            t.create(spec)
        finally:
            t.delete()


def test_mutable_fields_stay_mutable(ns):
    # The presence rules must not freeze what is allowed to change: replicas, routing, env.
    t = Target("AIMService", True, ns)
    try:
        t.create(BASE["AIMService"])
        for ops in ([{"op": "add", "path": "/spec/replicas", "value": 3}],
                    [{"op": "add", "path": "/spec/routing", "value": {"enabled": False}}],
                    [{"op": "remove", "path": "/spec/routing"}],
                    [{"op": "add", "path": "/spec/env", "value": [{"name": "A", "value": "1"}]}]):
            args = ["patch", t.resource, t.name, "-n", ns, "--type=json", "-p", json.dumps(ops)]
            kubectl(*args)
    finally:
        t.delete()
