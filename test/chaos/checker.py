"""The chaos suite's checker: what must hold of the cluster after a run, whatever faults it saw.

  snapshot(cluster)          lists every kind the operator creates or owns through (a dict of
                             lists of objects, as the API server returns them)
  check(state)               the rules below over a snapshot; a list of Violation (empty: passed)
  check_quiet(window)        the "no error loop" rule over the operator's counters in the quiet
                             window after convergence

Rules (docs/chaos.md):
  one-isvc-per-service  every AIMService controls exactly one InferenceService, and every
                        InferenceService with an aim.eai.amd.com/service.name label belongs to
                        an AIMService of that name
  no-orphan             every owner reference of every listed object names an object that exists
                        (same uid, kind and name); an AIMArtifact labelled with its template cache
                        (aim.eai.amd.com/template-cache.name) names a cache that exists; a Shared
                        AIMTemplateCache names a template that exists
  no-duplicate          one derived AIMServiceTemplate per (namespace, spec); one
                        AIMClusterServiceTemplate per spec; one Shared AIMTemplateCache per
                        (namespace, template), whichever object created it, and one Dedicated
                        per owning service; one AIMArtifact per (namespace, source URI,
                        controlling owner); one PVC per controlling AIMArtifact
  converged             every AIMService is Running, with status.observedGeneration equal to
                        metadata.generation
  no-error-loop         in the quiet window: no reconcile error, no rate-limited retry, no log
                        line at level error, and at most `max_reconciles` reconciles
"""
import json
from collections import defaultdict
from dataclasses import dataclass

AIM = "/apis/aim.eai.amd.com/v1alpha1"
# kind -> list path (every namespace)
KINDS = {
    "AIMService": f"{AIM}/aimservices",
    "AIMModel": f"{AIM}/aimmodels",
    "AIMClusterModel": f"{AIM}/aimclustermodels",
    "AIMServiceTemplate": f"{AIM}/aimservicetemplates",
    "AIMClusterServiceTemplate": f"{AIM}/aimclusterservicetemplates",
    "AIMTemplateCache": f"{AIM}/aimtemplatecaches",
    "AIMArtifact": f"{AIM}/aimartifacts",
    "InferenceService": "/apis/serving.kserve.io/v1beta1/inferenceservices",
    "PersistentVolumeClaim": "/api/v1/persistentvolumeclaims",
    "Job": "/apis/batch/v1/jobs",
}
SERVICE_LABEL = "aim.eai.amd.com/service.name"
CACHE_LABEL = "aim.eai.amd.com/template-cache.name"
ORIGIN_LABEL = "aim.eai.amd.com/origin"


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str

    def __str__(self):
        return f"{self.rule}: {self.detail}"


def snapshot(cluster):
    return {kind: cluster.list(path) for kind, path in KINDS.items()}


def _meta(o):
    return o.get("metadata", {})


def _ref(kind, o):
    ns = _meta(o).get("namespace")
    return f"{kind} {ns + '/' if ns else ''}{_meta(o).get('name')}"


def _controller(o):
    for r in _meta(o).get("ownerReferences") or []:
        if r.get("controller"):
            return r
    return None


def _labels(o):
    return _meta(o).get("labels") or {}


def check(state):
    out = []
    out += check_one_isvc_per_service(state)
    out += check_no_orphan(state)
    out += check_no_duplicate(state)
    out += check_converged(state)
    return out


def check_one_isvc_per_service(state):
    out = []
    services = state.get("AIMService", [])
    by_uid = {_meta(s)["uid"]: s for s in services}
    names = {(_meta(s).get("namespace"), _meta(s)["name"]) for s in services}
    controlled = defaultdict(list)
    for isvc in state.get("InferenceService", []):
        ctl = _controller(isvc)
        if ctl and ctl.get("kind") == "AIMService":
            controlled[ctl.get("uid")].append(_meta(isvc)["name"])
        label = _labels(isvc).get(SERVICE_LABEL)
        if label is not None and (_meta(isvc).get("namespace"), label) not in names:
            out.append(Violation("one-isvc-per-service",
                                 f"{_ref('InferenceService', isvc)} is labelled for service "
                                 f"{label}, which does not exist"))
    for uid, s in by_uid.items():
        isvcs = controlled.get(uid, [])
        if len(isvcs) != 1:
            out.append(Violation("one-isvc-per-service",
                                 f"{_ref('AIMService', s)} controls {len(isvcs)} InferenceServices "
                                 f"{sorted(isvcs)}"))
    return out


def check_no_orphan(state):
    out = []
    uids = {}
    for kind, objs in state.items():
        for o in objs:
            uids[_meta(o).get("uid")] = (kind, _meta(o).get("name"), _meta(o).get("namespace"))
    for kind, objs in state.items():
        for o in objs:
            for r in _meta(o).get("ownerReferences") or []:
                owner = uids.get(r.get("uid"))
                if owner is None:
                    out.append(Violation("no-orphan", f"{_ref(kind, o)}: owner {r.get('kind')} "
                                         f"{r.get('name')} (uid {r.get('uid')}) does not exist"))
                elif owner[0] != r.get("kind") or owner[1] != r.get("name"):
                    out.append(Violation("no-orphan", f"{_ref(kind, o)}: owner reference "
                                         f"{r.get('kind')} {r.get('name')} has the uid of "
                                         f"{owner[0]} {owner[1]}"))
    caches = {(_meta(c).get("namespace"), _meta(c)["name"]) for c in state.get("AIMTemplateCache", [])}
    for a in state.get("AIMArtifact", []):
        cache = _labels(a).get(CACHE_LABEL)
        if cache and (_meta(a).get("namespace"), cache) not in caches:
            out.append(Violation("no-orphan", f"{_ref('AIMArtifact', a)}: template cache {cache} "
                                 "does not exist"))
    ns_templates = {(_meta(t).get("namespace"), _meta(t)["name"])
                    for t in state.get("AIMServiceTemplate", [])}
    cluster_templates = {_meta(t)["name"] for t in state.get("AIMClusterServiceTemplate", [])}
    for c in state.get("AIMTemplateCache", []):
        if _controller(c):
            continue  # a Dedicated cache: its owner is checked above
        name = c.get("spec", {}).get("templateName")
        if name and (_meta(c).get("namespace"), name) not in ns_templates and name not in cluster_templates:
            out.append(Violation("no-orphan", f"{_ref('AIMTemplateCache', c)}: template {name} "
                                 "does not exist"))
    return out


def _spec_key(o):
    return json.dumps(o.get("spec", {}), sort_keys=True)


def _duplicates(rule_what, objs, key, kind):
    groups = defaultdict(list)
    for o in objs:
        k = key(o)
        if k is not None:
            groups[k].append(_meta(o)["name"])
    return [Violation("no-duplicate", f"{len(v)} {kind}s for one {rule_what}: {sorted(v)}")
            for v in groups.values() if len(v) > 1]


def _ctl_uid(o):
    ctl = _controller(o)
    return ctl.get("uid") if ctl else ""


def check_no_duplicate(state):
    out = []
    out += _duplicates(
        "base template and overrides", state.get("AIMServiceTemplate", []),
        lambda t: ((_meta(t).get("namespace"), _spec_key(t))
                   if _labels(t).get(ORIGIN_LABEL) == "derived" else None),
        "derived AIMServiceTemplate")
    out += _duplicates("model deployment", state.get("AIMClusterServiceTemplate", []),
                       _spec_key, "AIMClusterServiceTemplate")
    out += _duplicates(
        "template", state.get("AIMTemplateCache", []),
        # Shared: one per template, whoever made it (a service or the template itself; issue 27
        # item 2). Dedicated: one per owning service.
        lambda c: (_meta(c).get("namespace"), c.get("spec", {}).get("templateName"),
                   c.get("spec", {}).get("mode"),
                   _ctl_uid(c) if c.get("spec", {}).get("mode") == "Dedicated" else ""),
        "AIMTemplateCache")
    out += _duplicates(
        "source", state.get("AIMArtifact", []),
        lambda a: (_meta(a).get("namespace"), a.get("spec", {}).get("sourceUri"), _ctl_uid(a)),
        "AIMArtifact")
    out += _duplicates(
        "artifact", state.get("PersistentVolumeClaim", []),
        lambda p: (_ctl_uid(p) if (_controller(p) or {}).get("kind") == "AIMArtifact" else None),
        "PersistentVolumeClaim")
    return out


def check_converged(state, show=10):
    bad = []
    for s in state.get("AIMService", []):
        st = s.get("status") or {}
        if st.get("status") != "Running" or st.get("observedGeneration") != _meta(s).get("generation"):
            ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), {})
            bad.append(f"{_ref('AIMService', s)} is {st.get('status')!r} (observedGeneration "
                       f"{st.get('observedGeneration')} of {_meta(s).get('generation')}; Ready "
                       f"{ready.get('reason')}: {str(ready.get('message'))[:120]})")
    if not bad:
        return []
    more = f" (and {len(bad) - show} more)" if len(bad) > show else ""
    return [Violation("converged", f"{len(bad)} of {len(state.get('AIMService', []))} services "
                      f"have not converged{more}: " + "; ".join(bad[:show]))]


@dataclass
class QuietWindow:
    seconds: float
    reconcile_errors: float  # increase of controller_runtime_reconcile_errors_total
    retries: float           # increase of workqueue_retries_total
    reconciles: float        # increase of controller_runtime_reconcile_total
    error_lines: list        # the operator's log lines at level error in the window
    max_reconciles: float    # the bound on reconciles in the window


def check_quiet(w):
    out = []
    if w.reconcile_errors > 0:
        out.append(Violation("no-error-loop", f"{w.reconcile_errors:.0f} reconcile errors in the "
                             f"{w.seconds:.0f} s after convergence"))
    if w.retries > 0:
        out.append(Violation("no-error-loop", f"{w.retries:.0f} rate-limited retries in the "
                             f"{w.seconds:.0f} s after convergence"))
    if w.error_lines:
        out.append(Violation("no-error-loop", f"{len(w.error_lines)} error log lines in the "
                             f"{w.seconds:.0f} s after convergence, e.g. {w.error_lines[0][:300]}"))
    if w.reconciles > w.max_reconciles:
        out.append(Violation("no-error-loop", f"{w.reconciles:.0f} reconciles in the "
                             f"{w.seconds:.0f} s after convergence (bound {w.max_reconciles:.0f})"))
    return out
