"""The operator workload on the local control plane, shared by bench/operator/bench.py and
test/chaos/chaos.py.

  Cluster(dir)     one control plane (tools/cluster/cluster.sh with AIM_CLUSTER_DIR=dir and the
                   AIM_CLUSTER_*_PORT variables of the environment): start, stop, faults
                   (restart-apiserver, compact-etcd), kubectl, and a small HTTPS client for the
                   API (the cluster's admin certificate) that does not fork a kubectl per call
  catalog()        20 AIMClusterModels described inline (three recommended deployments each, so
                   60 cluster templates), their simulated discovery logs, a cluster runtime config
  services(n)      N AIMServices spread over the models
  create_all()     creates objects in a few parallel kubectl processes
  Operator         one aim-engine process with its own metrics and health ports
  wait_for()       polls a condition until it holds or a timeout passes
  wait_steady()    polls a counter until it has not changed for a while
"""
import concurrent.futures
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = ROOT / "tools/cluster/bin/kubectl"
CLUSTER_SH = ROOT / "tools/cluster/cluster.sh"

MODELS = 20
NS_SERVICES = "bench"
API = "aim.eai.amd.com/v1alpha1"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Each model's recommended deployments (gpuModel, gpuCount, metric, precision): the cluster has
# MI300X and MI350X nodes, so every template can be Ready and every service selects one.
DEPLOYMENTS = [("MI300X", 1, "latency", "fp8"), ("MI300X", 1, "throughput", "fp16"),
               ("MI350X", 1, "throughput", "fp16")]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class Cluster:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.kubeconfig = self.dir / "kubeconfig"
        self.env = dict(os.environ, AIM_CLUSTER_DIR=str(self.dir), KUBECONFIG=str(self.kubeconfig))
        self.port = int(os.environ.get("AIM_CLUSTER_API_PORT", "16443"))
        self._ssl = None

    # --- cluster.sh
    def sh(self, *args, check=True, quiet=True):
        r = subprocess.run([str(CLUSTER_SH), *args], env=self.env, text=True,
                           stdout=subprocess.PIPE if quiet else None, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise RuntimeError(f"cluster.sh {' '.join(args)}: {r.stderr.strip()[-2000:]}")
        return r

    def fresh(self):
        """A new cluster in this directory (an old one there is stopped and deleted)."""
        self.sh("stop", check=False)
        subprocess.run(["rm", "-rf", str(self.dir)], check=True)
        self.sh("start")
        self._ssl = None

    def stop(self):
        self.sh("stop", check=False)

    def restart_apiserver(self):
        self.sh("restart-apiserver")

    def compact_etcd(self):
        return int(self.sh("compact-etcd").stdout.strip().splitlines()[-1])

    # --- kubectl
    def kubectl(self, *args, stdin=None, check=True):
        r = subprocess.run([str(KUBECTL), *args], input=stdin, env=self.env, text=True,
                           capture_output=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {r.stderr.strip()}")
        return r.stdout

    def create_all(self, docs, parallel=4):
        """Creates the objects (dicts) in `parallel` kubectl processes of a List each."""
        if not docs:
            return
        chunks = [docs[i::parallel] for i in range(parallel)]

        def one(chunk):
            if chunk:
                self.kubectl("create", "-f", "-", "-o", "name",
                             stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": chunk}))

        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            list(ex.map(one, chunks))

    # --- the API over HTTPS (admin certificate of the cluster's PKI)
    def request(self, method, path, body=None, content_type="application/json", timeout=30,
                raw=False):
        if self._ssl is None:
            pki = self.dir / "pki"
            ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
            ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
            self._ssl = ctx
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers={"Content-Type": content_type,
                                                             "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=timeout) as r:
                out = r.read()
                return out if raw else json.loads(out or b"{}")
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode(errors="replace")) from None

    def list(self, path):
        """Every item at a list path (pages of 500)."""
        items, cont = [], ""
        while True:
            sep = "&" if "?" in path else "?"
            page = self.request("GET", f"{path}{sep}limit=500" + (f"&continue={cont}" if cont else ""))
            items += page.get("items") or []
            cont = page.get("metadata", {}).get("continue")
            if not cont:
                return items

    def count(self, path):
        """Number of objects at a list path, from one limit=1 page (remainingItemCount)."""
        out = self.request("GET", f"{path}?limit=1")
        return len(out.get("items", [])) + int(out.get("metadata", {}).get("remainingItemCount", 0))

    def ready(self):
        try:
            return self.request("GET", "/readyz", timeout=3, raw=True).strip() == b"ok"
        except (OSError, ApiError):
            return False


def catalog(ns_services=NS_SERVICES, models=MODELS):
    docs = [{
        "apiVersion": API, "kind": "AIMClusterRuntimeConfig",
        "metadata": {"name": "default"},
        "spec": {"storage": {"defaultStorageClassName": "aim-sim-local"},
                 "routing": {"enabled": False}},
    }]
    for ns in ("aim-system", ns_services):
        for m in range(models):
            # Simulated discovery output (tools/cluster/manifests/demo/discovery-logs.yaml has the
            # same shape): one profile per template, rendered from the pod's env by simlogs.
            name = model_name(m)
            docs.append({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"discovery-{name}", "namespace": ns,
                             "labels": {"sim.aim.eai.amd.com/pod-logs": "true"}},
                "data": {"selector": f"aim.eai.amd.com/model={name}", "log": discovery_log(name)},
            })
    for m in range(models):
        name = model_name(m)
        docs.append({
            "apiVersion": API, "kind": "AIMClusterModel",
            "metadata": {"name": name},
            "spec": {
                "image": f"registry.example/bench/{name}:1.0.0",
                "imageMetadata": {"model": {
                    "canonicalName": f"bench/{name}", "title": f"Bench model {m}",
                    "source": f"https://huggingface.co/bench/{name}",
                    "recommendedDeployments": [
                        {"gpuModel": g, "gpuCount": c, "metric": me, "precision": p}
                        for g, c, me, p in DEPLOYMENTS],
                }},
            },
        })
    return docs


def model_name(m):
    return f"bench-model-{m:02d}"


def discovery_log(model):
    size = ('{{if eq .Env.AIM_PRECISION "fp16"}}15.0{{else}}8.5{{end}}')
    return (
        "INFO dry-run\n"
        '[{"filename": "vllm-{{lower .Env.AIM_GPU_MODEL}}-{{.Env.AIM_PRECISION}}-'
        '{{.Env.AIM_METRIC}}.yaml", "profile": {"model": "bench/' + model + '", '
        '"quantized_model": "", "metadata": {"engine": "vllm", "gpu": "{{.Env.AIM_GPU_MODEL}}", '
        '"precision": "{{.Env.AIM_PRECISION}}", "gpu_count": {{default "1" .Env.AIM_GPU_COUNT}}, '
        '"metric": "{{.Env.AIM_METRIC}}", "type": "optimized"}, "engine_args": '
        '{"max-model-len": 32768}, "env_vars": {}}, "models": [{"name": "bench/' + model + '", '
        '"source": "hf://bench/' + model + '", "size_gb": ' + size + "}]}]\n")


def services(n, caching, ns=NS_SERVICES, models=MODELS):
    return [{
        "apiVersion": API, "kind": "AIMService",
        "metadata": {"name": f"svc-{i:05d}", "namespace": ns,
                     "labels": {"team": f"team-{i % 7}"}},
        "spec": {"model": {"name": model_name(i % models)}, "caching": {"mode": caching}},
    } for i in range(n)]


def wait_for(what, pred, timeout, step=1.0):
    """Polls pred() every `step` seconds until it is true; RuntimeError after `timeout` seconds.
    An API or connection error counts as not yet."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return True
        except (OSError, ApiError):
            pass
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_steady(read, pause, cap, step=0.5):
    """Polls read() every `step` seconds until its value has not changed for `pause` seconds, or
    `cap` seconds have passed (a counter that never stops ends the wait there); returns how long
    it waited."""
    t0 = time.time()
    last, since = read(), time.time()
    while time.time() - since < pause and time.time() - t0 < cap:
        time.sleep(step)
        now = read()
        if now != last:
            last, since = now, time.time()
    return time.time() - t0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    """One aim-engine process; its output goes to log_path (appended, so a restarted replica
    keeps one log). extra_env: e.g. {"POD_NAME": ...}, the leader election identity."""

    def __init__(self, binary, cluster, log_path, extra_args=(), extra_env=None):
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.log_path = Path(log_path)
        self.log = open(log_path, "a")
        self.proc = subprocess.Popen(
            [str(binary), "--kubeconfig", str(cluster.kubeconfig), "--log-format", "json",
             "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
             "--health-probe-bind-address", f"127.0.0.1:{self.health_port}", *extra_args],
            env=dict(cluster.env, **(extra_env or {})), stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def proc_stats(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"peak_rss": hwm, "rss": rss, "cpu_s": cpu}

    def metrics_text(self):
        return urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()

    def metrics(self):
        """(writes, reconciles, per-method writes, per-controller reconciles) so far."""
        writes, reconciles = {}, {}
        for line in self.metrics_text().splitlines():
            if line.startswith("rest_client_requests_total{"):
                method = re.search(r'method="([A-Z]+)"', line).group(1)
                if method in WRITE_METHODS:
                    writes[method] = writes.get(method, 0) + float(line.rsplit(" ", 1)[1])
            elif line.startswith("controller_runtime_reconcile_total{"):
                ctrl = re.search(r'controller="([^"]+)"', line).group(1)
                reconciles[ctrl] = reconciles.get(ctrl, 0) + float(line.rsplit(" ", 1)[1])
        return sum(writes.values()), sum(reconciles.values()), writes, reconciles

    def wait_metrics(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}")
            try:
                return self.metrics()
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("operator metrics endpoint did not come up")

    def kill(self):
        """SIGKILL, as a crash or an OOM kill would."""
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self, send_sigterm=True, grace=30):
        """SIGTERM (send_sigterm=False: it was sent already; a second one makes the operator exit
        at once with 1) and the wait for the exit; SIGKILL after `grace` seconds."""
        if self.alive():
            if send_sigterm:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
