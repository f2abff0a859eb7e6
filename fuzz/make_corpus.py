#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (fuzz/corpus/<name>/) from the repository's
fixtures: the string literals of the unit tests that exercise each parser, the seed examples and
samples (YAML, as JSON), the engine's golden service objects. Rerun after fixtures change;
scripts/fuzz.sh --merge adds what fuzzing found. Files are named by their sha1, as libFuzzer
names its own, so a rerun only adds what is new."""
import hashlib
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
MAX_SEED = 16 * 1024


def literals(rel):
    """Every C++ string literal of a source file (adjacent literals joined), unescaped."""
    src = (ROOT / rel).read_text()
    out, i, n, pending, last_end = [], 0, len(src), None, 0
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
            continue
        if src.startswith("/*", i):
            i = src.find("*/", i) + 2
            continue
        if c == "'":
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            continue
        if src.startswith('R"', i) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            open_paren = src.find("(", i)
            delim = src[i + 2:open_paren]
            end = src.find(")" + delim + '"', open_paren)
            text, j = src[open_paren + 1:end], end + len(delim) + 2
        elif c == '"':
            j, buf = i + 1, []
            while src[j] != '"':
                if src[j] == "\\":
                    buf.append(src[j:j + 2])
                    if src[j + 1] in "xu" or src[j + 1].isdigit():
                        k = j + 2
                        while k < n and src[k] in "0123456789abcdefABCDEF" and k - j < 6:
                            buf[-1] += src[k]
                            k += 1
                        j = k
                    else:
                        j += 2
                else:
                    buf.append(src[j])
                    j += 1
            text = "".join(buf).encode("latin-1", "backslashreplace").decode("unicode_escape")
            j += 1
        else:
            i += 1
            continue
        if pending is not None and src[last_end:i].strip() == "":
            pending += text
        else:
            if pending is not None:
                out.append(pending)
            pending = text
        last_end = i = j
    if pending is not None:
        out.append(pending)
    return out


def yaml_docs(pattern):
    docs = []
    for path in sorted(ROOT.glob(pattern)):
        for d in yaml.safe_load_all(path.read_text()):
            if d is not None:
                docs.append(json.dumps(d, sort_keys=True, default=str))
    return docs


def is_json(text, kind=None):
    try:
        v = json.loads(text)
    except ValueError:
        return False
    return kind is None or isinstance(v, kind)


corpora = {}


def add(name, seeds, mode=None):
    bucket = corpora.setdefault(name, {})
    for s in seeds:
        data = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        if mode is not None:
            data = bytes([mode]) + data
        if 0 < len(data) <= MAX_SEED:
            bucket[hashlib.sha1(data).hexdigest()] = data


def short(lits):
    return [s for s in lits if s and "\n" not in s and len(s) < 200]


# --- api_objects: every AIM object of the seed examples and samples, the golden services -------
objects = yaml_docs("api/testdata/seed-examples/*.yaml") + yaml_docs("deploy/samples/*.yaml")
objects += [p.read_text() for p in sorted(ROOT.glob("engine/testdata/service/*.json"))]
k8s = [s for f in ("api/k8s_views_test.cpp", "api/codec_test.cpp", "kube/store_test.cpp")
       for s in literals(f) if is_json(s, (dict, list))]
add("api_objects", objects + k8s)

# --- watch_stream: event lines of those objects, a Status ERROR, the unit tests' streams ----
status = '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource ' \
         'version: 1 (2)","reason":"Expired","code":410}'
events = []
for i, o in enumerate(objects[:12]):
    kind = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"][i % 4]
    events.append('{"type":"%s","object":%s}\n' % (kind, json.dumps(json.loads(o))))
events.append("".join(events[:3]) + '{"type":"ERROR","object":%s}\n' % status)
events += [s for s in literals("kube/watch_stream_test.cpp") + literals("kube/error_test.cpp")
           if "{" in s]
for chunk in (3, 17, 63):
    add("watch_stream", events, mode=chunk)

# --- kubeconfig: the config tests' kubeconfigs and ExecCredentials ---------------------------
config_lits = literals("kube/config_test.cpp")
add("kubeconfig", [s for s in config_lits if "clusters" in s or "contexts" in s], mode=0)
add("kubeconfig", [s for s in config_lits if "ExecCredential" in s] + [
    '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":'
    '{"token":"t0k","expirationTimestamp":"2026-12-07T10:00:00Z"}}',
    '{"kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----",'
    '"clientKeyData":"-----BEGIN PRIVATE KEY-----"}}'], mode=1)

# --- discovery_output: the discovery tests' pod logs ---------------------------------------
add("discovery_output", [s for s in literals("engine/discovery_output_test.cpp") if "[" in s])

# --- registry_manifest: an index -> manifest -> config chain, manifests, tag pages, labels ---
md_lits = literals("registry/image_metadata_test.cpp")
labels = [s for s in md_lits if is_json(s, dict)] + [json.dumps({
    "com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B",
    "com.amd.aim.model.recommendedDeployments":
        "{'gpuModel': 'MI300X', 'gpuCount': 1, 'precision': 'fp8', 'metric': 'latency'}",
    "org.opencontainers.image.version": "0.8.4"})]
OCI_INDEX, OCI_MANIFEST = ("application/vnd.oci.image.index.v1+json",
                           "application/vnd.oci.image.manifest.v1+json")
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
chains = []
for lab in labels[:6]:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": json.loads(lab)}})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "@2", "size": len(config)}, "layers": []})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"digest": "@1", "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": "@1", "platform": {"os": "linux", "architecture": "amd64"}}]})
    chains.append("\n--\n".join([OCI_INDEX + "\n" + index, OCI_MANIFEST + "\n" + manifest,
                                 "\n" + config]))
    chains.append("\n--\n".join([DOCKER_MANIFEST + "\n" + manifest.replace("@2", "@1"),
                                 "\n" + config]))
add("registry_manifest", chains, mode=0)
add("registry_manifest", [c.split("\n--\n")[0] for c in chains[:4]] +
    ['404 application/json\n{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}'],
    mode=1)
add("registry_manifest", ['</v2/fuzz/img/tags/list?page=1>; rel="next"\n{"name":"fuzz/img",'
                          '"tags":["0.8.4","latest"]}\n--\n\n{"tags":["0.9.0-rc.1"]}',
                          '\n{"name":"fuzz/img","tags":null}'], mode=2)
add("registry_manifest", labels + [s for s in md_lits if "gpuModel" in s], mode=3)

# --- registry_auth: challenges, token answers, docker configs, server keys ----------------
auth_lits = literals("registry/auth_test.cpp")
add("registry_auth", [s for s in auth_lits if "realm" in s] +
    ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:library/nginx:pull", Basic realm="x"'], mode=0)
add("registry_auth", [s for s in auth_lits if "token" in s and is_json(s, dict)] +
    ['{"token":"abc","expires_in":300,"issued_at":"2026-12-07T06:00:00Z"}',
     '{"access_token":"abc"}'], mode=1)
add("registry_auth", [s for s in auth_lits if "auths" in s], mode=2)
add("registry_auth", [s for s in auth_lits if is_json(s, dict) and "auths" not in s], mode=3)
add("registry_auth", [s for s in short(auth_lits) if "." in s or ":" in s], mode=4)

# --- image_reference: references and filters of the reference and source-filter tests ------
add("image_reference", short(literals("registry/reference_test.cpp")) +
    short(literals("engine/source_filter_test.cpp")) +
    ["ghcr.io/amd/*\nghcr.io/amd/aim-llama:1.0"])

# --- hf_listing and s3_listing: the sources tests' answers -----------------------------
src_lits = literals("fetch/sources_test.cpp")
add("hf_listing", [s for s in src_lits if "siblings" in s or '"sha"' in s] + [json.dumps({
    "id": "org/model", "sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [
        {"rfilename": "config.json", "size": 12, "blobId": "a" * 40},
        {"rfilename": "model.safetensors", "size": 100, "blobId": "b" * 40,
         "lfs": {"sha256": "c" * 64, "size": 100, "pointerSize": 130}}]})])
add("s3_listing", [s for s in src_lits if "<" in s and ">" in s])

# --- ngc_answers: the NGC tests' answers and the test server's shapes (mode 0 token, 1 model
# info, 2 file listing page) -------------------------------------------------------------------
add("ngc_answers", [s for s in src_lits if '"token"' in s], mode=0)
add("ngc_answers", [s for s in src_lits if "latestVersionIdStr" in s], mode=1)
add("ngc_answers", [s for s in src_lits if "modelFiles" in s] + [json.dumps({
    "modelFiles": [{"path": "config.json", "sizeInBytes": 12, "sha256": "a" * 64},
                   {"path": "weights/model.safetensors", "sizeInBytes": 1 << 30}],
    "paginationInfo": {"index": 0, "size": 2, "totalPages": 1}})], mode=2)

# --- source_uri ------------------------------------------------------------------------
uri_lits = short(literals("fetch/uri_test.cpp"))
add("source_uri", [s for s in uri_lits if "://" in s], mode=0)
add("source_uri", [s for s in uri_lits if "://" not in s], mode=1)
add("source_uri", ["https://user:pw@cdn.example.com/a/b?X-Amz-Signature=1\n../c?d",
                   "http://127.0.0.1:8080/x\n//other/y", "https://h/p\nhttps://elsewhere/q"],
    mode=2)
add("source_uri", short(literals("fetch/failure_test.cpp")), mode=3)
ff = short(literals("fetch/file_filter_test.cpp"))
add("source_uri", ["\n".join([p] + ff[:8]) for p in ff], mode=4)

# --- quantity, chrono, semver, path_template, base64 --------------------------------------
q_lits = short(literals("engine/quantity_test.cpp"))
add("quantity", q_lits, mode=0)
add("quantity", [s for s in q_lits if is_json(s)] + ["16106127360", "1.5e9", '"16Gi"'], mode=1)
add("quantity", short(literals("engine/gpu_test.cpp")), mode=2)
c_lits = short(literals("core/chrono_test.cpp"))
for mode in (0, 1, 2):
    add("chrono", c_lits, mode=mode)
add("chrono", short(literals("engine/routing_test.cpp")), mode=3)
s_lits = short(literals("engine/semver_test.cpp")) + short(literals("engine/source_filter_test.cpp"))
add("semver", s_lits, mode=0)
add("semver", s_lits, mode=1)
add("semver", ["v1.2.3\n>=1.0\n<2.0.0", "0.8.4\n>=0.8", "1.0.0-rc.1\n!=1.x"], mode=2)
r_lits = literals("engine/routing_test.cpp")
add("path_template", [s for s in short(r_lits) if "{" in s or "/" in s], mode=0)
add("path_template", ['{"enabled":true,"gatewayRef":{"name":"gw","namespace":"gw"},'
                      '"pathTemplate":"/{.metadata.namespace}/{.metadata.name}",'
                      '"requestTimeout":"120s","annotations":{"a":"b"}}\n--\n'
                      '{"pathTemplate":"/x/{.metadata.labels[\'team\']}"}'], mode=1)
add("base64", short(literals("core/base64_test.cpp")) + short(literals("kube/config_test.cpp")))

total = 0
for name, seeds in sorted(corpora.items()):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    for sha, data in seeds.items():
        (d / sha).write_bytes(data)
        total += len(data)
    print(f"{name}: {len(seeds)} seeds")
print(f"total {total} bytes", file=sys.stderr)
