"""Tests for the AIM runtime stand-in (aim_runtime.py), run as a subprocess the way a container
runtime would: `python3 -m pytest test/images/aim-runtime`.

The dry-run and label checks read the output the way the operator does (ports of
engine/discovery_output.cpp and registry/image_metadata.cpp below), so a format drift that the
C++ side would reject fails here too.
"""
import hashlib
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("aim_runtime.py")
MODEL_ID = "aim-test/tiny-chat"

# The env a discovery pod gets (controllers/catalog/template_controller.cpp), in that order.
DISCOVERY_ENV = {"AIM_LOG_LEVEL_ROOT": "CRITICAL", "AIM_LOG_LEVEL": "CRITICAL"}


def base_env(**extra):
    """A clean env: nothing from the developer's shell leaks into the program."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_") and k != "SOURCE_DATE_EPOCH"}
    env.update({"AIM_STANDIN_MODEL_ID": MODEL_ID, "AIM_STANDIN_MODEL_SOURCE": f"hf://{MODEL_ID}",
                "AIM_STANDIN_MODEL_SIZE_GB": "0.001"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(*args, **env):
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=base_env(**env),
                          capture_output=True, text=True, timeout=30)


# --- ports of the operator's readers ------------------------------------------------------

def decode_array(text):
    """engine/discovery_output.cpp decode_array: a JSON array whose elements decode, else None."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if parsed is None:
        return []
    if not isinstance(parsed, list):
        return None
    for r in parsed:
        if r is not None and not decode_result_ok(r):
            return None
    return parsed


def decode_result_ok(r):
    """The type checks the C++ decoder makes (Go's encoding/json into the reference's structs)."""
    def opt(obj, key, kind):
        return obj.get(key) is None or isinstance(obj[key], kind) and not (kind is int and isinstance(obj[key], bool))
    if not isinstance(r, dict) or not opt(r, "filename", str) or not opt(r, "profile", dict):
        return False
    p = r.get("profile") or {}
    if not (opt(p, "model", str) and opt(p, "quantized_model", str) and opt(p, "metadata", dict)
            and opt(p, "engine_args", dict) and opt(p, "env_vars", dict)):
        return False
    m = p.get("metadata") or {}
    if not all(opt(m, k, str) for k in ("engine", "gpu", "precision", "metric", "type")) or not opt(m, "gpu_count", int):
        return False
    if not all(v is None or isinstance(v, str) for v in (p.get("env_vars") or {}).values()):
        return False
    models = r.get("models")
    if models is not None:
        if not isinstance(models, list):
            return False
        for mod in models:
            if mod is None:
                continue
            if not isinstance(mod, dict) or not opt(mod, "name", str) or not opt(mod, "source", str):
                return False
            if mod.get("size_gb") is not None and (not isinstance(mod["size_gb"], (int, float)) or isinstance(mod["size_gb"], bool)):
                return False
    return True


def reference_scan(log):
    """The whole log, else the rightmost '[' before the last ']' that gives a non-empty array
    (the reference operator's rule, behavior.md §4.2)."""
    results = decode_array(log)
    if results is None:
        end = log.rfind("]")
        for i in range(end, -1, -1):
            if log[i] != "[":
                continue
            candidate = decode_array(log[i:end + 1])
            if candidate:
                return candidate
    return results


def line_array_scan(log, max_closings=64):
    """This operator's extension: arrays that start a line, closed by one of the last ']'."""
    starts = [m.end() - 1 for m in re.finditer(r"(?m)^[ \t]*\[", log)]
    ends = [i for i, c in enumerate(log) if c == "]"][::-1][:max_closings]
    for end in ends:
        for start in reversed(starts):
            if start < end:
                candidate = decode_array(log[start:end + 1])
                if candidate:
                    return candidate
    return None


def parse_discovery_log(log, extension=True):
    """engine/discovery_output.cpp parse_discovery_output; returns element [0]."""
    results = reference_scan(log)
    if results is None and extension:
        results = line_array_scan(log)
    assert results, "the operator would find no discovery array in this log:\n" + log
    first = results[0]
    assert first.get("models"), "discovery output lists no model sources"
    assert all(m.get("source") for m in first["models"]), "a model source has no source URI"
    return first


def parse_recommended_deployments(text):
    """registry/image_metadata.cpp parse_recommended_deployments."""
    s = text.strip().replace("'", '"')
    if not s.startswith("["):
        s = "[" + s + "]"
    out = json.loads(s)
    assert isinstance(out, list)
    for d in out:
        assert isinstance(d, dict)
        for key in ("gpuModel", "precision", "metric", "profileId", "description"):
            assert d.get(key) is None or isinstance(d[key], str), (key, d)
        assert d.get("gpuCount") is None or type(d["gpuCount"]) is int
    return out


GO_PARSE_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
                 "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


# --- dry-run ------------------------------------------------------------------------------

def test_dry_run_json_matches_the_operator_parser():
    res = run("dry-run", "--format=json", **DISCOVERY_ENV, AIM_METRIC="latency", AIM_PRECISION="fp8",
              AIM_GPU_MODEL="MI300X", AIM_GPU_COUNT="1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert not lines[0].startswith("["), "expected log noise before the JSON"
    first = parse_discovery_log(res.stdout, extension=False)  # the reference's rule suffices
    meta = first["profile"]["metadata"]
    assert meta == {"engine": "vllm", "gpu": "MI300X", "precision": "fp8", "gpu_count": 1,
                    "metric": "latency", "type": "optimized", "manual_selection_only": False}
    assert first["profile"]["engine_args"]["tensor-parallel-size"] == 1
    assert first["models"] == [{"name": MODEL_ID, "source": f"hf://{MODEL_ID}", "size_gb": 0.001}]
    # status.modelSources size: int64(size_gb * 1024^3) bytes.
    assert int(first["models"][0]["size_gb"] * 1024 ** 3) == 1073741


@pytest.mark.parametrize("gpu,count,metric,precision", [
    ("MI325X", "8", "throughput", "fp16"),
    ("MI355X", "1", "latency", "fp4"),
    ("Instinct-MI300X", "2", "latency", "fp16"),
])
def test_dry_run_profile_follows_the_pod_env(gpu, count, metric, precision):
    res = run("dry-run", "--format=json", **DISCOVERY_ENV, AIM_METRIC=metric, AIM_PRECISION=precision,
              AIM_GPU_MODEL=gpu, AIM_GPU_COUNT=count)
    assert res.returncode == 0, res.stderr
    meta = parse_discovery_log(res.stdout)["profile"]["metadata"]
    assert (meta["gpu"], meta["gpu_count"], meta["metric"], meta["precision"]) == \
        (gpu.split("-")[-1], int(count), metric, precision)


def test_dry_run_without_gpu_env_lists_candidates_best_first():
    res = run("dry-run", "--format=json", **DISCOVERY_ENV)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout[res.stdout.index("\n[\n") + 1:])
    assert len(results) > 1
    assert parse_discovery_log(res.stdout)["profile"]["metadata"]["gpu_count"] == 1
    assert results[0]["profile"]["metadata"]["metric"] == "latency"
    assert {r["profile"]["metadata"]["gpu"] for r in results} == {"MI300X"}


def test_dry_run_profile_id_selects_one_profile():
    res = run("dry-run", "--format=json", AIM_PROFILE_ID="vllm-mi325x-fp16-tp4-throughput")
    assert res.returncode == 0, res.stderr
    first = parse_discovery_log(res.stdout)
    assert first["filename"].endswith("/vllm-mi325x-fp16-tp4-throughput.yaml")
    assert first["profile"]["metadata"]["gpu_count"] == 4


def test_dry_run_tolerates_trailing_noise_for_the_operator():
    res = run("dry-run", "--format=json", AIM_STANDIN_TRAILING_NOISE="1")
    assert res.returncode == 0
    assert res.stdout.rstrip().endswith("[ok]")
    # The reference's scan is lost by a ']' after the array; this operator's extension is not.
    # That is why trailing noise is off by default.
    assert reference_scan(res.stdout) is None
    assert parse_discovery_log(res.stdout)["models"][0]["name"] == MODEL_ID


def test_dry_run_without_noise_is_pure_json():
    res = run("dry-run", "--format=json", AIM_STANDIN_NOISE="0")
    assert res.returncode == 0
    assert isinstance(json.loads(res.stdout), list)


@pytest.mark.parametrize("env,message", [
    ({"AIM_GPU_MODEL": "MI300X", "AIM_PRECISION": "fp4"}, "precision 'fp4' is not supported on MI300X"),
    ({"AIM_GPU_MODEL": "MI250X", "AIM_PRECISION": "fp8"}, "GPU model 'MI250X' is not supported"),
    ({"AIM_GPU_MODEL": "MI300X", "AIM_GPU_COUNT": "3"}, "no profile for 3 x MI300X"),
    ({"AIM_GPU_COUNT": "two"}, "is not an integer"),
    ({"AIM_METRIC": "cost"}, "metric 'cost' is not supported"),
    ({"AIM_PROFILE_ID": "vllm-mi300x-fp4-tp1-latency"}, "unknown profile id"),
    ({"AIM_STANDIN_MODEL_SIZE_GB": "lots"}, "is not a number"),
    ({"AIM_STANDIN_SUPPORT": "MI300X=fp16", "AIM_PRECISION": "fp8"}, "precision 'fp8' is not supported on MI300X"),
])
def test_dry_run_refuses_unsupported_requests(env, message):
    res = run("dry-run", "--format=json", **DISCOVERY_ENV, **env)
    assert res.returncode != 0
    assert "ERROR" in res.stderr and message in res.stderr, res.stderr
    assert reference_scan(res.stdout) is None and line_array_scan(res.stdout) is None, \
        "no discovery array on failure"


def test_dry_run_text_format_and_bad_format():
    res = run("dry-run", "--format=text", AIM_GPU_MODEL="MI300X", AIM_METRIC="latency", AIM_PRECISION="fp16")
    assert res.returncode == 0
    assert "vllm-mi300x-fp16-tp1-latency" in res.stdout
    assert run("dry-run", "--format=yaml").returncode == 2


def test_precision_auto_means_the_preferred_one():
    res = run("dry-run", AIM_GPU_MODEL="MI355X", AIM_PRECISION="auto", AIM_GPU_COUNT="1", AIM_METRIC="latency")
    assert res.returncode == 0, res.stderr
    assert parse_discovery_log(res.stdout)["profile"]["metadata"]["precision"] == "fp8"


# --- labels -------------------------------------------------------------------------------

def test_labels_are_what_the_operator_reads():
    res = run("labels", SOURCE_DATE_EPOCH="1700000000")
    assert res.returncode == 0, res.stderr
    labels = json.loads(res.stdout)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    assert labels["com.amd.aim.model.canonicalName"] == MODEL_ID
    assert labels["com.amd.aim.model.source"] == f"https://huggingface.co/{MODEL_ID}"
    assert labels["com.amd.aim.model.family"] == "tiny"
    assert GO_PARSE_BOOL[labels["com.amd.aim.hfToken.required"]] is False
    assert labels["org.opencontainers.image.title"] == MODEL_ID
    assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    for name in ("title", "description", "licenses", "vendor", "authors", "source", "documentation"):
        assert f"org.opencontainers.image.{name}" in labels
    # Build facts only when the build gives them (deploy/images/build.sh merges its own under these).
    assert "org.opencontainers.image.revision" not in labels
    assert "org.opencontainers.image.version" not in labels
    raw = labels["com.amd.aim.model.recommendedDeployments"]
    assert raw.startswith("{'gpuModel': 'MI300X'"), "real images use Python dict reprs"
    deployments = parse_recommended_deployments(raw)
    assert [(d["gpuModel"], d["gpuCount"], d["precision"], d["metric"]) for d in deployments] == \
        [("MI300X", 1, "fp8", "latency"), ("MI300X", 1, "fp8", "throughput")]
    # Every recommended deployment must pass this image's own discovery.
    for d in deployments:
        res = run("dry-run", **DISCOVERY_ENV, AIM_METRIC=d["metric"], AIM_PRECISION=d["precision"],
                  AIM_GPU_MODEL=d["gpuModel"], AIM_GPU_COUNT=d["gpuCount"])
        assert res.returncode == 0, res.stderr
        meta = parse_discovery_log(res.stdout)["profile"]["metadata"]
        assert meta["type"] == "optimized"


def test_labels_follow_the_model_env():
    res = run("labels", AIM_STANDIN_MODEL_ID="Qwen/Qwen3-32B", AIM_STANDIN_MODEL_SOURCE="s3://bucket/qwen",
              AIM_STANDIN_HF_TOKEN_REQUIRED="True", AIM_STANDIN_IMAGE_VERSION="9.9.9",
              AIM_STANDIN_REVISION="abc123", AIM_STANDIN_CREATED="2025-01-02T03:04:05Z")
    labels = json.loads(res.stdout)
    assert labels["com.amd.aim.model.canonicalName"] == "Qwen/Qwen3-32B"
    assert labels["com.amd.aim.model.source"] == "s3://bucket/qwen"
    assert labels["com.amd.aim.model.family"] == "qwen"
    assert GO_PARSE_BOOL[labels["com.amd.aim.hfToken.required"]] is True
    assert labels["org.opencontainers.image.version"] == "9.9.9"
    assert labels["org.opencontainers.image.revision"] == "abc123"
    assert labels["org.opencontainers.image.created"] == "2025-01-02T03:04:05Z"
    assert "org.opencontainers.image.created" not in json.loads(run("labels").stdout)


def test_labels_recommended_override_is_checked_against_the_profiles():
    ok = run("labels", AIM_STANDIN_RECOMMENDED=json.dumps(
        [{"gpuModel": "MI355X", "gpuCount": 8, "precision": "fp4", "metric": "throughput",
          "profileId": "vllm-mi355x-fp4-tp8-throughput"}]))
    assert ok.returncode == 0, ok.stderr
    deployments = parse_recommended_deployments(json.loads(ok.stdout)["com.amd.aim.model.recommendedDeployments"])
    assert deployments == [{"gpuModel": "MI355X", "gpuCount": 8, "precision": "fp4", "metric": "throughput",
                            "profileId": "vllm-mi355x-fp4-tp8-throughput"}]
    for bad in ([{"gpuModel": "MI300X", "precision": "fp4"}],
                [{"gpuModel": "MI300X", "description": "the model's best"}],
                [{"gpuModel": "MI300X", "gpuCount": 3}],
                [{"gpuModel": "MI300X", "colour": "red"}]):
        res = run("labels", AIM_STANDIN_RECOMMENDED=json.dumps(bad))
        assert res.returncode != 0 and "ERROR" in res.stderr, bad
    assert "recommendedDeployments" not in run("labels", AIM_STANDIN_RECOMMENDED="[]").stdout


def test_profiles_command_lists_every_profile():
    res = run("profiles", AIM_STANDIN_SUPPORT="MI300X=fp16", AIM_STANDIN_GPU_COUNTS="1,8")
    assert res.returncode == 0, res.stderr
    ids = [p["profile_id"] for p in json.loads(res.stdout)]
    assert ids == ["vllm-mi300x-fp16-tp1-latency", "vllm-mi300x-fp16-tp1-throughput",
                   "vllm-mi300x-fp16-tp8-latency", "vllm-mi300x-fp16-tp8-throughput"]


# --- serve --------------------------------------------------------------------------------

class Served:
    """The program in serve mode on 127.0.0.1 with a port it picks itself."""

    def __init__(self, tmp_path, args=(), **env):
        self.lines = queue.Queue()
        self.log = []
        cmd = [sys.executable, str(SCRIPT), *args]
        self.proc = subprocess.Popen(cmd, env=base_env(AIM_HOST="127.0.0.1", AIM_PORT="0",
                                                       AIM_CACHE_PATH=str(tmp_path / "cache"), **env),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._pump, daemon=True).start()
        self.port = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.port is None:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        assert self.port, "server did not start:\n" + self.output()

    def _pump(self):
        for line in self.proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    def output(self):
        return "".join(self.log)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp, payload

    def get_json(self, path):
        resp, payload = self.request("GET", path)
        return resp.status, json.loads(payload) if payload else None

    def wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get_json("/ready")[0] == 200:
                return
            time.sleep(0.05)
        raise AssertionError("never ready:\n" + self.output())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def cache(tmp_path):
    """A model directory as the downloader leaves it on the PVC mounted at /workspace/cache/<modelId>."""
    root = tmp_path / "cache" / MODEL_ID
    (root / "tokenizer").mkdir(parents=True)
    files = {
        "config.json": b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}\n',
        "model.safetensors": os.urandom(300 * 1024),
        "tokenizer/tokenizer.json": b'{"version": "1.0"}\n',
    }
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    return files


@pytest.fixture
def served(tmp_path):
    servers = []

    def start(*args, **env):
        s = Served(tmp_path, args, **env)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


def test_serve_reports_the_cache_and_answers_openai_requests(served, cache, tmp_path):
    s = served("serve", AIM_PROFILE_ID="vllm-mi300x-fp8-tp1-latency", AIM_METRIC="latency",
               AIM_PRECISION="fp8", AIM_ENGINE_ARGS='{"max-model-len": 4096}',
               AIM_STANDIN_READY_DELAY_SECONDS="1.0")
    assert s.get_json("/health")[0] == 200
    assert s.get_json("/healthz")[0] == 200
    assert s.get_json("/ready")[0] == 503, "not ready before the files are hashed"
    assert s.get_json("/v1/models")[0] == 503
    s.wait_ready()

    status, models = s.get_json("/v1/models")
    assert status == 200 and models["object"] == "list"
    card = models["data"][0]
    assert card["id"] == MODEL_ID and card["object"] == "model" and card["max_model_len"] == 4096
    aim = card["aim"]
    assert aim["cache_dir"] == str(tmp_path / "cache" / MODEL_ID)
    assert (aim["profile_id"], aim["metric"], aim["precision"]) == ("vllm-mi300x-fp8-tp1-latency", "latency", "fp8")
    assert aim["engine_args"] == {"max-model-len": 4096}
    assert [f["path"] for f in aim["files"]] == sorted(cache)
    for f in aim["files"]:
        data = cache[f["path"]]
        assert f["size"] == len(data)
        assert f["sha256"] == hashlib.sha256(data).hexdigest()
    assert aim["total_bytes"] == sum(len(d) for d in cache.values())

    resp, body = s.request("POST", "/v1/chat/completions", {
        "model": MODEL_ID, "messages": [{"role": "system", "content": "be brief"},
                                        {"role": "user", "content": "What is the capital of Finland?"}]})
    assert resp.status == 200, body
    chat = json.loads(body)
    assert chat["object"] == "chat.completion" and chat["model"] == MODEL_ID and chat["id"].startswith("chatcmpl-")
    choice = chat["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    assert MODEL_ID in content and "What is the capital of Finland?" in content
    assert chat["usage"]["total_tokens"] == chat["usage"]["prompt_tokens"] + chat["usage"]["completion_tokens"]

    # Deterministic: the same request gives the same text.
    again = json.loads(s.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "system", "content": "be brief"},
                     {"role": "user", "content": "What is the capital of Finland?"}]})[1])
    assert again["choices"][0]["message"]["content"] == content

    resp, body = s.request("POST", "/v1/completions", {"model": MODEL_ID, "prompt": "Once upon a time"})
    assert resp.status == 200
    completion = json.loads(body)
    assert completion["object"] == "text_completion"
    assert "Once upon a time" in completion["choices"][0]["text"]

    resp, body = s.request("GET", "/metrics")
    text = body.decode()
    assert resp.status == 200
    assert f'vllm:num_requests_running{{model_name="{MODEL_ID}"}} 0' in text
    assert re.search(r'vllm:request_success_total\{model_name="[^"]+"\} 3', text)

    assert s.stop() == 0
    assert "shutdown complete" in s.output()
    assert "model.safetensors" in s.output(), "the hashed files are logged"


def test_serve_streams_server_sent_events(served, cache):
    s = served()  # no command: serve, as the image ENTRYPOINT without args
    s.wait_ready()
    question = {"role": "user", "content": [{"type": "text", "text": "stream"}, {"type": "text", "text": "please"}]}
    plain = json.loads(s.request("POST", "/v1/chat/completions", {"messages": [question]})[1])
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("POST", "/v1/chat/completions",
                 json.dumps({"model": MODEL_ID, "messages": [question], "stream": True,
                             "stream_options": {"include_usage": True}}),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    events = [line[len("data: "):] for line in resp.read().decode().split("\n\n") if line.startswith("data: ")]
    conn.close()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == MODEL_ID for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == plain["choices"][0]["message"]["content"]
    assert "stream please" in text
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0

    # Completions stream too, and the connection stays usable (chunked encoding, keep-alive).
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    for _ in range(2):
        conn.request("POST", "/v1/completions", json.dumps({"prompt": "hi", "stream": True, "max_tokens": 2}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        events = [e[6:] for e in resp.read().decode().split("\n\n") if e.startswith("data: ")]
        assert events[-1] == "[DONE]"
        parts = [json.loads(e)["choices"][0] for e in events[:-1]]
        assert len([p for p in parts if p["text"]]) == 2 and parts[-1]["finish_reason"] == "length"
    conn.close()


def test_serve_errors_look_like_openai_errors(served, cache):
    s = served("serve")
    s.wait_ready()
    resp, body = s.request("POST", "/v1/chat/completions", {"model": "other/model", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status == 404 and json.loads(body)["error"]["param"] == "model"
    resp, body = s.request("POST", "/v1/chat/completions", b"{not json")
    assert resp.status == 400 and "error" in json.loads(body)
    resp, body = s.request("POST", "/v1/chat/completions", {"messages": []})
    assert resp.status == 400
    resp, _ = s.request("GET", "/v1/chat/completions")
    assert resp.status == 405
    resp, _ = s.request("GET", "/nothing-here")
    assert resp.status == 404
    resp, body = s.request("POST", "/v1/chat/completions",
                           {"messages": [{"role": "user", "content": "one two three four five six seven"}], "max_tokens": 3})
    chat = json.loads(body)
    assert chat["choices"][0]["finish_reason"] == "length" and chat["usage"]["completion_tokens"] == 3


def test_serve_without_files_still_answers_and_warns(served, tmp_path):
    (tmp_path / "cache" / MODEL_ID).mkdir(parents=True)
    s = served("serve")
    s.wait_ready()
    status, models = s.get_json("/v1/models")
    assert status == 200 and models["data"][0]["aim"]["files"] == []
    assert "WARNING" in s.output() and "has no files" in s.output()


def test_serve_custom_model_and_served_name(served, tmp_path):
    """A custom model runs a base image with AIM_MODEL_ID; vLLM's served-model-name renames it."""
    root = tmp_path / "cache" / "my-org" / "fine-tuned"
    root.mkdir(parents=True)
    (root / "weights.bin").write_bytes(b"abc")
    (root / ".cache" / "huggingface").mkdir(parents=True)
    (root / ".cache" / "huggingface" / "weights.bin.metadata").write_bytes(b"meta")
    s = served("serve", AIM_MODEL_ID="my-org/fine-tuned", AIM_ENGINE_ARGS='{"served-model-name": "chat"}')
    s.wait_ready()
    card = s.get_json("/v1/models")[1]["data"][0]
    assert card["id"] == "chat" and card["aim"]["model_id"] == "my-org/fine-tuned"
    paths = [f["path"] for f in card["aim"]["files"]]
    assert paths == [".cache/huggingface/weights.bin.metadata", "weights.bin"]
    # The content digest is aim-fetch's, over the weights only (not the downloader's bookkeeping).
    sha = hashlib.sha256(b"abc").hexdigest()
    assert card["aim"]["content_digest"] == "sha256:" + hashlib.sha256(f"weights.bin\t3\t{sha}\n".encode()).hexdigest()
    resp, body = s.request("POST", "/v1/chat/completions", {"model": "chat", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status == 200 and "chat" in json.loads(body)["choices"][0]["message"]["content"]


def test_serve_checks_the_aim_fetch_manifest(served, tmp_path):
    root = tmp_path / "cache" / MODEL_ID
    root.mkdir(parents=True)
    (root / "a.txt").write_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    digest = "sha256:" + hashlib.sha256(f"a.txt\t5\t{sha}\n".encode()).hexdigest()
    (root / ".aim-manifest.json").write_text(json.dumps({"version": 1, "uri": f"hf://{MODEL_ID}", "digest": digest}))
    s = served("serve")
    s.wait_ready()
    manifest = s.get_json("/v1/models")[1]["data"][0]["aim"]["manifest"]
    assert manifest == {"present": True, "digest": digest, "uri": f"hf://{MODEL_ID}", "matches": True}


@pytest.mark.parametrize("env,message", [
    ({"AIM_ENGINE_ARGS": "{not json"}, "AIM_ENGINE_ARGS is not valid JSON"),
    ({"AIM_ENGINE_ARGS": "[1, 2]"}, "AIM_ENGINE_ARGS must be a JSON object"),
    ({"AIM_PROFILE_ID": "no-such-profile"}, "unknown profile id"),
    ({"AIM_PRECISION": "int3"}, "is not supported"),
    ({"AIM_METRIC": "cost"}, "is not supported"),
])
def test_serve_refuses_a_configuration_a_real_image_would_refuse(env, message, tmp_path):
    res = subprocess.run([sys.executable, str(SCRIPT), "serve"], capture_output=True, text=True, timeout=30,
                         env=base_env(AIM_HOST="127.0.0.1", AIM_PORT="0", AIM_CACHE_PATH=str(tmp_path), **env))
    assert res.returncode != 0
    assert message in res.stderr


def test_serve_finishes_running_requests_on_sigterm(served, cache):
    s = served("serve", AIM_STANDIN_TOKEN_DELAY_SECONDS="0.05")
    s.wait_ready()
    result = {}

    def slow_request():
        resp, body = s.request("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "slow"}]})
        result["status"] = resp.status
        result["body"] = json.loads(body)

    t = threading.Thread(target=slow_request)
    t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if 'vllm:num_requests_running{model_name="aim-test/tiny-chat"} 1' in s.request("GET", "/metrics")[1].decode():
            break
        time.sleep(0.02)
    s.proc.send_signal(signal.SIGTERM)
    t.join(timeout=15)
    assert s.proc.wait(timeout=15) == 0
    assert result.get("status") == 200 and result["body"]["choices"][0]["finish_reason"] == "stop"
    assert "received SIGTERM" in s.output()


def test_serve_binds_the_requested_host_only(served, cache):
    s = served("serve")
    with pytest.raises(urllib.error.URLError):
        # Not on another loopback address: AIM_HOST=127.0.0.1 is honoured.
        urllib.request.urlopen(f"http://127.0.0.2:{s.port}/health", timeout=2)
