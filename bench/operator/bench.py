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

With --catalog-ready the catalog is discovered first: an operator runs on the catalog alone until
all 60 cluster templates are Ready and is stopped; then the services are created and the measured
operator starts. That times the service pipeline alone, without the discovery Jobs it waits for
otherwise (at most 10 at a time).

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
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test/support"))
from workload import (API, NS_SERVICES, ROOT, Cluster, Operator, catalog,  # noqa: E402
                      log, services, wait_for, wait_steady)

CLUSTER = Cluster(ROOT / ".local/cluster-bench")
CONFIGMAPS = 2000
NS_NOISE = "bench-noise"


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


def apiserver_writes():
    """The API server's write requests by "VERB resource[/subresource]", largest first: where the
    operator's writes go (the workload's own creates and the cluster's controllers are in it too,
    so read it against the scenario)."""
    try:
        text = CLUSTER.kubectl("get", "--raw", "/metrics")
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


def discover_catalog(binary, log_path, templates=60, timeout=600):
    """Runs an operator on the catalog alone until every cluster template is Ready."""
    op = Operator(binary, CLUSTER, log_path, ["--leader-elect=false"])
    t = time.time()
    path = f"/apis/{API}/aimclusterservicetemplates"
    try:
        op.wait_metrics()
        wait_for(f"{templates} cluster templates Ready",
                 lambda: sum(1 for o in CLUSTER.list(path)
                             if (o.get("status") or {}).get("status") == "Ready") >= templates,
                 timeout)
    finally:
        op.stop()
    log(f"  catalog discovered in {time.time() - t:.0f} s ({templates} templates Ready)")


def scenario(binary, n, pods, args, logdir):
    log(f"scenario: {n} services, {pods} unrelated pods")
    CLUSTER.fresh()
    for ns in (NS_SERVICES, NS_NOISE, "aim-system"):
        CLUSTER.kubectl("create", "namespace", ns, check=False)
    t = time.time()
    CLUSTER.create_all(catalog())
    CLUSTER.create_all(noise(pods), parallel=6)
    if args.catalog_ready:
        discover_catalog(binary, logdir / f"aim-engine-{n}-{pods}-catalog.log")
    CLUSTER.create_all(services(n, args.caching), parallel=6)
    log(f"  workload created in {time.time() - t:.0f} s")

    # One replica: the leader lease's renewal (a PUT every 2 s, by design) would be counted as the
    # operator's work and keep the write count from ever settling.
    op = Operator(binary, CLUSTER, logdir / f"aim-engine-{n}-{pods}.log",
                  ["--leader-elect=false", *args.op_arg])
    start = time.time()
    try:
        op.wait_metrics()
        first = last = None
        isvc_path = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS_SERVICES}/inferenceservices"
        while True:
            have = CLUSTER.count(isvc_path)
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
        # Settled: no write for --settle seconds (at most --settle-max after the last one).
        wait_steady(lambda: op.metrics()[0], pause=args.settle,
                    cap=args.settle_max - (time.time() - start - last), step=1)
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
            "catalog_ready": args.catalog_ready,
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
        CLUSTER.stop()


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
    p.add_argument("--catalog-ready", action="store_true",
                   help="discover the catalog with an earlier operator before the services exist")
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
