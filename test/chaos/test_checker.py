"""The checker can fail: each rule over a clean state and over a state that breaks it.

  python3 -m pytest -q test/chaos/test_checker.py
"""
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import checker  # noqa: E402


def obj(kind, name, ns="bench", uid=None, owner=None, labels=None, spec=None, status=None):
    meta = {"name": name, "uid": uid or f"uid-{kind}-{name}", "generation": 1,
            "labels": labels or {}}
    if ns:
        meta["namespace"] = ns
    if owner is not None:
        meta["ownerReferences"] = [{"kind": owner["kind"], "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"], "controller": True}]
    return {"kind": kind, "metadata": meta, "spec": spec or {}, "status": status or {}}


def clean():
    model = obj("AIMClusterModel", "m", ns=None)
    tpl = obj("AIMClusterServiceTemplate", "m-lat", ns=None, owner=model, spec={"modelName": "m"})
    derived = obj("AIMServiceTemplate", "m-lat-ovr-fp16", labels={"aim.eai.amd.com/origin": "derived"},
                  spec={"modelName": "m", "precision": "fp16"})
    cache = obj("AIMTemplateCache", "m-lat-cache", spec={"templateName": "m-lat", "mode": "Shared"})
    art = obj("AIMArtifact", "hf-m", labels={checker.CACHE_LABEL: "m-lat-cache"},
              spec={"sourceUri": "hf://m"})
    pvc = obj("PersistentVolumeClaim", "hf-m-cache", owner=art)
    job = obj("Job", "hf-m-download", owner=art)
    running = {"status": "Running", "observedGeneration": 1}
    svcs = [obj("AIMService", f"svc-{i}", status=dict(running)) for i in range(3)]
    isvcs = [obj("InferenceService", f"svc-{i}", owner=s, labels={checker.SERVICE_LABEL: f"svc-{i}"})
             for i, s in enumerate(svcs)]
    return {"AIMService": svcs, "AIMModel": [], "AIMClusterModel": [model],
            "AIMServiceTemplate": [derived], "AIMClusterServiceTemplate": [tpl],
            "AIMTemplateCache": [cache], "AIMArtifact": [art], "InferenceService": isvcs,
            "PersistentVolumeClaim": [pvc], "Job": [job]}


def rules(state):
    return sorted({v.rule for v in checker.check(state)})


def test_a_clean_state_passes():
    assert checker.check(clean()) == []


def test_a_second_inference_service_for_a_service():
    s = clean()
    dup = copy.deepcopy(s["InferenceService"][0])
    dup["metadata"].update(name="svc-0-copy", uid="uid-dup")
    s["InferenceService"].append(dup)
    v = checker.check(s)
    assert [x.rule for x in v] == ["one-isvc-per-service"]
    assert "svc-0-copy" in v[0].detail


def test_a_service_without_inference_service():
    s = clean()
    s["InferenceService"].pop()
    assert rules(s) == ["one-isvc-per-service"]


def test_an_inference_service_labelled_for_a_missing_service_is_reported():
    s = clean()
    s["InferenceService"][0]["metadata"]["labels"][checker.SERVICE_LABEL] = "gone"
    assert rules(s) == ["one-isvc-per-service"]


def test_a_child_whose_owner_is_gone():
    s = clean()
    s["PersistentVolumeClaim"][0]["metadata"]["ownerReferences"][0]["uid"] = "uid-gone"
    v = checker.check(s)
    assert [x.rule for x in v] == ["no-orphan"]
    assert "hf-m-cache" in v[0].detail


def test_an_owner_reference_to_a_recreated_owner_is_an_orphan():
    s = clean()
    # Same name, another uid: the service was deleted and created again.
    s["AIMService"][1]["metadata"]["uid"] = "uid-new"
    assert "no-orphan" in rules(s)


def test_an_artifact_of_a_missing_cache_and_a_cache_of_a_missing_template():
    s = clean()
    s["AIMArtifact"][0]["metadata"]["labels"][checker.CACHE_LABEL] = "no-such-cache"
    s["AIMTemplateCache"][0]["spec"]["templateName"] = "no-such-template"
    v = [x for x in checker.check(s) if x.rule == "no-orphan"]
    assert len(v) == 2


def test_duplicates_of_each_shared_child():
    for kind in ("AIMServiceTemplate", "AIMClusterServiceTemplate", "AIMTemplateCache",
                 "AIMArtifact", "PersistentVolumeClaim"):
        s = clean()
        dup = copy.deepcopy(s[kind][0])
        dup["metadata"].update(name=dup["metadata"]["name"] + "-2", uid="uid-dup")
        s[kind].append(dup)
        v = checker.check(s)
        assert [x.rule for x in v] == ["no-duplicate"], kind
        assert kind in v[0].detail


def test_a_dedicated_cache_per_service_is_not_a_duplicate():
    s = clean()
    for svc in s["AIMService"][:2]:
        s["AIMTemplateCache"].append(obj("AIMTemplateCache", "dedicated-" + svc["metadata"]["name"],
                                         owner=svc, spec={"templateName": "m-lat", "mode": "Dedicated"}))
    assert checker.check(s) == []


def test_two_shared_caches_of_one_template_are_duplicates_whoever_owns_them():
    s = clean()
    # Issue 27 item 2: the template and a service can each create a Shared cache.
    tpl = s["AIMClusterServiceTemplate"][0]
    s["AIMTemplateCache"].append(obj("AIMTemplateCache", "m-lat-cache-by-template", owner=tpl,
                                     spec={"templateName": "m-lat", "mode": "Shared"}))
    assert rules(s) == ["no-duplicate"]


def test_a_service_that_is_not_running_or_not_observed():
    s = clean()
    s["AIMService"][0]["status"]["status"] = "Starting"
    s["AIMService"][1]["metadata"]["generation"] = 2
    v = checker.check(s)
    assert [x.rule for x in v] == ["converged"]
    assert "2 of 3 services" in v[0].detail


def test_the_quiet_window():
    ok = checker.QuietWindow(seconds=30, reconcile_errors=0, retries=0, reconciles=5,
                             error_lines=[], max_reconciles=200)
    assert checker.check_quiet(ok) == []
    loop = checker.QuietWindow(seconds=30, reconcile_errors=12, retries=12, reconciles=900,
                               error_lines=['{"level":"error"}'], max_reconciles=200)
    assert len(checker.check_quiet(loop)) == 4
