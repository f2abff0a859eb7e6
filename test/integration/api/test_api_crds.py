"""Integration suite for the AIM API layer against the local control plane.

Needs the cluster of tools/cluster (kubeconfig at .local/cluster/kubeconfig, or $KUBECONFIG) and
the aim-crdgen binary ($AIM_CRDGEN, else the newest build/*/api/gen/aim-crdgen).
Run: python3 -m pytest -q test/integration/api   (from the repository root)
"""
import glob
import json
import os
import subprocess
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KUBECTL = os.path.join(REPO, "tools", "cluster", "bin", "kubectl")
KUBECONFIG = os.environ.get("KUBECONFIG") or os.path.join(REPO, ".local", "cluster", "kubeconfig")
EXAMPLES = sorted(glob.glob(os.path.join(REPO, "api", "testdata", "seed-examples", "*.yaml")))
GROUP = "aim.eai.amd.com"
AIM_KINDS = {
    # kind: (plural, namespaced, printer columns after NAME[/NAMESPACE])
    "AIMModel": ("aimmodels", True, ["STATUS", "SOURCE", "IMAGE", "MODEL", "AGE"]),
    "AIMClusterModel": ("aimclustermodels", False, ["STATUS", "SOURCE", "IMAGE", "MODEL", "AGE"]),
    "AIMServiceTemplate": ("aimservicetemplates", True,
                           ["MODEL", "STATUS", "HARDWARE", "METRIC", "PRECISION"]),
    "AIMClusterServiceTemplate": ("aimclusterservicetemplates", False,
                                  ["MODEL", "STATUS", "HARDWARE", "METRIC", "PRECISION"]),
    "AIMService": ("aimservices", True, ["STATUS", "MODEL", "TEMPLATE", "REPLICAS", "AGE"]),
    "AIMTemplateCache": ("aimtemplatecaches", True, ["TEMPLATE", "MODE", "STATUS", "KIND", "AGE"]),
    "AIMArtifact": ("aimartifacts", True, ["STATUS", "MODE", "MODEL SIZE", "PROGRESS", "AGE"]),
    "AIMRuntimeConfig": ("aimruntimeconfigs", True, ["AGE"]),
    "AIMClusterRuntimeConfig": ("aimclusterruntimeconfigs", False, ["AGE"]),
    "AIMClusterModelSource": ("aimclustermodelsources", False,
                              ["STATUS", "MODELS", "LASTSYNC", "AGE"]),
    "AIMClusterArtifactDownloader": ("aimclusterartifactdownloaders", False,
                                     ["IMAGE", "SCHEMES", "AGE"]),
}

pytestmark = pytest.mark.skipif(not os.path.exists(KUBECONFIG),
                                reason=f"no cluster kubeconfig at {KUBECONFIG}")


def kubectl(*args, stdin=None, check=True):
    p = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, *args], input=stdin,
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p


def crdgen():
    if os.environ.get("AIM_CRDGEN"):
        return os.environ["AIM_CRDGEN"]
    found = glob.glob(os.path.join(REPO, "build", "*", "api", "gen", "aim-crdgen"))
    if not found:
        pytest.skip("aim-crdgen not built")
    return max(found, key=os.path.getmtime)


@pytest.fixture(scope="session", autouse=True)
def crds():
    for folder in ("crds", "crds-optional"):
        kubectl("apply", "--server-side", "--force-conflicts", "-f",
                os.path.join(REPO, "deploy", folder))
    names = [f"{plural}.{GROUP}" for plural, _, _ in AIM_KINDS.values()] + ["dynamomodels.nvidia.com"]
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    for ns in ("ml-team", "ml-research", "your-namespace"):  # namespaces the seed examples use
        if kubectl("get", "namespace", ns, check=False).returncode != 0:
            kubectl("create", "namespace", ns)


@pytest.fixture()
def ns():
    name = "aim-api-it-" + uuid.uuid4().hex[:8]
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def apply(manifest, namespace=None, dry_run=False, check=True):
    args = ["apply", "-f", "-"]
    if namespace:
        args += ["-n", namespace]
    if dry_run:
        args += ["--dry-run=server"]
    return kubectl(*args, stdin=json.dumps(manifest) if isinstance(manifest, dict) else manifest,
                   check=check)


def obj(kind, name, spec, api="aim.eai.amd.com/v1alpha1"):
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}


def expect_rejected(manifest, namespace, message):
    p = apply(manifest, namespace, check=False)
    assert p.returncode != 0, f"accepted, expected rejection with {message!r}"
    assert message in p.stderr, p.stderr


# ---------------------------------------------------------------------------------- examples

@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_seed_example_applies_unchanged(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    apply(text, dry_run=True)


# ---------------------------------------------------------------------------------- rejection

TEMPLATE = {"modelName": "m1", "metric": "latency", "precision": "fp8",
            "hardware": {"gpu": {"requests": 1, "model": "MI300X"}}}


@pytest.mark.parametrize("field,new_value,message", [
    ("modelName", "m2", "model name is immutable"),
    ("metric", "throughput", "metric is immutable"),
    ("precision", "fp16", "precision is immutable"),
    ("hardware", {"gpu": {"requests": 2, "model": "MI300X"}}, "hardware is immutable"),
])
def test_template_immutable_fields(ns, field, new_value, message):
    apply(obj("AIMServiceTemplate", "t", TEMPLATE), ns)
    spec = dict(TEMPLATE, **{field: new_value})
    expect_rejected(obj("AIMServiceTemplate", "t", spec), ns, message)


SERVICE = {"model": {"name": "m1"}, "template": {"name": "t1"}, "caching": {"mode": "Shared"}}


@pytest.mark.parametrize("field,new_value,message", [
    ("model", {"name": "m2"}, "model selection is immutable after creation"),
    ("template", {"name": "t2"}, "template selection is immutable after creation"),
    ("caching", {"mode": "Dedicated"}, "caching mode is immutable after creation"),
])
def test_service_immutable_fields(ns, field, new_value, message):
    apply(obj("AIMService", "s", SERVICE), ns)
    expect_rejected(obj("AIMService", "s", dict(SERVICE, **{field: new_value})), ns, message)


def test_artifact_source_uri_immutable(ns):
    apply(obj("AIMArtifact", "a", {"sourceUri": "hf://org/model"}), ns)
    expect_rejected(obj("AIMArtifact", "a", {"sourceUri": "hf://org/other"}), ns,
                    "sourceUri is immutable")


def test_service_model_one_of(ns):
    expect_rejected(obj("AIMService", "s2", {"model": {"name": "m", "image": "ghcr.io/x/y:1"}}),
                    ns, "exactly one of name, image, or custom must be specified")


def test_unknown_enum_value(ns):
    expect_rejected(obj("AIMServiceTemplate", "t3", dict(TEMPLATE, precision="fp64")), ns,
                    'Unsupported value: "fp64"')


def test_malformed_source_uri(ns):
    expect_rejected(obj("AIMArtifact", "a2", {"sourceUri": "not a uri"}), ns, "should match")


def test_hardware_needs_gpu_or_cpu(ns):
    expect_rejected(obj("AIMServiceTemplate", "t4", dict(TEMPLATE, hardware={})), ns,
                    "at least one of gpu or cpu must be specified")


def test_extensions_accepted(ns):
    apply(obj("AIMArtifact", "ngc", {
        "sourceUri": "ngc://nvidia/llama-70b", "modelId": "nvidia/llama-70b",
        "revision": "abcd12345", "credentialsSecretRef": {"name": "ngc-key"},
        "existingClaimName": "models", "storageClassName": "fast"}), ns)
    got = json.loads(kubectl("get", "aimartifact", "ngc", "-n", ns, "-o", "json").stdout)
    assert got["spec"]["accessMode"] == "ReadWriteMany"  # server-side default
    # NotAvailable must never be rejected on an AIMService status write.
    apply(obj("AIMService", "na", {"model": {"name": "m"}}), ns)
    kubectl("patch", "aimservice", "na", "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": {"status": "NotAvailable"}}))
    # The downloader writes progress with a merge patch on the status subresource.
    kubectl("patch", "aimartifact", "ngc", "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": {"progress": {"percentage": 45, "bytesPerSecond": 10,
                                                      "etaSeconds": 3,
                                                      "displayPercentage": "45 %"}}}))


# ---------------------------------------------------------------------------------- kubectl UX

def one_of_each(ns):
    suffix = ns[-8:]
    objs = [
        (obj("AIMModel", "m", {"image": "ghcr.io/amd/llama:1"}), ns),
        (obj("AIMClusterModel", "cm-" + suffix, {"image": "ghcr.io/amd/llama:1"}), None),
        (obj("AIMServiceTemplate", "t", TEMPLATE), ns),
        (obj("AIMClusterServiceTemplate", "ct-" + suffix, TEMPLATE), None),
        (obj("AIMService", "s", SERVICE), ns),
        (obj("AIMTemplateCache", "tc", {"templateName": "t", "templateScope": "Namespace"}), ns),
        (obj("AIMArtifact", "a", {"sourceUri": "hf://org/model"}), ns),
        (obj("AIMRuntimeConfig", "default", {"routing": {"enabled": False}}), ns),
        (obj("AIMClusterRuntimeConfig", "rc-" + suffix, {"storage": {}}), None),
        (obj("AIMClusterModelSource", "src-" + suffix, {"filters": [{"image": "amd/*"}]}), None),
        (obj("AIMClusterArtifactDownloader", "dl-" + suffix,
             {"image": "example.com/dl:1", "schemes": ["mlflow"]}), None),
    ]
    for o, namespace in objs:
        apply(o, namespace)
    return objs


def cleanup_cluster_scoped(objs):
    for o, namespace in objs:
        if namespace is None:
            kubectl("delete", o["kind"].lower(), o["metadata"]["name"], "--wait=false",
                    check=False)


def test_kubectl_get_aim_lists_all_kinds_with_columns(ns):
    objs = one_of_each(ns)
    try:
        out = kubectl("get", "aim", "-A").stdout
        for kind, (plural, _, columns) in AIM_KINDS.items():
            assert f"{kind.lower()}.{GROUP}/" in out, f"{kind} missing from `kubectl get aim`"
        for kind, (plural, namespaced, columns) in AIM_KINDS.items():
            args = ["get", plural] + (["-A"] if namespaced else [])
            header = kubectl(*args).stdout.splitlines()[0]
            for c in columns:
                assert c in header, f"{kind}: column {c} missing from {header!r}"
        wide = kubectl("get", "aimartifacts", "-n", ns, "-o", "wide").stdout.splitlines()[0]
        assert "PROTOCOL" in wide and "ATTEMPT" in wide
        short = kubectl("get", "aimsvc,aimtpl,aimart,aimtc,aimmdl,aimrc", "-n", ns).stdout
        assert "aimservice" in short.lower()
    finally:
        cleanup_cluster_scoped(objs)


def test_kubectl_explain_shows_our_descriptions():
    out = kubectl("explain", "aimservice.spec.overrides").stdout
    assert "Per-service overrides of template parameters" in out
    assert "metric" in out and "precision" in out and "hardware" in out
    out = kubectl("explain", "aimartifact.spec.revision").stdout
    assert "[aim-engine extension]" in out


def test_objects_read_back_round_trip_through_our_decoder(ns):
    objs = one_of_each(ns)
    try:
        for kind, (plural, namespaced, _) in AIM_KINDS.items():
            args = ["get", plural, "-o", "json"] + (["-n", ns] if namespaced else [])
            listing = kubectl(*args).stdout
            p = subprocess.run([crdgen(), "roundtrip"], input=listing, capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 0, f"{kind}: {p.stderr}"
            assert p.stdout.strip(), f"{kind}: nothing decoded"
    finally:
        cleanup_cluster_scoped(objs)
