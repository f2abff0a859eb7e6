#!/usr/bin/env python3
"""A stand-in for the runtime inside AMD AIM model images, for clusters without GPUs.

Real AIM images (e.g. amdenterpriseai/aim-qwen-qwen3-32b) carry OCI labels that describe the
model, answer `dry-run --format=json` with the profile a discovery Job reads back, and serve an
OpenAI-compatible API on port 8000 from the weights the operator mounts at
/workspace/cache/<modelId>. This program does the same three things without a GPU or a network:
it never loads a model, it answers with deterministic text, and it reports what it found in the
cache (path, size, sha256 of every file) so tests can check the operator's caching end to end.

Standard library only (Python 3.11, Debian bookworm's python3), so it can be an image ENTRYPOINT.
See README.md beside this file for the contract: which parts mirror real AIM images and which are
simplifications.

Commands:
  dry-run [--format=json|text]   the discovery output (behavior.md §4.2), from AIM_GPU_MODEL,
                                 AIM_GPU_COUNT, AIM_METRIC, AIM_PRECISION, AIM_PROFILE_ID
  serve (or no command)          the OpenAI-compatible server on ${AIM_HOST:-0.0.0.0}:${AIM_PORT:-8000}
  labels                         the OCI and AIM labels the image should carry, as a JSON object
  profiles                       every profile this image knows, as a JSON array
"""
import argparse
import hashlib
import json
import logging
import os
import posixpath
import re
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "0.1.0"
LOG = logging.getLogger("aim-runtime")

# --------------------------------------------------------------------------------------------
# The model baked into the image, and the profiles it supports
# --------------------------------------------------------------------------------------------

DEFAULT_MODEL_ID = "aim-test/tiny-chat"
DEFAULT_SIZE_GB = 0.001
# GPU -> precisions, in preference order (the first is used when AIM_PRECISION is unset).
# fp4 needs CDNA4 hardware, so only MI355X has it, as on real images.
DEFAULT_SUPPORT = {"MI300X": ("fp8", "fp16"), "MI325X": ("fp8", "fp16"), "MI355X": ("fp8", "fp16", "fp4")}
DEFAULT_GPU_COUNTS = (1, 2, 4, 8)
METRICS = ("latency", "throughput")
# Keys the operator decodes from a recommendedDeployments entry (registry/image_metadata.cpp).
DEPLOYMENT_KEYS = ("gpuModel", "gpuCount", "precision", "metric", "profileId", "description")


class ConfigError(Exception):
    """A setting of the image or of the pod that a real image would also refuse."""


def env(name, default=""):
    value = os.environ.get(name, "")
    return value.strip() if value.strip() else default


def env_seconds(name, default):
    raw = env(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative")
    return value


def normalize_gpu(name):
    """'Instinct-MI325X' -> 'MI325X', 'amd mi300x' -> 'MI300X' (close to the operator's rule)."""
    tokens = [t for t in re.split(r"[-\s/:]+", name.strip().upper().replace("_", "-")) if t]
    for t in tokens:
        if t in ("AMD", "INSTINCT"):
            continue
        if t.startswith("INSTINCT"):
            t = t[len("INSTINCT"):]
        if re.match(r"^(MI|RX|W|V)\d", t):
            return t
    return tokens[0] if tokens else ""


@dataclass(frozen=True)
class ImageModel:
    model_id: str
    source: str
    size_gb: float

    @property
    def family(self):
        explicit = env("AIM_STANDIN_MODEL_FAMILY")
        if explicit:
            return explicit
        m = re.match(r"[A-Za-z]+", self.model_id.rsplit("/", 1)[-1])
        return m.group(0).lower() if m else "model"


def image_model():
    model_id = env("AIM_STANDIN_MODEL_ID", DEFAULT_MODEL_ID)
    source = env("AIM_STANDIN_MODEL_SOURCE", "hf://" + model_id)
    raw_size = env("AIM_STANDIN_MODEL_SIZE_GB", str(DEFAULT_SIZE_GB))
    try:
        size_gb = float(raw_size)
    except ValueError:
        raise ConfigError(f"AIM_STANDIN_MODEL_SIZE_GB={raw_size!r} is not a number") from None
    if not size_gb > 0:
        raise ConfigError(f"AIM_STANDIN_MODEL_SIZE_GB={raw_size!r} must be positive")
    if "://" not in source:
        raise ConfigError(f"AIM_STANDIN_MODEL_SOURCE={source!r} is not a URI (hf://org/name, s3://...)")
    return ImageModel(model_id, source, size_gb)


def support_table():
    """AIM_STANDIN_SUPPORT='MI300X=fp8,fp16;MI355X=fp8,fp4' replaces the built-in table."""
    raw = env("AIM_STANDIN_SUPPORT")
    if not raw:
        return dict(DEFAULT_SUPPORT)
    table = {}
    for entry in filter(None, (e.strip() for e in raw.split(";"))):
        gpu, sep, precisions = entry.partition("=")
        names = tuple(p.strip().lower() for p in precisions.split(",") if p.strip())
        if not sep or not normalize_gpu(gpu) or not names:
            raise ConfigError(f"AIM_STANDIN_SUPPORT entry {entry!r} is not GPU=precision[,precision...]")
        table[normalize_gpu(gpu)] = names
    if not table:
        raise ConfigError("AIM_STANDIN_SUPPORT lists no GPU")
    return table


def gpu_counts():
    raw = env("AIM_STANDIN_GPU_COUNTS")
    if not raw:
        return DEFAULT_GPU_COUNTS
    try:
        counts = tuple(sorted({int(c) for c in raw.split(",") if c.strip()}))
    except ValueError:
        raise ConfigError(f"AIM_STANDIN_GPU_COUNTS={raw!r} is not a list of integers") from None
    if not counts or counts[0] < 1:
        raise ConfigError(f"AIM_STANDIN_GPU_COUNTS={raw!r} must list positive integers")
    return counts


@dataclass(frozen=True)
class Profile:
    gpu: str
    gpu_count: int
    precision: str
    metric: str
    engine: str = "vllm"

    @property
    def id(self):
        return f"{self.engine}-{self.gpu.lower()}-{self.precision}-tp{self.gpu_count}-{self.metric}"

    @property
    def type(self):
        return env("AIM_STANDIN_PROFILE_TYPE", "optimized")


def all_profiles():
    """Every profile, best first: fewer GPUs, then latency before throughput, then the
    table's precision order."""
    table, counts = support_table(), gpu_counts()
    out = []
    for gpu, precisions in table.items():
        for count in counts:
            for metric in METRICS:
                for precision in precisions:
                    out.append(Profile(gpu, count, precision, metric))
    return out


def select_profiles(environ=None):
    """The profiles matching the pod's AIM_* env, best first. Raises ConfigError when none
    fits, with the message a user would need."""
    e = os.environ if environ is None else environ
    get = lambda k: (e.get(k) or "").strip()  # noqa: E731
    table, counts, profiles = support_table(), gpu_counts(), all_profiles()

    profile_id = get("AIM_PROFILE_ID")
    if profile_id:
        for p in profiles:
            if p.id == profile_id:
                return [p]
        known = ", ".join(p.id for p in profiles[:6])
        raise ConfigError(f"unknown profile id {profile_id!r} (this image has {len(profiles)} "
                          f"profiles, e.g. {known})")

    gpu_env = get("AIM_GPU_MODEL")
    gpu = normalize_gpu(gpu_env) if gpu_env else next(iter(table))
    if gpu not in table:
        raise ConfigError(f"GPU model {gpu_env!r} is not supported by this image "
                          f"(supported: {', '.join(table)})")
    count = None
    if get("AIM_GPU_COUNT"):
        try:
            count = int(get("AIM_GPU_COUNT"))
        except ValueError:
            raise ConfigError(f"AIM_GPU_COUNT={get('AIM_GPU_COUNT')!r} is not an integer") from None
        if count not in counts:
            raise ConfigError(f"no profile for {count} x {gpu} (supported GPU counts: "
                              f"{', '.join(map(str, counts))})")
    metric = get("AIM_METRIC").lower() or None
    if metric and metric not in METRICS:
        raise ConfigError(f"metric {metric!r} is not supported (supported: {', '.join(METRICS)})")
    precision = get("AIM_PRECISION").lower() or None
    if precision == "auto":
        precision = None
    if precision and precision not in table[gpu]:
        raise ConfigError(f"precision {precision!r} is not supported on {gpu} "
                          f"(supported: {', '.join(table[gpu])})")
    return [p for p in profiles
            if p.gpu == gpu and (count is None or p.gpu_count == count)
            and (metric is None or p.metric == metric)
            and (precision is None or p.precision == precision)]


def discovery_result(profile, model):
    """One element of the dry-run array (behavior.md §4.2 "Output JSON format")."""
    engine_args = {
        "distributed_executor_backend": "mp",
        "gpu-memory-utilization": 0.95,
        "max-model-len": 32768,
        "tensor-parallel-size": profile.gpu_count,
    }
    if profile.precision in ("fp8", "fp4"):
        engine_args["kv-cache-dtype"] = "fp8"
    return {
        "filename": f"profiles/{model.model_id}/{profile.id}.yaml",
        "profile": {
            "model": model.model_id,
            "quantized_model": "",
            "metadata": {
                "engine": profile.engine,
                "gpu": profile.gpu,
                "precision": profile.precision,
                "gpu_count": profile.gpu_count,
                "metric": profile.metric,
                "type": profile.type,
                # Present in real profile YAML; the operator ignores it.
                "manual_selection_only": False,
            },
            "engine_args": engine_args,
            "env_vars": {
                "HIP_FORCE_DEV_KERNARG": "1",
                "TORCH_BLAS_PREFER_HIPBLASLT": "1",
                "VLLM_DO_NOT_TRACK": "1",
                "VLLM_USE_TRITON_FLASH_ATTN": "0",
            },
        },
        "models": [{"name": model.model_id, "source": model.source, "size_gb": model.size_gb}],
    }


# --------------------------------------------------------------------------------------------
# dry-run
# --------------------------------------------------------------------------------------------

def cmd_dry_run(args):
    noise = env("AIM_STANDIN_NOISE", "1") != "0"

    def say(line):
        # Lines a real image prints whatever AIM_LOG_LEVEL says (banners, third-party output);
        # the operator has to find the JSON among them.
        if noise:
            print(line, flush=True)

    try:
        model = image_model()
        say(f"aim-runtime {VERSION} (stand-in) dry-run for {model.model_id}")
        gpu_env = env("AIM_GPU_MODEL")
        say(f"[INFO] accelerator: no GPU visible; using {'AIM_GPU_MODEL=' + gpu_env if gpu_env else 'the default GPU'}")
        say(f"[INFO] loaded {len(all_profiles())} profiles [engine=vllm]")
        chosen = select_profiles()
    except ConfigError as err:
        print(f"ERROR: aim-runtime dry-run: {err}", file=sys.stderr, flush=True)
        return 1
    if not chosen:  # every filter passed on its own, but no profile has them all
        print("ERROR: aim-runtime dry-run: no profile matches "
              f"AIM_GPU_MODEL={env('AIM_GPU_MODEL')!r} AIM_GPU_COUNT={env('AIM_GPU_COUNT')!r} "
              f"AIM_METRIC={env('AIM_METRIC')!r} AIM_PRECISION={env('AIM_PRECISION')!r}",
              file=sys.stderr, flush=True)
        return 1
    best = chosen[0]
    say(f"[INFO] selected profile {best.id} [{best.gpu_count} x {best.gpu}, {best.precision}, "
        f"{best.metric}]; {len(chosen) - 1} other candidate(s)")
    results = [discovery_result(p, model) for p in chosen]
    if args.format == "text":
        print(f"{'PROFILE':40} {'GPU':8} {'COUNT':>5} {'PRECISION':9} {'METRIC':10} MODEL")
        for p in chosen:
            print(f"{p.id:40} {p.gpu:8} {p.gpu_count:>5} {p.precision:9} {p.metric:10} "
                  f"{model.model_id} ({model.source}, {model.size_gb:g} GB)")
    else:
        print(json.dumps(results, indent=2), flush=True)
    if env("AIM_STANDIN_TRAILING_NOISE", "0") == "1":
        print("[INFO] dry-run done [ok]", flush=True)
    return 0


def cmd_profiles(_args):
    try:
        model = image_model()
        out = [dict(discovery_result(p, model), profile_id=p.id) for p in all_profiles()]
    except ConfigError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------

def default_deployments(table):
    """As on real images: the first GPU, one GPU, the preferred precision, both metrics."""
    gpu = next(iter(table))
    precision = table[gpu][0]
    return [{"gpuModel": gpu, "gpuCount": 1, "precision": precision, "metric": metric,
             "description": f"Optimized for {metric} on {gpu} using {precision} precision"}
            for metric in METRICS]


def recommended_deployments():
    table = support_table()
    raw = env("AIM_STANDIN_RECOMMENDED")
    if not raw:
        return default_deployments(table)
    try:
        deployments = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"AIM_STANDIN_RECOMMENDED is not JSON: {err}") from None
    if not isinstance(deployments, list) or not all(isinstance(d, dict) for d in deployments):
        raise ConfigError("AIM_STANDIN_RECOMMENDED must be a JSON array of objects")
    counts = gpu_counts()
    ids = {p.id for p in all_profiles()}
    for i, d in enumerate(deployments):
        unknown = set(d) - set(DEPLOYMENT_KEYS)
        if unknown:
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}] has unknown keys {sorted(unknown)}")
        gpu = normalize_gpu(str(d.get("gpuModel", "")))
        if "gpuModel" in d and gpu not in table:
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}]: GPU {d['gpuModel']!r} is not supported")
        if "gpuCount" in d and (type(d["gpuCount"]) is not int or d["gpuCount"] not in counts):
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}]: gpuCount {d['gpuCount']!r} is not one of {counts}")
        if "precision" in d and gpu in table and d["precision"] not in table[gpu]:
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}]: {d['precision']!r} is not supported on {gpu}")
        if "metric" in d and d["metric"] not in METRICS:
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}]: metric {d['metric']!r} is not supported")
        if "profileId" in d and d["profileId"] not in ids:
            raise ConfigError(f"AIM_STANDIN_RECOMMENDED[{i}]: unknown profileId {d['profileId']!r}")
    return deployments


def python_repr_deployments(deployments):
    """The label format of real images: Python dict reprs joined by ', ', no outer brackets
    ("{'gpuModel': 'MI300X', 'gpuCount': 1, ...}, {...}"). The operator replaces every ' with "
    and wraps the text in [...], so no value may contain a quote or a backslash."""
    parts = []
    for d in deployments:
        items = []
        for key in DEPLOYMENT_KEYS:
            if key not in d:
                continue
            value = d[key]
            if isinstance(value, str):
                if any(c in value for c in "'\"\\"):
                    raise ConfigError(f"recommended deployment {key}={value!r} contains a quote or "
                                      "backslash, which the operator's label parser cannot read")
                rendered = "'" + value + "'"
            elif type(value) is int:
                rendered = str(value)
            else:
                raise ConfigError(f"recommended deployment {key}={value!r} must be a string or an integer")
            items.append(f"'{key}': {rendered}")
        parts.append("{" + ", ".join(items) + "}")
    text = ", ".join(parts)
    # The operator's reading (registry/image_metadata.cpp) must give the deployments back.
    decoded = json.loads("[" + text.replace("'", '"') + "]")
    assert decoded == [{k: d[k] for k in DEPLOYMENT_KEYS if k in d} for d in deployments], text
    return text


def build_labels():
    """Facts of the build, not of the model: emitted only when the build passes them, so a
    build script that merges its own OCI labels under these keeps its values."""
    out = {}
    epoch = env("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            stamp = datetime.fromtimestamp(int(epoch), timezone.utc)
        except ValueError:
            raise ConfigError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
        out["org.opencontainers.image.created"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif env("AIM_STANDIN_CREATED"):
        out["org.opencontainers.image.created"] = env("AIM_STANDIN_CREATED")
    if env("AIM_STANDIN_REVISION"):
        out["org.opencontainers.image.revision"] = env("AIM_STANDIN_REVISION")
    version = env("AIM_STANDIN_IMAGE_VERSION") or env("AIM_STANDIN_VERSION")
    if version:
        out["org.opencontainers.image.version"] = version
    return out


def image_labels():
    model = image_model()
    deployments = recommended_deployments()
    source = model.source
    if source.startswith("hf://"):
        # Real images point at the model card, not at the download URI.
        source = "https://huggingface.co/" + source[len("hf://"):]
    source = env("AIM_STANDIN_MODEL_SOURCE_URL", source)
    description = env("AIM_STANDIN_DESCRIPTION",
                      f"AIM runtime stand-in for {model.model_id}: the AIM image contract "
                      "without a GPU (deterministic answers, no real inference)")
    hf_token = env("AIM_STANDIN_HF_TOKEN_REQUIRED", "False")
    if hf_token not in ("True", "False"):
        raise ConfigError(f"AIM_STANDIN_HF_TOKEN_REQUIRED={hf_token!r} must be True or False")
    labels = {
        "org.opencontainers.image.title": model.model_id,
        "org.opencontainers.image.description": description,
        "org.opencontainers.image.licenses": env("AIM_STANDIN_LICENSES", "Apache-2.0"),
        "org.opencontainers.image.vendor": env("AIM_STANDIN_VENDOR", "aim-engine test images"),
        "org.opencontainers.image.authors": env("AIM_STANDIN_AUTHORS", ""),
        "org.opencontainers.image.source": env("AIM_STANDIN_SOURCE_REPO", "aim-engine/test/images/aim-runtime"),
        "org.opencontainers.image.documentation": env("AIM_STANDIN_DOCUMENTATION", ""),
        "com.amd.aim.title": model.model_id,
        "com.amd.aim.description.full": description,
        "com.amd.aim.release.notes": env("AIM_STANDIN_RELEASE_NOTES", ""),
        "com.amd.aim.model.canonicalName": model.model_id,
        "com.amd.aim.model.source": source,
        "com.amd.aim.model.family": model.family,
        "com.amd.aim.model.tags": env("AIM_STANDIN_MODEL_TAGS", "text-generation, chat"),
        "com.amd.aim.model.variants": model.model_id,
        "com.amd.aim.hfToken.required": hf_token,
    }
    labels.update(build_labels())
    if deployments:
        labels["com.amd.aim.model.recommendedDeployments"] = python_repr_deployments(deployments)
    return dict(sorted(labels.items()))


def cmd_labels(_args):
    try:
        labels = image_labels()
    except ConfigError as err:
        print(f"ERROR: aim-runtime labels: {err}", file=sys.stderr)
        return 1
    print(json.dumps(labels, indent=2))
    return 0


# --------------------------------------------------------------------------------------------
# serve
# --------------------------------------------------------------------------------------------

# Written by downloaders beside the weights; listed, but left out of content_digest.
BOOKKEEPING_PREFIXES = (".cache/huggingface/", ".aim-fetch/")
AIM_FETCH_MANIFEST = ".aim-manifest.json"


def is_bookkeeping(path):
    return path == AIM_FETCH_MANIFEST or path.startswith(BOOKKEEPING_PREFIXES)


def content_digest(files):
    """aim-fetch's digest (fetch/manifest.cpp): sha256 over '<path>\\t<size>\\t<sha256>\\n' by path."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f["path"]):
        h.update(f"{f['path']}\t{f['size']}\t{f['sha256']}\n".encode())
    return "sha256:" + h.hexdigest()


def scan_cache(root):
    """Every regular file under root (symlinks followed), with size and sha256, by path."""
    files, errors, seen = [], [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            try:
                if not os.path.isfile(full):  # sockets, FIFOs, broken links
                    continue
                with open(full, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                    size = os.fstat(fh.fileno()).st_size
            except OSError as err:
                errors.append({"path": rel, "error": str(err)})
                continue
            files.append({"path": rel, "size": size, "sha256": digest})
    files.sort(key=lambda f: f["path"])
    return files, errors


def read_manifest(root, model_files):
    path = os.path.join(root, AIM_FETCH_MANIFEST)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as err:
        return {"present": True, "error": str(err)}
    digest = manifest.get("digest") if isinstance(manifest, dict) else None
    return {"present": True, "digest": digest, "uri": manifest.get("uri") if isinstance(manifest, dict) else None,
            "matches": digest == content_digest(model_files)}


class Runtime:
    """What the server knows: its configuration, the cache scan, and request counters."""

    def __init__(self):
        image = image_model()
        # Custom models run a base image with AIM_MODEL_ID naming the weights (behavior.md §4.9).
        self.model_id = env("AIM_MODEL_ID") or image.model_id
        self.source = image.source if self.model_id == image.model_id else None
        self.cache_root = env("AIM_CACHE_PATH", "/workspace/cache")
        # Where the operator mounts the artifact: /workspace/cache/<modelId>, '..' removed, cleaned.
        self.cache_dir = posixpath.normpath(posixpath.join(self.cache_root, self.model_id.replace("..", "")))
        raw_args = env("AIM_ENGINE_ARGS")
        try:
            self.engine_args = json.loads(raw_args) if raw_args else {}
        except json.JSONDecodeError as err:
            raise ConfigError(f"AIM_ENGINE_ARGS is not valid JSON: {err}") from None
        if not isinstance(self.engine_args, dict):
            raise ConfigError("AIM_ENGINE_ARGS must be a JSON object")
        served = self.engine_args.get("served-model-name") or self.engine_args.get("served_model_name")
        if isinstance(served, list):
            served = served[0] if served else None
        self.served_name = str(served) if served else self.model_id
        self.profile_env = {k: os.environ.get(k) or None for k in ("AIM_PROFILE_ID", "AIM_METRIC", "AIM_PRECISION")}
        self.validate_profile()
        max_len = self.engine_args.get("max-model-len", self.engine_args.get("max_model_len", 32768))
        self.max_model_len = max_len if type(max_len) is int else 32768
        self.created = int(time.time())
        self.ready_delay = env_seconds("AIM_STANDIN_READY_DELAY_SECONDS", 0)
        self.token_delay = env_seconds("AIM_STANDIN_TOKEN_DELAY_SECONDS", 0)
        self.shutdown_grace = env_seconds("AIM_STANDIN_SHUTDOWN_GRACE_SECONDS", 10)

        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.files, self.errors, self.manifest = [], [], None
        self.running = 0
        self.in_flight = 0
        self.success = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.idle = threading.Condition(self.lock)

    def validate_profile(self):
        """A real image refuses to start with a profile it does not have. The serving pod gets
        no AIM_GPU_MODEL, so the GPU is only checked when it is set."""
        p = self.profile_env
        if p["AIM_PROFILE_ID"]:
            select_profiles({"AIM_PROFILE_ID": p["AIM_PROFILE_ID"]})
            return
        metric = (p["AIM_METRIC"] or "").lower()
        if metric and metric not in METRICS:
            raise ConfigError(f"AIM_METRIC={p['AIM_METRIC']!r} is not supported (supported: {', '.join(METRICS)})")
        precision = (p["AIM_PRECISION"] or "").lower()
        gpu = env("AIM_GPU_MODEL")
        if gpu:
            select_profiles({"AIM_GPU_MODEL": gpu, "AIM_PRECISION": precision, "AIM_METRIC": metric})
        elif precision and precision != "auto" and not any(precision in v for v in support_table().values()):
            raise ConfigError(f"AIM_PRECISION={p['AIM_PRECISION']!r} is not supported by this image")

    def load(self):
        """Hash the cache once (in the background; /ready answers 503 until this is done)."""
        started = time.monotonic()
        if not os.path.isdir(self.cache_dir):
            LOG.warning("cache directory %s does not exist; serving %s without weights",
                        self.cache_dir, self.served_name)
            files, errors = [], []
        else:
            files, errors = scan_cache(self.cache_dir)
        model_files = [f for f in files if not is_bookkeeping(f["path"])]
        manifest = read_manifest(self.cache_dir, model_files) if os.path.isdir(self.cache_dir) else None
        for f in files:
            LOG.info("cache file %s (%d bytes) sha256=%s", f["path"], f["size"], f["sha256"])
        for e in errors:
            LOG.error("cannot read cache file %s: %s", e["path"], e["error"])
        if not files and os.path.isdir(self.cache_dir):
            LOG.warning("cache directory %s has no files; serving %s without weights",
                        self.cache_dir, self.served_name)
        LOG.info("hashed %d file(s), %d bytes, under %s in %.2fs; content digest %s",
                 len(files), sum(f["size"] for f in files), self.cache_dir,
                 time.monotonic() - started, content_digest(model_files))
        if manifest and manifest.get("matches") is False:
            LOG.warning("the files do not match %s (digest %s)", AIM_FETCH_MANIFEST, manifest.get("digest"))
        with self.lock:
            self.files, self.errors, self.manifest = files, errors, manifest
        if self.ready_delay > 0:
            time.sleep(self.ready_delay)
        self.ready.set()
        LOG.info("ready: serving %s", self.served_name)

    def model_card(self):
        with self.lock:
            files, errors, manifest = list(self.files), list(self.errors), self.manifest
        model_files = [f for f in files if not is_bookkeeping(f["path"])]
        return {
            "id": self.served_name,
            "object": "model",
            "created": self.created,
            "owned_by": "vllm",
            "root": self.cache_dir if files else self.model_id,
            "parent": None,
            "max_model_len": self.max_model_len,
            "aim": {
                "runtime": f"aim-runtime-standin/{VERSION}",
                "model_id": self.model_id,
                "source": self.source,
                "cache_dir": self.cache_dir,
                "files": files,
                "file_errors": errors,
                "total_bytes": sum(f["size"] for f in files),
                "content_digest": content_digest(model_files),
                "manifest": manifest,
                "profile_id": self.profile_env["AIM_PROFILE_ID"],
                "metric": self.profile_env["AIM_METRIC"],
                "precision": self.profile_env["AIM_PRECISION"],
                "engine_args": self.engine_args,
            },
        }

    # A request is "running" (the metric) until its generation is done, and "in flight" (what a
    # graceful shutdown waits for) until its response is written.
    def begin(self):
        with self.lock:
            self.running += 1
            self.in_flight += 1

    def end(self, prompt_tokens, completion_tokens, ok):
        with self.lock:
            self.running -= 1
            if ok:
                self.success += 1
                self.prompt_tokens += prompt_tokens
                self.generation_tokens += completion_tokens

    def written(self):
        with self.lock:
            self.in_flight -= 1
            self.idle.notify_all()

    def wait_idle(self, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.in_flight > 0 and time.monotonic() < deadline:
                self.idle.wait(max(0.0, deadline - time.monotonic()))
            return self.in_flight

    def metrics(self):
        label = '{model_name="%s"}' % self.served_name.replace("\\", "\\\\").replace('"', '\\"')
        with self.lock:
            rows = [
                ("vllm:num_requests_running", "gauge", "Number of requests currently running.", self.running),
                ("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", 0),
                ("vllm:request_success_total", "counter", "Count of successfully processed requests.", self.success),
                ("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", self.prompt_tokens),
                ("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.",
                 self.generation_tokens),
                ("aim_standin_cache_files", "gauge", "Files found under the model cache directory.", len(self.files)),
                ("aim_standin_ready", "gauge", "1 once the cache has been hashed.", int(self.ready.is_set())),
            ]
        out = []
        for name, kind, help_text, value in rows:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name}{label} {value}"]
        return "\n".join(out) + "\n"


def words(text):
    return text.split()


def message_text(content):
    """OpenAI message content: a string or a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def snippet(text, limit=200):
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


class ApiError(Exception):
    def __init__(self, status, message, kind="BadRequestError", param=None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


MAX_BODY = 16 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aim-runtime-standin/" + VERSION
    timeout = 300  # idle keep-alive connections do not pin a thread forever

    @property
    def rt(self):
        return self.server.runtime

    def log_message(self, fmt, *args):
        quiet = self.path in ("/health", "/healthz", "/ready", "/metrics")
        LOG.log(logging.DEBUG if quiet else logging.INFO, "%s %s", self.address_string(), fmt % args)

    # --- plumbing -------------------------------------------------------------------------

    def send_bytes(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj):
        self.send_bytes(status, json.dumps(obj).encode(), "application/json")

    def send_error_json(self, err):
        self.send_json(err.status, {"error": {"message": err.message, "type": err.kind,
                                              "param": err.param, "code": err.status}})

    def read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(411, "chunked request bodies are not supported; send Content-Length")
        try:
            n = int(length or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "invalid Content-Length") from None
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"request body over {MAX_BODY} bytes")
        return self.rfile.read(n) if n > 0 else b""

    def read_json(self):
        body = self.read_body()
        try:
            obj = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as err:
            raise ApiError(400, f"request body is not valid JSON: {err}") from None
        if not isinstance(obj, dict):
            raise ApiError(400, "request body must be a JSON object")
        return obj

    def require_ready(self):
        if not self.rt.ready.is_set():
            raise ApiError(503, "the model is still loading", "ServiceUnavailableError")

    def check_model(self, req):
        model = req.get("model")
        if model is not None and model != self.rt.served_name:
            raise ApiError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")

    def max_tokens(self, req):
        for key in ("max_completion_tokens", "max_tokens"):
            v = req.get(key)
            if v is None:
                continue
            if type(v) is not int or v < 1:
                raise ApiError(400, f"{key} must be a positive integer", param=key)
            return v
        return None

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        try:
            if path in ("/health", "/healthz"):  # liveness: up as soon as it listens
                self.send_json(200, {"status": "ok"})
            elif path == "/ready":
                if self.rt.ready.is_set():
                    self.send_json(200, {"status": "ready"})
                else:
                    self.send_json(503, {"status": "loading"})
            elif path == "/v1/models":
                self.require_ready()
                self.send_json(200, {"object": "list", "data": [self.rt.model_card()]})
            elif path == "/metrics":
                self.send_bytes(200, self.rt.metrics().encode(), "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/version":
                self.send_json(200, {"version": f"aim-runtime-standin/{VERSION}"})
            elif path in ("/v1/chat/completions", "/v1/completions"):
                raise ApiError(405, "Method Not Allowed", "MethodNotAllowed")
            else:
                self.send_json(404, {"detail": "Not Found"})
        except ApiError as err:
            self.send_error_json(err)

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            if path == "/v1/chat/completions":
                req = self.read_json()
                self.require_ready()
                self.chat(req)
            elif path == "/v1/completions":
                req = self.read_json()
                self.require_ready()
                self.completion(req)
            else:
                self.read_body()
                if path in ("/v1/models", "/health", "/healthz", "/ready", "/metrics"):
                    raise ApiError(405, "Method Not Allowed", "MethodNotAllowed")
                self.send_json(404, {"detail": "Not Found"})
        except ApiError as err:
            self.send_error_json(err)

    # --- OpenAI API -----------------------------------------------------------------------

    def chat(self, req):
        self.check_model(req)
        messages = req.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise ApiError(400, "messages must be a non-empty array of message objects", param="messages")
        last_user = next((message_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        said = snippet(last_user)
        reply = (f"Hello from {self.rt.served_name}, served by the AIM runtime stand-in. "
                 + (f"You said: {said}" if said else "You said nothing."))
        prompt_tokens = sum(len(words(message_text(m.get("content")))) for m in messages)
        self.generate("chat.completion", req, reply, prompt_tokens)

    def completion(self, req):
        self.check_model(req)
        prompt = req.get("prompt")
        if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            prompt = prompt[0]  # one choice; batched prompts are a simplification
        if not isinstance(prompt, str):
            raise ApiError(400, "prompt must be a string or an array of strings", param="prompt")
        said = snippet(prompt)
        reply = f" {self.rt.served_name} (AIM runtime stand-in) continues: {said}"
        self.generate("text_completion", req, reply, len(words(prompt)))

    def generate(self, kind, req, reply, prompt_tokens):
        limit = self.max_tokens(req)
        tokens = re.findall(r"\s*\S+", reply)
        finish = "stop"
        if limit is not None and len(tokens) > limit:
            tokens, finish = tokens[:limit], "length"
        text = "".join(tokens)
        prefix = "chatcmpl-" if kind == "chat.completion" else "cmpl-"
        rid = prefix + uuid.uuid4().hex
        created = int(time.time())
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens + len(tokens)}
        # A request stops "running" when its generation is done, as in vLLM, before the last bytes
        # go out: a client that has the whole answer never sees it still counted as running.
        self.rt.begin()
        ended = False

        def generated(ok):
            nonlocal ended
            if not ended:
                ended = True
                self.rt.end(usage["prompt_tokens"], usage["completion_tokens"], ok)

        try:
            if req.get("stream") is True:
                self.stream(kind, rid, created, tokens, finish, usage, req, generated)
            else:
                if self.rt.token_delay > 0:
                    time.sleep(self.rt.token_delay * len(tokens))
                if kind == "chat.completion":
                    choice = {"index": 0, "message": {"role": "assistant", "content": text},
                              "logprobs": None, "finish_reason": finish}
                else:
                    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
                generated(True)
                self.send_json(200, {"id": rid, "object": kind, "created": created,
                                     "model": self.rt.served_name, "choices": [choice], "usage": usage})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            LOG.info("client went away during %s %s", kind, rid)
        finally:
            generated(False)
            self.rt.written()

    def stream(self, kind, rid, created, tokens, finish, usage, req, generated):
        """Server-sent events as vLLM sends them, in chunked transfer encoding (HTTP/1.1)."""
        chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
        self.end_headers()

        def send(data):
            payload = b"data: " + data.encode() + b"\n\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload) if chunked else payload)
            self.wfile.flush()

        chunk_kind = "chat.completion.chunk" if kind == "chat.completion" else "text_completion"
        base = {"id": rid, "object": chunk_kind, "created": created, "model": self.rt.served_name}

        def choice(piece, reason=None, first=False):
            if kind == "chat.completion":
                delta = {"role": "assistant", "content": piece} if first else {"content": piece}
                return {"index": 0, "delta": delta if piece is not None else {}, "logprobs": None,
                        "finish_reason": reason}
            return {"index": 0, "text": piece or "", "logprobs": None, "finish_reason": reason}

        if kind == "chat.completion":
            send(json.dumps(dict(base, choices=[choice("", first=True)])))
        for piece in tokens:
            if self.rt.token_delay > 0:
                time.sleep(self.rt.token_delay)
            send(json.dumps(dict(base, choices=[choice(piece)])))
        generated(True)  # the last token is out; what follows is bookkeeping for the client
        send(json.dumps(dict(base, choices=[choice(None, finish)])))
        options = req.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            send(json.dumps(dict(base, choices=[], usage=usage)))
        send("[DONE]")
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def cmd_serve(_args):
    try:
        runtime = Runtime()
    except ConfigError as err:
        LOG.critical("cannot start: %s", err)
        print(f"ERROR: aim-runtime serve: {err}", file=sys.stderr, flush=True)
        return 1
    host = env("AIM_HOST", "0.0.0.0")
    raw_port = env("AIM_PORT", "8000")
    try:
        port = int(raw_port)
        httpd = Server((host, port), Handler)
    except (ValueError, OSError) as err:
        print(f"ERROR: aim-runtime serve: cannot listen on {host}:{raw_port}: {err}", file=sys.stderr, flush=True)
        return 1
    httpd.runtime = runtime
    LOG.info("aim-runtime %s (stand-in) serving %s; profile %s, metric %s, precision %s; cache %s",
             VERSION, runtime.served_name, *(runtime.profile_env[k] or "(unset)" for k in
                                              ("AIM_PROFILE_ID", "AIM_METRIC", "AIM_PRECISION")),
             runtime.cache_dir)
    LOG.info("listening on http://%s:%d", host, httpd.server_address[1])
    threading.Thread(target=runtime.load, name="cache-hash", daemon=True).start()

    stopping = threading.Event()

    def on_signal(signum, _frame):
        if stopping.is_set():
            return
        stopping.set()
        LOG.info("received %s; shutting down", signal.Signals(signum).name)
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
    grace = runtime.shutdown_grace
    left = runtime.wait_idle(grace)
    if left:
        LOG.warning("stopped with %d request(s) still running after %.0fs", left, grace)
    LOG.info("shutdown complete")
    logging.shutdown()
    return 0


# --------------------------------------------------------------------------------------------

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    level = logging.getLevelName(env("AIM_LOG_LEVEL", "INFO").upper())
    logging.basicConfig(stream=sys.stderr, level=level if isinstance(level, int) else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["serve"] + argv

    parser = argparse.ArgumentParser(prog="aim-runtime", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dry = sub.add_parser("dry-run", help="print the discovery output")
    dry.add_argument("--format", choices=("json", "text"), default="json")
    sub.add_parser("serve", help="serve the OpenAI-compatible API (the default)")
    sub.add_parser("labels", help="print the image labels as JSON")
    sub.add_parser("profiles", help="print every profile as JSON")
    args = parser.parse_args(argv)

    if args.command != "serve":
        # A short command interrupted by the kubelet just stops, without a traceback.
        signal.signal(signal.SIGTERM, lambda signum, _f: sys.exit(128 + signum))
    return {"dry-run": cmd_dry_run, "serve": cmd_serve, "labels": cmd_labels,
            "profiles": cmd_profiles}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
