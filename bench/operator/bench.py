#!/usr/bin/env python3
"""The operator at scale (issue 11): peak RSS, CPU, time to every InferenceService, idle work.

Each scenario runs on a fresh local control plane (tools/cluster/cluster.sh, KWOK nodes):

  1. the workload is created while no operator runs: 20 AIMClusterModels described inline (three
     recommended deployments each, so 60 cluster templates with simulated discovery), N
     AIMServices spread over them, 2000 unrelated ConfigMaps and, optionally, P unrelated Pods on
     a KWOK node of their own (KWOK marks them Running, so they cost no containers);
  2. the operator starts with that backlog; the script polls the number of InferenceServices;
  3. after the last InferenceService appears it waits until the operator has made no write for
     --settle seconds (or --settle-max), then counts what the operator does in --idle seconds.

The operator runs as one replica without leader election (--leader-elect=false): the Lease
renewal, a write every 2 s by design, is not work the workload causes.

What is recorded per scenario (from /proc and the operator's own /metrics, which use the
controller-runtime names, so a Go operator is measured the same way):
  peak RSS (VmHWM), CPU seconds (utime + stime), time from start to the first and the last
  InferenceService, services per second between them, writes (POST, PUT, PATCH, DELETE) until
  settled, and writes and reconciles in the idle window.

  python3 bench/operator/bench.py build/release/cmd/aim-engine/aim-engine \
      --services 100,1000 --pods 0,20000 --idle 300 [--json out.json]

The cluster state of each scenario lives in .local/cluster-bench (deleted at the start of the
next scenario and by `tools/cluster/cluster.sh stop` with AIM_CLUSTER_DIR set to it).
"""
import argparse
import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = ROOT / "tools/cluster/bin/kubectl"
CLUSTER_SH = ROOT / "tools/cluster/cluster.sh"
CLUSTER_DIR = ROOT / ".local/cluster-bench"
ENV = dict(os.environ, AIM_CLUSTER_DIR=str(CLUSTER_DIR), KUBECONFIG=str(CLUSTER_DIR / "kubeconfig"))

MODELS = 20
CONFIGMAPS = 2000
NS_SERVICES = "bench"
NS_NOISE = "bench-noise"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Each model's recommended deployments (gpuModel, gpuCount, metric, precision): the cluster has
# MI300X and MI350X nodes, so every template can be Ready and every service selects one.
DEPLOYMENTS = [("MI300X", 1, "latency", "fp8"), ("MI300X", 1, "throughput", "fp16"),
               ("MI350X", 1, "throughput", "fp16")]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def kubectl(*args, stdin=None, check=True):
    r = subprocess.run([str(KUBECTL), *args], input=stdin, env=ENV, text=True,
                       capture_output=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args[:3])}: {r.stderr.strip()}")
    return r.stdout


def create_all(docs, parallel=4):
    """Creates the objects (dicts) in `parallel` kubectl processes of a List each."""
    if not docs:
        return
    chunks = [docs[i::parallel] for i in range(parallel)]

    def one(chunk):
        if chunk:
            kubectl("create", "-f", "-", "-o", "name",
                    stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": chunk}))

    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        list(ex.map(one, chunks))


def count(path):
    """Number of objects at a list path, from one limit=1 page (remainingItemCount)."""
    out = json.loads(kubectl("get", "--raw", f"{path}?limit=1"))
    return len(out.get("items", [])) + int(out.get("metadata", {}).get("remainingItemCount", 0))


def catalog():
    docs = [{
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterRuntimeConfig",
        "metadata": {"name": "default"},
        "spec": {"storage": {"defaultStorageClassName": "aim-sim-local"},
                 "routing": {"enabled": False}},
    }]
    for ns in ("aim-system", NS_SERVICES):
        for m in range(MODELS):
            # Simulated discovery output (tools/cluster/manifests/demo/discovery-logs.yaml has the
            # same shape): one profile per template, rendered from the pod's env by simlogs.
            name = f"bench-model-{m:02d}"
            docs.append({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"discovery-{name}", "namespace": ns,
                             "labels": {"sim.aim.eai.amd.com/pod-logs": "true"}},
                "data": {"selector": f"aim.eai.amd.com/model={name}", "log": discovery_log(name)},
            })
    for m in range(MODELS):
        name = f"bench-model-{m:02d}"
        docs.append({
            "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterModel",
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


def services(n, caching):
    return [{
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
        "metadata": {"name": f"svc-{i:05d}", "namespace": NS_SERVICES,
                     "labels": {"team": f"team-{i % 7}"}},
        "spec": {"model": {"name": f"bench-model-{i % MODELS:02d}"}, "caching": {"mode": caching}},
    } for i in range(n)]


def noise(pods):
    docs = [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"unrelated-{i:05d}", "namespace": NS_NOISE,
                     "labels": {"app": "unrelated"}},
        "data": {"config.yaml": "key: value\n" * 20},
    } for i in range(CONFIGMAPS)]
    if pods:
        docs.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "kwok-noise-0", "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-noise-0"}},
            "spec": {"taints": [{"key": "bench-noise", "effect": "NoSchedule"}]},
        })
    for i in range(pods):
        docs.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"unrelated-{i:05d}", "namespace": NS_NOISE,
                         "labels": {"app": "unrelated", "shard": str(i % 50)}},
            "spec": {"nodeName": "kwok-noise-0",
                     "tolerations": [{"key": "bench-noise", "operator": "Exists"}],
                     "containers": [{"name": "app", "image": "registry.example/app:1",
                                     "resources": {"requests": {"cpu": "1m"}}}]},
        })
    return docs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    def __init__(self, binary, log_path, extra_args=()):
        self.metrics_port = free_port()
        health = free_port()
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--kubeconfig", ENV["KUBECONFIG"], "--log-format", "json",
             "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
             "--health-probe-bind-address", f"127.0.0.1:{health}",
             # One replica: the leader lease's renewal (a PUT every 2 s, by design) would be
             # counted as the operator's work and keep the write count from ever settling.
             "--leader-elect=false", *extra_args],
            env=ENV, stdout=self.log, stderr=subprocess.STDOUT)

    def proc_stats(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"peak_rss": hwm, "rss": rss, "cpu_s": cpu}

    def metrics(self):
        """(writes, reconciles, per-method writes, per-controller reconciles) so far."""
        text = urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()
        writes, reconciles = {}, {}
        for line in text.splitlines():
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

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def apiserver_writes():
    """The API server's write requests by "VERB resource[/subresource]", largest first: where the
    operator's writes go (the workload's own creates and the cluster's controllers are in it too,
    so read it against the scenario)."""
    try:
        text = kubectl("get", "--raw", "/metrics")
    except Exception as e:  # diagnostics only: a missing breakdown must not fail the run
        return {"error": str(e)}
    out = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if labels.get("verb") not in ("POST", "PUT", "PATCH", "APPLY", "DELETE"):
            continue
        key = f'{labels["verb"]} {labels.get("resource", "")}'
        if labels.get("subresource"):
            key += "/" + labels["subresource"]
        out[key] = out.get(key, 0) + int(float(line.rsplit(" ", 1)[1]))
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def diff(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def scenario(binary, n, pods, args, logdir):
    log(f"scenario: {n} services, {pods} unrelated pods")
    subprocess.run([str(CLUSTER_SH), "stop"], env=ENV, check=False, capture_output=True)
    subprocess.run(["rm", "-rf", str(CLUSTER_DIR)], check=True)
    subprocess.run([str(CLUSTER_SH), "start"], env=ENV, check=True, stdout=subprocess.DEVNULL)
    for ns in (NS_SERVICES, NS_NOISE, "aim-system"):
        kubectl("create", "namespace", ns, check=False)
    t = time.time()
    create_all(catalog())
    create_all(noise(pods), parallel=6)
    create_all(services(n, args.caching), parallel=6)
    log(f"  workload created in {time.time() - t:.0f} s")

    op = Operator(binary, logdir / f"aim-engine-{n}-{pods}.log", args.op_arg)
    start = time.time()
    try:
        op.wait_metrics()
        first = last = None
        isvc_path = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS_SERVICES}/inferenceservices"
        while True:
            have = count(isvc_path)
            now = time.time()
            if have > 0 and first is None:
                first = now - start
            if have >= n:
                last = now - start
                break
            if now - start > args.timeout:
                raise RuntimeError(f"only {have} of {n} InferenceServices after {args.timeout} s")
            time.sleep(0.5)
        log(f"  all {n} InferenceServices after {last:.1f} s (first at {first:.1f} s)")
        at_last, _, _, _ = op.metrics()
        # Settled: no write for --settle seconds.
        quiet_since, prev = time.time(), at_last
        while time.time() - quiet_since < args.settle and time.time() - start - last < args.settle_max:
            time.sleep(1)
            w, _, _, _ = op.metrics()
            if w != prev:
                quiet_since, prev = time.time(), w
        settled = time.time() - start
        w0, r0, wm0, rc0 = op.metrics()
        cpu0 = op.proc_stats()["cpu_s"]
        log(f"  settled at {settled:.0f} s ({w0 - at_last:.0f} writes after the last "
            f"InferenceService); idle for {args.idle} s")
        time.sleep(args.idle)
        w1, r1, wm1, rc1 = op.metrics()
        stats = op.proc_stats()
        writes_by_resource = apiserver_writes()
        row = {
            "services": n, "pods": pods, "caching": args.caching,
            "operator_args": " ".join(args.op_arg),
            "peak_rss_mib": round(stats["peak_rss"] / 2**20, 1),
            "rss_end_mib": round(stats["rss"] / 2**20, 1),
            "cpu_s": round(stats["cpu_s"], 1),
            "first_isvc_s": round(first, 1), "all_isvc_s": round(last, 1),
            "services_per_s": round(n / max(last - first, 0.5), 1),
            "writes_total": int(w1), "writes_after_last_isvc": int(w0 - at_last),
            "settled_s": round(settled, 1), "idle_s": args.idle,
            "idle_writes": int(w1 - w0), "idle_write_methods": diff(wm1, wm0),
            "idle_reconciles": int(r1 - r0), "idle_reconciles_by_controller": diff(rc1, rc0),
            "idle_cpu_s": round(stats["cpu_s"] - cpu0, 2),
            "apiserver_writes": writes_by_resource,
        }
        log("  " + json.dumps(row))
        return row
    finally:
        op.stop()
        subprocess.run([str(CLUSTER_SH), "stop"], env=ENV, check=False, capture_output=True)


def table(rows):
    head = ("| services | unrelated pods | peak RSS MiB | CPU s | first / all ISVC s | services/s "
            "| writes | writes after last ISVC | idle writes | idle reconciles | idle CPU s |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        out.append(f"| {r['services']} | {r['pods']} | {r['peak_rss_mib']} | {r['cpu_s']} | "
                   f"{r['first_isvc_s']} / {r['all_isvc_s']} | {r['services_per_s']} | "
                   f"{r['writes_total']} | {r['writes_after_last_isvc']} | {r['idle_writes']} | "
                   f"{r['idle_reconciles']} | {r['idle_cpu_s']} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("operator", help="the aim-engine binary (a release build)")
    p.add_argument("--services", default="100,1000", help="comma-separated service counts")
    p.add_argument("--pods", default="0,20000", help="comma-separated unrelated Pod counts")
    p.add_argument("--caching", default="Shared", help="spec.caching.mode of every service")
    p.add_argument("--idle", type=int, default=300, help="idle window, seconds")
    p.add_argument("--settle", type=int, default=15, help="no write for this long = settled")
    p.add_argument("--settle-max", type=int, default=300, help="give up settling after this long")
    p.add_argument("--timeout", type=int, default=1200, help="seconds to wait for the InferenceServices")
    p.add_argument("--json", help="also write the rows here")
    p.add_argument("--op-arg", action="append", default=[],
                   help="an extra operator argument (repeat), e.g. --op-arg=--kube-api-qps=200")
    args = p.parse_args()
    logdir = Path(tempfile.mkdtemp(prefix="aim-operator-bench-"))
    log(f"operator logs in {logdir}")
    rows = []
    for pods in [int(x) for x in args.pods.split(",")]:
        for n in [int(x) for x in args.services.split(",")]:
            rows.append(scenario(os.path.abspath(args.operator), n, pods, args, logdir))
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows))


if __name__ == "__main__":
    sys.exit(main())
