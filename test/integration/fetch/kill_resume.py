#!/usr/bin/env python3
"""aim-fetch killed with SIGKILL at random points of one download, then run to the end.

    kill_resume.py AIM_FETCH WORK [--kills N] [--seed S]

Makes a repository WORK/kr-hf/org/resume (3 large files + 20 small ones, some below the server's
LFS threshold, some above), serves it with the Hub test server (test/servers/model_server.py)
slowed by its "throttle" fault so a download takes a few seconds, then:

  * runs aim-fetch into one destination N times, each killed (SIGKILL, the process itself) once
    the bytes on disk reach a random point of the download, spread over all of it, plus a random
    few milliseconds so kills also land between a range's end and the next record;
  * after every kill: each file under its final name is byte-identical to the source (a partial
    or corrupt file never sits under a final name), and nothing else is there but the staging
    directory;
  * runs it once more, unkilled: exit 0, every file correct, manifest written, no staging left;
    its `start` resumedBytes plus its `done` transferredBytes is the total, and transferredBytes
    is what the server sent during that run (the progress counters are true); the same on a
    second destination killed once halfway, where both counters must be non-zero;
  * everything the server sent over all runs exceeds the total by at most one chunk per range in
    flight per kill (-j ranges), i.e. a kill costs no more than the unrecorded tail of each
    transfer it interrupted;
  * two aim-fetch started at once on a new destination both exit 0 with correct files; one of
    them reports (a "wait" event) that the other holds the destination.

Prints one "PASS ..."/"FAIL ..." line per check and exits non-zero on any failure.
"""
import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request

CHUNK_MIB = 2
JOBS = 4
THROTTLE = 6 << 20  # bytes per second per response
ENV = dict(os.environ)  # HF_ENDPOINT is set once the server runs
HERE = os.path.dirname(os.path.abspath(__file__))


def admin(port, body=None, method="POST"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_admin/faults", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    urllib.request.urlopen(req, timeout=10).read()


def bytes_sent(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_admin/stats", timeout=10) as r:
        return json.load(r)["bytes_sent"]


def settled_bytes_sent(port):
    """bytes_sent once the server stopped writing to connections of a killed client (a throttled
    response goes on writing into the dead socket until the kernel reports the reset)."""
    last = bytes_sent(port)
    for _ in range(100):
        time.sleep(0.3)
        now = bytes_sent(port)
        if now == last:
            return now
        last = now
    return last


def make_repo(root, rng):
    repo = os.path.join(root, "org", "resume")
    os.makedirs(os.path.join(repo, "extra"), exist_ok=True)
    files = {}
    for i in range(3):
        files[f"model-0000{i + 1}-of-00003.safetensors"] = rng.randbytes((9 << 20) + rng.randrange(1 << 20))
    for i in range(20):
        # The suite's server treats files up to 200000 bytes as git files, larger ones as LFS.
        size = rng.choice([0, 17, 4096, 150_000, 250_000, 600_000])
        files[f"extra/part-{i:02d}.bin"] = rng.randbytes(size)
    for name, data in files.items():
        with open(os.path.join(repo, name), "wb") as f:
            f.write(data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}, \
        {name: len(data) for name, data in files.items()}


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def on_disk(dest, sizes):
    """Bytes aim-fetch has: files in place plus what the range records say."""
    n = 0
    for name, size in sizes.items():
        p = os.path.join(dest, name)
        if os.path.isfile(p) and os.path.getsize(p) == size:
            n += size
    staging = os.path.join(dest, ".aim-fetch")
    try:
        for e in os.listdir(staging):
            if e.endswith(".part.json"):
                try:
                    with open(os.path.join(staging, e)) as f:
                        n += sum(json.load(f)["done"])
                except (OSError, ValueError, KeyError):
                    pass
    except OSError:
        pass
    return n


def final_names_correct(dest, sums):
    """None when every file under a final name is complete and correct, else what is wrong."""
    for dirpath, dirnames, filenames in os.walk(dest):
        rel_dir = os.path.relpath(dirpath, dest)
        if rel_dir == ".aim-fetch" or rel_dir.startswith(".aim-fetch" + os.sep):
            continue
        for fn in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, fn)).replace(os.sep, "/")
            if rel == ".aim-manifest.json":
                continue
            if rel not in sums:
                return f"unexpected file {rel}"
            if sha256_of(os.path.join(dirpath, fn)) != sums[rel]:
                return f"{rel} is under its final name but its content is wrong"
    return None


def events(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                out.append(json.loads(line))
    except (OSError, ValueError):
        pass
    return out


def counters(progress):
    """(start.resumedBytes, done.transferredBytes) of one run's progress file; -1 when absent."""
    ev = events(progress)
    start = next((e for e in ev if e.get("event") == "start"), {})
    done = next((e for e in ev if e.get("event") == "done"), {})
    return start.get("resumedBytes", -1), done.get("transferredBytes", -1)


def fetch_args(aim_fetch, dest, progress):
    return [aim_fetch, "hf://org/resume", dest, "-q", "-j", str(JOBS), "--chunk-mib",
            str(CHUNK_MIB), "--progress-file", progress]


def run(aim_fetch, dest, progress, kill_at=None, sizes=None, extra_ms=0):
    """Runs aim-fetch; with kill_at, SIGKILLs it once on-disk bytes reach kill_at. Returns
    (exit code or None when killed, seconds)."""
    if os.path.exists(progress):
        os.remove(progress)
    t0 = time.monotonic()
    p = subprocess.Popen(fetch_args(aim_fetch, dest, progress), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    if kill_at is None:
        _, err = p.communicate(timeout=300)
        if p.returncode != 0:
            sys.stderr.write(err.decode(errors="replace"))
        return p.returncode, time.monotonic() - t0
    while p.poll() is None:
        if on_disk(dest, sizes) >= kill_at:
            time.sleep(extra_ms / 1000.0)
            break
        if time.monotonic() - t0 > 120:
            p.kill()
            p.communicate()
            return -1, time.monotonic() - t0  # stuck: reported as a broken run
        time.sleep(0.005)
    if p.poll() is not None:  # finished before the kill point
        p.communicate()
        return p.returncode, time.monotonic() - t0
    p.send_signal(signal.SIGKILL)
    p.communicate()
    return None, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aim_fetch")
    ap.add_argument("work")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("AIM_RESUME_SEED", time.time())))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    root = os.path.join(a.work, "kr-hf")
    sums, sizes = make_repo(root, rng)
    server = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "..", "..", "servers", "model_server.py"), "hf",
         "--root", root, "--lfs-threshold", "200000"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)  # killed clients make it log connection resets
    try:
        ready = server.stdout.readline().split()
        if not ready or ready[0] != "READY":
            print("FAIL the Hub test server did not start")
            return 1
        port = int(ready[1])
        return scenarios(a, rng, port, sums, sizes)
    finally:
        server.terminate()
        server.wait()


def scenarios(a, rng, port, sums, sizes):
    failures = 0

    def check(cond, what, detail=""):
        nonlocal failures
        if cond:
            print(f"PASS {what}", flush=True)
        else:
            failures += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}", flush=True)

    ENV["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
    for k in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        ENV.pop(k, None)
    total = sum(sizes.values())
    dest = os.path.join(a.work, "resume")
    progress = os.path.join(a.work, "resume-progress.jsonl")
    admin(port, {"throttle": {"bytes_per_second": THROTTLE}})
    try:
        sent0 = bytes_sent(port)
        points = sorted(rng.randrange(0, total) for _ in range(a.kills))
        killed, finished_early, broken = 0, 0, []
        for i, point in enumerate(points):
            code, secs = run(a.aim_fetch, dest, progress, kill_at=point, sizes=sizes,
                             extra_ms=rng.randrange(0, 40))
            if code is None:
                killed += 1
            elif code == 0:
                finished_early += 1
            else:
                broken.append(f"run {i + 1} exited {code} before its kill point")
            wrong = final_names_correct(dest, sums)
            if wrong:
                broken.append(f"after kill {i + 1} at {point} bytes: {wrong}")
        check(not broken, f"{killed} SIGKILLs at random points (seed {a.seed}): only complete, "
              f"correct files under final names", "; ".join(broken[:5]))
        sent_before_final = settled_bytes_sent(port)
        code, secs = run(a.aim_fetch, dest, progress)
        sent_final = bytes_sent(port) - sent_before_final
        wrong = final_names_correct(dest, sums)
        missing = [n for n in sums if not os.path.isfile(os.path.join(dest, n))]
        check(code == 0 and not wrong and not missing and
              os.path.isfile(os.path.join(dest, ".aim-manifest.json")) and
              not os.path.exists(os.path.join(dest, ".aim-fetch")),
              f"run after the kills: exit 0, all {len(sums)} files correct, manifest, no staging",
              f"exit {code} wrong={wrong} missing={missing[:3]}")
        resumed, transferred = counters(progress)
        check(resumed + transferred == total and transferred == sent_final,
              f"counters: resumed {resumed} + transferred {transferred} = total {total}, "
              f"transferred = served {sent_final}",
              f"resumed+transferred={resumed + transferred}")
        served = bytes_sent(port) - sent0
        allowance = killed * JOBS * (CHUNK_MIB << 20)
        check(served - total <= allowance,
              f"re-fetched {served - total} bytes over {killed} kills "
              f"(at most {JOBS} ranges x {CHUNK_MIB} MiB per kill: {allowance})",
              f"served {served} for {total}")

        # One kill halfway, so the counters are checked on a run that both resumes and transfers.
        half = os.path.join(a.work, "resume-half")
        point = total // 3 + rng.randrange(total // 3)
        code, _ = run(a.aim_fetch, half, progress, kill_at=point, sizes=sizes)
        on_disk_after_kill = on_disk(half, sizes)
        before = settled_bytes_sent(port)
        code2, _ = run(a.aim_fetch, half, progress)
        sent = bytes_sent(port) - before
        resumed, transferred = counters(progress)
        check(code is None and code2 == 0 and final_names_correct(half, sums) is None and
              0 < resumed <= on_disk_after_kill and transferred > 0 and
              resumed + transferred == total and transferred == sent,
              f"killed at {point} of {total} bytes, then resumed {resumed} (records said "
              f"{on_disk_after_kill}) and transferred {transferred} (server sent {sent})",
              f"exit codes {code}/{code2}, resumed+transferred={resumed + transferred}")

        # Two at once on one destination.
        both = os.path.join(a.work, "resume-both")
        procs = []
        for k in range(2):
            pf = os.path.join(a.work, f"both-{k}.jsonl")
            if os.path.exists(pf):
                os.remove(pf)
            procs.append((subprocess.Popen(fetch_args(a.aim_fetch, both, pf),
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                           env=ENV), pf))
        codes = [p.wait(timeout=300) for p, _ in procs]
        waits = [sum(1 for e in events(pf) if e.get("event") == "wait") for _, pf in procs]
        wrong = final_names_correct(both, sums)
        missing = [n for n in sums if not os.path.isfile(os.path.join(both, n))]
        check(codes == [0, 0] and not wrong and not missing and sum(waits) == 1 and
              not os.path.exists(os.path.join(both, ".aim-fetch")),
              "two aim-fetch on one destination: both exit 0, one waited for the other",
              f"exit codes {codes}, wait events {waits}, wrong={wrong}, missing={missing[:3]}")
    finally:
        admin(port, method="DELETE")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
