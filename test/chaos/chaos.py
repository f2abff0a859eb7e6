#!/usr/bin/env python3
"""The chaos suite (issue 27, item 1): a rollout under faults on the local control plane, then the
checker (test/chaos/checker.py). See docs/chaos.md.

  python3 test/chaos/chaos.py BINARY --size ci            # what ctest -L chaos runs
  python3 test/chaos/chaos.py BINARY --size long [--json out.json]
  python3 test/chaos/chaos.py BINARY --size ci --seed 1234 # replays a run's fault schedule

One run:
  1. a fresh control plane in --cluster-dir, on ports of its own (cluster.sh's defaults plus
     --port-offset, 10000: the API server on 26443; below the ephemeral port range);
  2. two operator replicas with leader election (POD_NAME is the identity), a client rate limit
     (--qps) that stretches the rollout so that the faults land inside it;
  3. the catalog of test/support/workload.py (20 models, 60 cluster templates), then N services at
     once: most select their template and use a Shared cache, some name a template with an
     override (derived templates, shared by several services), some use caching Auto or
     Dedicated;
  4. a KServe stand-in marks each InferenceService Ready, so a service can reach Running;
  5. the faults, shuffled by the seed, each after a random pause drawn from the seed:
       kill        SIGKILL of the leader, restarted at once with the same identity (a container
                   restart)
       apiserver   kube-apiserver stopped (2 s grace, then SIGKILL) and started again
       compaction  etcd compacted at its current revision, then kube-apiserver restarted, so every
                   watch resumes from a compacted revision and gets 410 Gone (the operator must
                   relist: its log says "too old, relisting")
       failover    the leader stops (SIGTERM, a rolling update, or SIGKILL, a lost node, in turn)
                   and the standby must take the Lease; a new standby replaces it
     Replicas that exit on their own (e.g. after losing the Lease while the API server was down)
     are restarted and counted;
  6. the wait for convergence (every service Running) within --deadline seconds;
  7. a quiet window (--quiet seconds) in which the operator must show no error loop;
  8. the checker; then the checker's live self-test: a duplicate InferenceService, an artifact of
     a missing cache and a service of a missing model are created, and each must be reported.
Exit status 0 only when every check passed. The last line is "chaos: N passed, N failed".
"""
import argparse
import calendar
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "test/support")]
import checker  # noqa: E402
from workload import (API, NS_SERVICES, ROOT, ApiError, Cluster, Operator, catalog,  # noqa: E402
                      log, model_name, services, wait_for, wait_steady)

SIZES = {
    # ≤ 8 min on 2 cores (CI); the figures of the example.
    "ci": dict(services=200, kills=3, apiserver_restarts=1, compactions=1, failovers=1,
               qps=20, deadline=300, quiet=30, pause_min=2.0, pause_max=12.0),
    # ≤ 25 min: 20 kills during a 500-service rollout, the other faults several times each.
    # Shorter pauses: 32 faults must land inside the rollout.
    "long": dict(services=500, kills=20, apiserver_restarts=4, compactions=4, failovers=4,
                 qps=20, deadline=900, quiet=60, pause_min=1.0, pause_max=8.0),
}
ISVC = "/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices"
LEASE = "/apis/coordination.k8s.io/v1/namespaces/aim-system/leases/aim-engine-leader"
# tools/cluster/cluster.sh's defaults; the chaos cluster adds --port-offset to each.
DEFAULT_PORTS = {"AIM_CLUSTER_API_PORT": 16443, "AIM_CLUSTER_ETCD_PORT": 12379,
                 "AIM_CLUSTER_ETCD_PEER_PORT": 12380, "AIM_CLUSTER_KWOK_PORT": 16250,
                 "AIM_CLUSTER_KCM_PORT": 16257, "AIM_CLUSTER_SCHEDULER_PORT": 16259}
# How long a replica may take to exit after SIGTERM before it is killed (and the exit check
# fails). Kubernetes' default grace is 30 s; the sanitizer build on a machine at load 20 took
# more than 30 s (docs/chaos.md), and the exit code, not the time, is what the check is about.
STOP_GRACE_S = 60
GRACEFUL_TAKEOVER_S = 10
HARD_TAKEOVER_S = 25
OVERRIDE_EVERY = 10  # every 10th service names a template with an override (derived template)
AUTO_EVERY = 10      # every 10th (offset 5) uses caching Auto
DEDICATED_EVERY = 20  # every 20th (offset 7) uses caching Dedicated (a cache of its own)


def parse_time(s):
    """RFC 3339 (micro)time of the API server to epoch seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", s or "")
    if not m:
        return 0.0
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


class Replicas:
    """Two aim-engine replicas with leader election. Slot "a" and "b"; each start of a slot with
    a new identity is a new "pod" (chaos-a-1, chaos-a-2, ...); a restart after a kill keeps it."""

    def __init__(self, binary, cluster, logdir, args):
        self.binary, self.cluster, self.logdir, self.args = binary, cluster, logdir, args
        self.ops, self.ident, self.gen = {}, {}, {"a": 0, "b": 0}
        self.lock = threading.Lock()
        self.unexpected_exits = []  # (slot, identity, exit code, time, last log line)
        self.starts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self, slot, new_identity=True):
        if new_identity:
            self.gen[slot] += 1
            self.ident[slot] = f"chaos-{slot}-{self.gen[slot]}"
        self.ops[slot] = Operator(
            self.binary, self.cluster, self.logdir / f"{self.ident[slot]}.log",
            ["--leader-elect=true", f"--kube-api-qps={self.args.qps}",
             f"--kube-api-burst={2 * self.args.qps}", "--log-level=info"],
            {"POD_NAME": self.ident[slot]})
        self.starts += 1

    def start_all(self):
        for s in ("a", "b"):
            self.start(s)
        self._thread.start()

    def _watch(self):
        while not self._stop.wait(0.5):
            with self.lock:
                for slot, op in list(self.ops.items()):
                    if not op.alive():
                        code = op.proc.returncode
                        op.log.close()
                        lines = op.log_path.read_text(errors="replace").splitlines()
                        self.unexpected_exits.append((slot, self.ident[slot], code, time.time(),
                                                      lines[-1] if lines else ""))
                        log(f"  replica {self.ident[slot]} exited on its own (code {code}); restarting it")
                        self.start(slot, new_identity=False)

    def holder(self):
        try:
            spec = self.cluster.request("GET", LEASE, timeout=5).get("spec", {})
        except (OSError, ApiError):
            return None, 0.0
        return spec.get("holderIdentity"), parse_time(spec.get("renewTime"))

    def slot_of(self, identity):
        return next((s for s, i in self.ident.items() if i == identity), None)

    def leader(self, timeout=60):
        """The slot of the current leader (a live replica holding the Lease)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            h, _ = self.holder()
            s = self.slot_of(h)
            if s in self.ops and self.ops[s].alive():
                return s
            time.sleep(0.5)
        raise RuntimeError("no replica holds the leader Lease")

    def stop_all(self):
        """SIGTERM to every replica; their (identity, exit code)."""
        self._stop.set()
        out = []
        with self.lock:
            for slot, op in self.ops.items():
                if op.alive():
                    op.stop(grace=STOP_GRACE_S)
                    out.append((self.ident[slot], op.proc.returncode))
        return out

    def log_paths(self):
        return sorted(self.logdir.glob("chaos-*.log"))


class Monitor(threading.Thread):
    """Polls the services and InferenceServices every second; marks each InferenceService Ready
    once it is 2 s old (the KServe stand-in: no KServe controller runs on this control plane)."""

    def __init__(self, cluster, ns):
        super().__init__(daemon=True)
        self.cluster, self.ns = cluster, ns
        self.running = self.isvcs = 0
        self.total = 0
        self.marked = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            try:
                self.poll()
            except (OSError, ApiError, ValueError):
                pass  # the API server is down (a fault): next time

    def poll(self):
        now = time.time()
        isvcs = self.cluster.list(ISVC.format(ns=self.ns))
        for i in isvcs:
            conds = (i.get("status") or {}).get("conditions") or []
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
            if not ready and now - parse_time(i["metadata"].get("creationTimestamp")) >= 2:
                self.cluster.request(
                    "PATCH", ISVC.format(ns=self.ns) + f"/{i['metadata']['name']}/status",
                    {"status": {"conditions": [{"type": "Ready", "status": "True",
                                                "lastTransitionTime": time.strftime(
                                                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}},
                    content_type="application/merge-patch+json")
                self.marked += 1
        svcs = self.cluster.list(f"/apis/{API}/namespaces/{self.ns}/aimservices")
        self.isvcs = len(isvcs)
        self.total = len(svcs)
        self.running = sum(1 for s in svcs if (s.get("status") or {}).get("status") == "Running")


def workload_services(cluster, n, rng):
    """N services: most select automatically with a Shared cache; every OVERRIDE_EVERY-th names
    a cluster template of its model with a precision override (so a derived template shared by
    the services of that model); every AUTO_EVERY-th (offset 5) uses caching Auto, every
    DEDICATED_EVERY-th (offset 7) Dedicated."""
    by_model = {}
    for t in cluster.list(f"/apis/{API}/aimclusterservicetemplates"):
        by_model.setdefault(t["spec"].get("modelName"), []).append(t["metadata"]["name"])
    docs = services(n, "Shared")
    for i, d in enumerate(docs):
        if i % OVERRIDE_EVERY == 0:
            tpls = sorted(by_model[model_name(i % 20)])
            d["spec"]["template"] = {"name": tpls[0]}
            d["spec"]["overrides"] = {"precision": "fp16" if "fp8" in tpls[0] else "fp8"}
        elif i % AUTO_EVERY == 5:
            d["spec"]["caching"] = {"mode": "Auto"}
        elif i % DEDICATED_EVERY == 7:
            d["spec"]["caching"] = {"mode": "Dedicated"}
    rng.shuffle(docs)  # creation order
    return docs


class Chaos:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.cluster = Cluster(args.cluster_dir)
        self.logdir = Path(tempfile.mkdtemp(prefix="aim-chaos-"))
        self.faults = []  # one dict per fault
        self.failover_kind = self.rng.randrange(2)  # SIGTERM first or SIGKILL first
        self.checks = []  # (name, ok, detail)
        self.sigterm_exits = []  # (identity, exit code) of replicas stopped with SIGTERM

    def check(self, name, ok, detail=""):
        self.checks.append((name, ok, detail))
        log(f"  {'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))

    # --- faults
    def inject(self, kind):
        reps, mon = self.replicas, self.monitor
        t0 = time.time()
        f = {"kind": kind, "t": t0, "at_s": round(t0 - self.t_rollout, 1),
             "running_before": mon.running, "services": mon.total}
        relists_before = self.relist_count()
        if kind == "kill":
            slot = reps.leader()
            with reps.lock:
                f["victim"] = reps.ident[slot]
                reps.ops[slot].kill()
                reps.start(slot, new_identity=False)
        elif kind == "apiserver":
            self.cluster.restart_apiserver()
        elif kind == "compaction":
            f["revision"] = self.cluster.compact_etcd()
            self.cluster.restart_apiserver()
        elif kind == "failover":
            slot = reps.leader()
            graceful = self.failover_kind % 2 == 0
            self.failover_kind += 1
            f["mode"] = "SIGTERM" if graceful else "SIGKILL"
            with reps.lock:
                f["victim"] = reps.ident[slot]
                victim = reps.ops.pop(slot)  # the watcher must not restart it
                if graceful:
                    victim.proc.send_signal(signal.SIGTERM)
                else:
                    victim.kill()
            other = "b" if slot == "a" else "a"
            wait_for("the standby to take the Lease", lambda: reps.holder()[0] == reps.ident[other],
                     timeout=60, step=0.2)
            f["new_leader"] = reps.ident[other]
            f["takeover_s"] = round(time.time() - t0, 1)
            if graceful:
                victim.stop(send_sigterm=False, grace=STOP_GRACE_S)
                f["exit_s"] = round(time.time() - t0, 1)
                f["exit_code"] = victim.proc.returncode
                self.sigterm_exits.append((f["victim"], victim.proc.returncode))
            with reps.lock:
                reps.start(slot, new_identity=True)  # a new pod as the new standby
        f["inject_s"] = round(time.time() - t0, 1)
        # Leader back: a live replica holds the Lease and has renewed it since the fault began.
        def leader_back():
            h, renew = reps.holder()
            s = reps.slot_of(h)
            return s is not None and s in reps.ops and reps.ops[s].alive() and renew >= t0
        wait_for("a leader after the fault", leader_back, timeout=90, step=0.2)
        f["leader_back_s"] = round(time.time() - t0, 1)
        f["relists"] = None
        if kind == "compaction":
            # The operator's watches resume through 410 Gone: they log a relist.
            try:
                wait_for("a relist after the compaction", lambda: self.relist_count() > relists_before,
                         timeout=60, step=0.5)
            except RuntimeError:
                pass
            f["relists"] = self.relist_count() - relists_before
        self.faults.append(f)
        log(f"  fault {len(self.faults)}: " + json.dumps({k: v for k, v in f.items() if k != "t"}))
        return f

    def relist_count(self):
        n = 0
        for p in self.replicas.log_paths():
            with open(p, errors="replace") as fh:
                n += sum(1 for line in fh if "is too old, relisting" in line)
        return n

    def progress_times(self):
        """Per fault: seconds from the fault until the next service became Running (None when
        every service was already Running, or none did before the next fault)."""
        for f in self.faults:
            f["progress_s"] = None
            if f["running_before"] >= self.args.services:
                continue
            for t, running in self.timeline:
                if t > f["t"] and running > f["running_before"]:
                    f["progress_s"] = round(t - f["t"], 1)
                    break

    # --- the run
    def run(self):
        a = self.args
        log(f"chaos: seed {a.seed} (replay: test/chaos/chaos.py BINARY --size {a.size} --seed {a.seed}); "
            f"{a.services} services, {a.kills} kills, {a.apiserver_restarts} apiserver restarts, "
            f"{a.compactions} compactions, {a.failovers} failovers; logs in {self.logdir}")
        t_start = time.time()
        self.cluster.fresh()
        log(f"  fresh cluster in {a.cluster_dir} ({time.time() - t_start:.0f} s)")
        for ns in (NS_SERVICES, "aim-system"):
            self.cluster.kubectl("create", "namespace", ns, check=False)
        self.cluster.create_all(catalog())
        self.replicas = Replicas(a.binary, self.cluster, self.logdir, a)
        self.replicas.start_all()
        try:
            return self._run(t_start)
        finally:
            if hasattr(self, "monitor"):
                self.monitor.stop.set()
            self.replicas.stop_all()
            if not a.keep:
                self.cluster.stop()

    def _run(self, t_start):
        a, reps = self.args, self.replicas
        wait_for("60 cluster templates", lambda: self.cluster.count(
            f"/apis/{API}/aimclusterservicetemplates") >= 60, timeout=120)
        reps.leader()
        docs = workload_services(self.cluster, a.services, self.rng)
        self.t_rollout = time.time()
        self.cluster.create_all(docs)
        log(f"  rollout: {len(docs)} services created in {time.time() - self.t_rollout:.1f} s")
        self.monitor = Monitor(self.cluster, NS_SERVICES)
        self.monitor.start()
        self.timeline = []
        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.wait(1.0):
                self.timeline.append((time.time(), self.monitor.running))
        threading.Thread(target=sample, daemon=True).start()

        plan = (["kill"] * a.kills + ["apiserver"] * a.apiserver_restarts +
                ["compaction"] * a.compactions + ["failover"] * a.failovers)
        self.rng.shuffle(plan)
        pauses = [self.rng.uniform(a.pause_min, a.pause_max) for _ in plan]
        log(f"  fault plan: {' '.join(f'{p:.1f}s:{k}' for k, p in zip(plan, pauses))}")
        for kind, pause in zip(plan, pauses):
            time.sleep(pause)
            self.inject(kind)
        t_last = time.time()
        log(f"  all {len(plan)} faults injected; {self.monitor.running} of {a.services} Running")

        try:
            wait_for("every service Running", lambda: self.monitor.running >= a.services
                     and self.monitor.total == a.services, timeout=a.deadline)
            converged = True
        except RuntimeError:
            converged = False
        t_conv = time.time()
        sampler_stop.set()
        self.progress_times()
        self.check(f"every service Running within {a.deadline} s of the last fault", converged,
                   f"{self.monitor.running} of {a.services} Running")
        self.monitor.stop.set()
        self.monitor.join(5)

        # Quiet window: the leader's counters and every replica's error lines. It starts once the
        # leader has finished the pass it makes over every object when it takes the Lease (a
        # kill just before convergence puts that pass here: about two reconciles per service,
        # seen as a false error loop). A hot loop never pauses, so the wait ends at its cap and
        # the window still catches it; errors and retries are counted either way.
        leader = reps.ops[reps.leader()]
        settle_s = wait_steady(lambda: counters(leader)["reconciles"], pause=3.0, cap=a.quiet)
        quiet_from = time.time()
        before = counters(leader)
        sizes = {p: p.stat().st_size for p in reps.log_paths()}
        time.sleep(a.quiet)
        after = counters(leader)
        error_lines = []
        for p in reps.log_paths():
            with open(p, errors="replace") as fh:
                fh.seek(sizes.get(p, 0))
                error_lines += [ln.strip() for ln in fh if '"level":"error"' in ln]
        window = checker.QuietWindow(
            seconds=time.time() - quiet_from,
            reconcile_errors=after["errors"] - before["errors"],
            retries=after["retries"] - before["retries"],
            reconciles=after["reconciles"] - before["reconciles"],
            error_lines=error_lines, max_reconciles=a.services)
        quiet = checker.check_quiet(window)
        self.check("no operator error loop after convergence", not quiet,
                   "; ".join(map(str, quiet)))

        state = checker.snapshot(self.cluster)
        violations = checker.check(state)
        for rule in ("one-isvc-per-service", "no-orphan", "no-duplicate", "converged"):
            bad = [str(v) for v in violations if v.rule == rule]
            self.check(f"checker {rule}", not bad, "; ".join(bad[:5]))
        self.live_self_test(state)

        # A replica stopped with SIGTERM releases the Lease: the standby takes over at once (the
        # retry period, 2 s, plus the time to stop); after SIGKILL, once the Lease expires (15 s).
        slow = [f for f in self.faults if f["kind"] == "failover" and
                f["takeover_s"] > (GRACEFUL_TAKEOVER_S if f["mode"] == "SIGTERM" else HARD_TAKEOVER_S)]
        self.check(f"failover: the standby leads within {GRACEFUL_TAKEOVER_S} s after SIGTERM, "
                   f"{HARD_TAKEOVER_S} s after SIGKILL", not slow,
                   "; ".join(f"{f['mode']}: {f['takeover_s']} s" for f in slow))
        # A replica may exit on its own only after losing the Lease (exit code 1, as
        # controller-runtime's manager does); a signal, a sanitizer report or another error is a
        # crash.
        crashes = [(i, c, line) for _, i, c, _, line in reps.unexpected_exits
                   if c != 1 or "leader election lost" not in line]
        self.check("no replica crashed (an exit on its own only after losing the Lease)", not crashes,
                   "; ".join(f"{i} exited with {c}: {line[:200]}" for i, c, line in crashes))
        # SIGTERM: a clean stop (exit 0; with the sanitizer build, also no leak or error report).
        self.sigterm_exits += reps.stop_all()
        unclean = [(i, c) for i, c in self.sigterm_exits if c != 0]
        self.check(f"every replica stopped with SIGTERM exited 0 within {STOP_GRACE_S} s", not unclean,
                   "; ".join(f"{i} exited with {c}" for i, c in unclean))
        relists = [f["relists"] for f in self.faults if f["kind"] == "compaction"]
        self.check("the operator relisted after each compaction (410 Gone)",
                   all(r for r in relists), f"relists per compaction: {relists}")

        result = {
            "seed": a.seed, "size": a.size, "services": a.services,
            "faults": [{k: v for k, v in f.items() if k != "t"} for f in self.faults],
            "faults_during_rollout": sum(1 for f in self.faults if f["running_before"] < a.services),
            "rollout_to_converged_s": round(t_conv - self.t_rollout, 1),
            "last_fault_to_converged_s": round(t_conv - t_last, 1),
            "operator_starts": reps.starts,
            "unexpected_exits": [{"identity": i, "code": c, "at_s": round(t - self.t_rollout, 1),
                                  "last_line": line[:300]}
                                 for _, i, c, t, line in reps.unexpected_exits],
            "quiet_window": {"seconds": round(window.seconds, 1), "settle_s": round(settle_s, 1),
                             "reconcile_errors": window.reconcile_errors, "retries": window.retries,
                             "reconciles": window.reconciles, "error_lines": len(window.error_lines)},
            "objects": {k: len(v) for k, v in state.items()},
            "isvcs_marked_ready": self.monitor.marked,
            "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in self.checks],
            "wall_s": round(time.time() - t_start, 1),
        }
        log("  result: " + json.dumps(result))
        if a.json:
            Path(a.json).write_text(json.dumps(result, indent=1))
        return result

    def live_self_test(self, state):
        """The checker must fail on a violating cluster: one violation of each kind is created
        in the real cluster, the checker must report each, then they are removed."""
        c, ns = self.cluster, NS_SERVICES
        isvc = next(i for i in state["InferenceService"] if i["metadata"]["namespace"] == ns)
        dup = {"apiVersion": isvc["apiVersion"], "kind": "InferenceService",
               "metadata": {"name": "chaos-selftest-dup", "namespace": ns,
                            "labels": isvc["metadata"].get("labels", {}),
                            "ownerReferences": isvc["metadata"]["ownerReferences"]},
               "spec": isvc["spec"]}
        art = {"apiVersion": API, "kind": "AIMArtifact",
               "metadata": {"name": "chaos-selftest-orphan", "namespace": ns,
                            "labels": {checker.CACHE_LABEL: "chaos-selftest-no-such-cache"}},
               "spec": {"sourceUri": "hf://chaos/selftest", "size": "1Gi"}}
        svc = {"apiVersion": API, "kind": "AIMService",
               "metadata": {"name": "chaos-selftest-stuck", "namespace": ns},
               "spec": {"model": {"name": "chaos-selftest-no-such-model"}}}
        paths = [ISVC.format(ns=ns), f"/apis/{API}/namespaces/{ns}/aimartifacts",
                 f"/apis/{API}/namespaces/{ns}/aimservices"]
        for path, body in zip(paths, (dup, art, svc)):
            c.request("POST", path, body)
        try:
            v = checker.check(checker.snapshot(c))
            found = {
                "one-isvc-per-service": any(x.rule == "one-isvc-per-service" and
                                            "chaos-selftest-dup" in x.detail for x in v),
                "no-orphan": any(x.rule == "no-orphan" and "chaos-selftest-orphan" in x.detail
                                 for x in v),
                "converged": any(x.rule == "converged" and "chaos-selftest-stuck" in x.detail
                                 for x in v),
            }
            self.check("the checker reports a duplicate InferenceService, an orphan and a stuck "
                       "service created on purpose", all(found.values()), json.dumps(found))
        finally:
            for path, body in zip(paths, (dup, art, svc)):
                try:
                    c.request("DELETE", f"{path}/{body['metadata']['name']}")
                except (OSError, ApiError):
                    pass


def counters(op):
    """Sums of the operator's reconcile, reconcile error and retry counters."""
    out = {"reconciles": 0.0, "errors": 0.0, "retries": 0.0}
    names = {"controller_runtime_reconcile_total{": "reconciles",
             "controller_runtime_reconcile_errors_total{": "errors",
             "workqueue_retries_total{": "retries"}
    for line in op.metrics_text().splitlines():
        for prefix, key in names.items():
            if line.startswith(prefix):
                out[key] += float(line.rsplit(" ", 1)[1])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", help="the aim-engine binary")
    p.add_argument("--size", choices=sorted(SIZES), default="ci")
    p.add_argument("--seed", type=int, default=None, help="fault schedule and workload order "
                   "(default: random, printed)")
    for k in ("services", "kills", "apiserver_restarts", "compactions", "failovers", "qps",
              "deadline", "quiet", "pause_min", "pause_max"):
        p.add_argument("--" + k.replace("_", "-"), type=type(SIZES["ci"][k]), default=None,
                       help=f"default: the size's ({SIZES['ci'][k]} for ci, {SIZES['long'][k]} for long)")
    p.add_argument("--cluster-dir", default=os.environ.get("AIM_CHAOS_CLUSTER_DIR") or
                   str(ROOT / ".local/cluster-chaos"),
                   help="state dir of the cluster (deleted at the start; AIM_CHAOS_CLUSTER_DIR)")
    p.add_argument("--port-offset", type=int, default=int(os.environ.get("AIM_CHAOS_PORT_OFFSET", "10000")),
                   help="the cluster's ports are cluster.sh's defaults plus this (AIM_CHAOS_PORT_OFFSET)")
    p.add_argument("--keep", action="store_true", help="leave the cluster running afterwards")
    p.add_argument("--json", help="write the result here")
    a = p.parse_args()
    for k, v in SIZES[a.size].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 10**6)
    a.binary = os.path.abspath(a.binary)
    for var, port in DEFAULT_PORTS.items():
        os.environ[var] = str(port + a.port_offset)
    try:
        result = Chaos(a).run()
        checks = result["checks"]
    except Exception as e:  # the run itself broke: one failed check, with the reason
        log(f"chaos: the run failed: {e!r} (seed {a.seed})")
        checks = [{"name": "run", "ok": False, "detail": repr(e)}]
    failed = [c for c in checks if not c["ok"]]
    for c in failed:
        print(f"FAILED: {c['name']}: {c['detail']}")
    print(f"chaos: {len(checks) - len(failed)} passed, {len(failed)} failed (seed {a.seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
