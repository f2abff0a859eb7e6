#!/usr/bin/env python3
"""aim-fetch against the tools a user would pick instead, in one run, rounds interleaved.

    bench/fetch/bench.py AIM_FETCH [--rounds 3] [--big-files 3] [--big-gib 1]
                         [--digest-bench build/release/bench/fetch/digest_bench]
                         [--baseline OTHER_AIM_FETCH] [--variant ARGS]...

Builds a repository of BIG_FILES x BIG_GIB GiB random files plus 20 small ones, serves it from the
Hub test server (LFS files through its CDN port, sendfile) and the S3 test server (gofakes3 behind
a SigV4 verifier; a second instance stores a CRC-64/NVME full-object checksum with every object,
as current AWS SDKs do), all on 127.0.0.1, then:

  1. measures the machine's limits on the same data: curl to /dev/null on one stream and on one
     stream per large file, writing the data to the destination disk (dd, one per large file at
     once) buffered with fsync and with O_DIRECT (the disk limit of the share column), and SHA-256 / MD5 per core (openssl over the page-cached source), and
     aim-fetch's own digests per core (digest_bench, when built);
  2. runs every client ROUNDS times, the order rotated each round so no client always goes first
     or last, each into an empty directory; a run counts only when every file it wrote is byte-
     identical to the source; records wall seconds, user+system CPU seconds and peak RSS;
  3. asks each client once more with the server flipping one byte of one large file in every
     response: a client "verifies" when it exits non-zero and leaves no wrong file under its
     final name.

--baseline adds, next to every aim-fetch row, a row for another aim-fetch binary (an A/B of two
builds), and each --variant a row for AIM_FETCH run with extra arguments (e.g.
--variant=--direct-io=off); they run in the same rounds, interleaved with the rest. The ratio to
the fastest other client uses the plain AIM_FETCH row.

With --profile, each aim-fetch row also runs once under `perf record` (flat profile of user and
kernel symbols, the top ones printed) and once under `strace -f -c` (system calls per MiB), to
show where its time goes per byte.

Prints Markdown (limits, then one row per client: median and range of seconds, MiB/s of the
median, share of the disk-write limit, CPU, peak RSS, verifies) and the ratio of aim-fetch's
median to the fastest other client of the same protocol. Data lives under /tmp and is removed.
Clients come from test/servers/setup-venv.sh (huggingface_hub 2.x; --bench: huggingface_hub
0.36.2, hf_transfer, the AWS CLI and s5cmd 2.3.0); a missing client is reported as such.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
IGNORED = {".aim-manifest.json", ".aim-fetch", ".cache"}
MIB = 1 << 20


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout.strip()


def start_server(argv, cwd=None):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd)
    line = p.stdout.readline().split()
    if not line or line[0] != "READY":
        p.kill()
        sys.exit(f"bench: {argv[0]} did not start")
    return p, int(line[1])


def admin(url, body=None):
    req = urllib.request.Request(url + "/_admin/faults", method="POST" if body else "DELETE",
                                 data=json.dumps(body).encode() if body else None)
    urllib.request.urlopen(req, timeout=10).read()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(8 * MIB):
            h.update(b)
    return h.hexdigest()


def wrong_files(out, sums):
    """Files under final names that differ from the source, and source files missing."""
    wrong, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(out):
        rel_dir = os.path.relpath(dirpath, out)
        dirnames[:] = [d for d in dirnames if d not in IGNORED]
        for fn in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, fn))
            if rel in IGNORED:
                continue
            seen.add(rel)
            if rel not in sums or sha256_file(os.path.join(dirpath, fn)) != sums[rel]:
                wrong.append(rel)
    return wrong, [r for r in sums if r not in seen]


def timed(argv, env):
    """(exit code, wall seconds, cpu seconds, peak RSS MiB, output tail)."""
    stats = tempfile.mktemp(prefix="bench-time.")
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats] + argv, env=env,
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    try:
        user, system, rss = open(stats).read().split()[-3:]
        os.unlink(stats)
    except (OSError, ValueError):
        user, system, rss = 0, 0, 0
    tail = (p.stdout + p.stderr).strip().splitlines()[-3:]
    return p.returncode, wall, float(user) + float(system), int(rss) / 1024, " | ".join(tail)


def rate(total, seconds):
    return total / seconds if seconds > 0 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aim_fetch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big-files", type=int, default=3)
    ap.add_argument("--big-gib", type=float, default=1)
    ap.add_argument("--only", default="", help="comma-separated client name prefixes")
    ap.add_argument("--profile", action="store_true",
                    help="also profile each aim-fetch row (perf record, strace -c)")
    ap.add_argument("--baseline", default="",
                    help="another aim-fetch binary, given a row next to each aim-fetch row")
    ap.add_argument("--variant", action="append", default=[],
                    help="extra aim-fetch arguments (space-separated), given a row next to each "
                         "aim-fetch row; repeatable")
    ap.add_argument("--digest-bench", default="",
                    help="digest_bench binary (default: bench/fetch/digest_bench in the build "
                         "tree of AIM_FETCH)")
    a = ap.parse_args()
    aim_fetch = os.path.abspath(a.aim_fetch)
    if not a.digest_bench:
        a.digest_bench = os.path.join(os.path.dirname(aim_fetch), "..", "..", "bench", "fetch",
                                      "digest_bench")
    work = tempfile.mkdtemp(prefix="aim-fetch-bench.")
    servers = []
    try:
        return bench(a, aim_fetch, work, servers)
    finally:
        for s in servers:
            s.kill()
            s.wait()
        shutil.rmtree(work, ignore_errors=True)


def bench(a, aim_fetch, work, servers):
    src = os.path.join(work, "hf", "org", "bench")
    os.makedirs(src)
    big = []
    big_bytes = int(a.big_gib * (1 << 30))
    for i in range(a.big_files):
        name = f"model-{i + 1:05d}-of-{a.big_files:05d}.safetensors"
        subprocess.run(["head", "-c", str(big_bytes), "/dev/urandom"],
                       stdout=open(os.path.join(src, name), "wb"), check=True)
        big.append(name)
    for i in range(20):
        with open(os.path.join(src, f"small-{i + 1}.json"), "wb") as f:
            f.write(os.urandom(100 + 4 * ((i * 7919) % 32768)))
    sums = {n: sha256_file(os.path.join(src, n)) for n in os.listdir(src)}
    total = sum(os.path.getsize(os.path.join(src, n)) for n in sums)
    seed = os.path.join(work, "s3seed")
    os.makedirs(seed)
    shutil.copytree(src, os.path.join(seed, "models"))

    venv = sh(os.path.join(REPO, "test/servers/setup-venv.sh"))
    bvenv = sh(os.path.join(REPO, "test/servers/setup-venv.sh"), "--bench")
    hf, hf_port = start_server([sys.executable, os.path.join(REPO, "test/servers/model_server.py"),
                                "hf", "--root", os.path.join(work, "hf")])
    servers.append(hf)
    s3bin = os.path.join(work, "s3server")
    subprocess.run(["go", "build", "-o", s3bin, "."], cwd=os.path.join(REPO, "test/servers/s3"),
                   check=True)
    s3, s3_port = start_server([s3bin, "-data", os.path.join(work, "s3data"), "-seed", seed,
                                "-access-key", "AKIDBENCH", "-secret-key", "bench-secret"])
    servers.append(s3)
    s3c, s3c_port = start_server([s3bin, "-data", os.path.join(work, "s3data-crc"), "-seed", seed,
                                  "-access-key", "AKIDBENCH", "-secret-key", "bench-secret",
                                  "-checksum", "crc64nvme"])
    servers.append(s3c)
    hf_url, s3_url = f"http://127.0.0.1:{hf_port}", f"http://127.0.0.1:{s3_port}"
    s3c_url = f"http://127.0.0.1:{s3c_port}"
    env = dict(os.environ, HF_ENDPOINT=hf_url, AWS_ENDPOINT_URL=s3_url,
               AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench-secret",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_HOME=os.path.join(work, "hfhome"))
    for k in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        env.pop(k, None)
    out = os.path.join(work, "out")

    # ---- limits ----
    limits = {}
    resolve = f"{hf_url}/org/bench/resolve/main/"
    t0 = time.monotonic()
    subprocess.run(["curl", "-sfL", "-o", "/dev/null", resolve + big[0]], check=True)
    limits["curl to /dev/null, one stream"] = rate(big_bytes, time.monotonic() - t0)
    t0 = time.monotonic()
    ps = [subprocess.Popen(["curl", "-sfL", "-o", "/dev/null", resolve + n]) for n in big]
    for p in ps:
        p.wait()
    limits[f"curl to /dev/null, {len(big)} streams"] = rate(big_bytes * len(big),
                                                            time.monotonic() - t0)
    def parallel_dd(flag):
        """MiB/s of one dd per large file at once into an empty `out`, with the dd flag."""
        os.makedirs(out)
        subprocess.run(["sync"])
        t0 = time.monotonic()
        ps = [subprocess.Popen(["dd", f"if={os.path.join(src, n)}", f"of={os.path.join(out, n)}",
                                "bs=8M", flag], stderr=subprocess.DEVNULL) for n in big]
        for p in ps:
            p.wait()
        r = rate(big_bytes * len(big), time.monotonic() - t0)
        shutil.rmtree(out)
        return r

    limits["buffered write + fsync (dd conv=fsync, one per file)"] = parallel_dd("conv=fsync")
    # The device itself: O_DIRECT skips the page cache, whose copy and writeback cost CPU that a
    # buffered writer pays (on 2 cores that, not the disk, bounds the buffered figure above).
    disk = parallel_dd("oflag=direct")
    limits["the disk: O_DIRECT write (dd oflag=direct, one per file)"] = disk
    for algo in ("sha256", "md5"):
        t0 = time.monotonic()
        subprocess.run(["openssl", "dgst", f"-{algo}", os.path.join(src, big[0])],
                       capture_output=True, check=True)
        limits[f"openssl {algo.upper()}, one core"] = rate(big_bytes, time.monotonic() - t0)
    if os.access(a.digest_bench, os.X_OK):
        got = json.loads(sh(a.digest_bench, "--benchmark_format=json",
                            "--benchmark_min_time=0.5"))
        for b in got["benchmarks"]:
            limits[f"aim-fetch {b['name'].split('/')[-1]}, one core (digest_bench)"] = \
                b["bytes_per_second"]

    # ---- clients ----
    py = 'from huggingface_hub import snapshot_download as s; import sys; ' \
         's("org/bench", local_dir=sys.argv[1], max_workers=8)'

    def version(python):
        try:
            return sh(python, "-c", "import huggingface_hub as h; print(h.__version__)")
        except (subprocess.CalledProcessError, OSError):
            return None

    s5cmd = os.path.join(bvenv, "bin/s5cmd")
    aws = os.path.join(bvenv, "bin/aws")
    clients = []  # (name, protocol, argv builder, extra env) ; argv None when unavailable
    clients.append(("aim-fetch (-j 8, 1 GiB ranges)", "hf",
                    lambda d: [aim_fetch, "hf://org/bench", d, "-q"], {}))
    v2 = version(os.path.join(venv, "bin/python"))
    clients.append((f"huggingface_hub {v2}", "hf",
                    (lambda d: [os.path.join(venv, "bin/python"), "-c", py, d]) if v2 else None, {}))
    v0 = version(os.path.join(bvenv, "bin/python"))
    clients.append((f"huggingface_hub {v0}", "hf",
                    (lambda d: [os.path.join(bvenv, "bin/python"), "-c", py, d]) if v0 else None,
                    {"HF_HUB_ENABLE_HF_TRANSFER": "0"}))
    clients.append((f"huggingface_hub {v0} + hf_transfer", "hf",
                    (lambda d: [os.path.join(bvenv, "bin/python"), "-c", py, d]) if v0 else None,
                    {"HF_HUB_ENABLE_HF_TRANSFER": "1"}))
    clients.append(("aim-fetch (-j 8, 1 GiB ranges)", "s3",
                    lambda d: [aim_fetch, "s3://models", d, "-q"], {}))
    clients.append(("aim-fetch, objects with CRC-64/NVME checksums", "s3",
                    lambda d: [aim_fetch, "s3://models", d, "-q"],
                    {"AWS_ENDPOINT_URL": s3c_url}))
    s5v = sh(s5cmd, "version").split("-")[0] if os.access(s5cmd, os.X_OK) else None
    clients.append((f"s5cmd {s5v}", "s3",
                    (lambda d: [s5cmd, "--endpoint-url", s3_url, "cp", "s3://models/*", d + "/"])
                    if s5v else None, {}))
    awsv = sh(aws, "--version").split()[0] if os.access(aws, os.X_OK) else None
    clients.append((f"AWS CLI ({awsv})", "s3",
                    (lambda d: [aws, "--endpoint-url", s3_url, "s3", "cp", "--recursive",
                                "--quiet", "s3://models", d]) if awsv else None, {}))
    def derived(client, label, binary=None, extra_args=()):
        name, proto, argv, extra = client

        def build(d):
            v = argv(d)
            if binary:
                v[0] = binary
            return v + list(extra_args)
        return (f"{name} [{label}]", proto, build, extra)

    expanded = []
    for c in clients:
        expanded.append(c)
        if c[0].startswith("aim-fetch") and c[2] is not None:
            if a.baseline:
                expanded.append(derived(c, "baseline", binary=os.path.abspath(a.baseline)))
            for v in a.variant:
                expanded.append(derived(c, v, extra_args=v.split()))
    clients = expanded
    if a.only:
        keep = [p.strip() for p in a.only.split(",")]
        clients = [c for c in clients if any(f"{c[1]} {c[0]}".startswith(k) or
                                             c[0].startswith(k) for k in keep)]

    runs = {i: [] for i in range(len(clients))}
    problems = {i: [] for i in range(len(clients))}
    for r in range(a.rounds):
        order = list(range(len(clients)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            name, proto, argv, extra = clients[i]
            if argv is None:
                continue
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run(["sync"])
            code, wall, cpu, rss, tail = timed(argv(out), dict(env, **extra))
            wrong, missing = wrong_files(out, sums)
            if code != 0 or wrong or missing:
                problems[i].append(f"round {r + 1}: exit {code}, wrong {wrong[:2]}, "
                                   f"missing {missing[:2]} ({tail})")
            else:
                runs[i].append((wall, cpu, rss))
            print(f"round {r + 1} {proto} {name}: {wall:.2f} s, {cpu:.1f} CPU s, {rss:.0f} MiB"
                  f"{'' if code == 0 and not wrong and not missing else ' (FAILED)'}",
                  file=sys.stderr, flush=True)
    shutil.rmtree(out, ignore_errors=True)

    # ---- one flipped byte ----
    verifies = {}
    flip_file = big[-1]
    for i, (name, proto, argv, extra) in enumerate(clients):
        if argv is None:
            continue
        if proto == "hf":
            admin(hf_url, {"corrupt": {"file": flip_file, "at_byte": big_bytes // 2 + 12345,
                                       "times": -1}})
        else:
            server = extra.get("AWS_ENDPOINT_URL", s3_url)
            admin(server, {"corrupt": {"key": "models/" + flip_file,
                                       "at_byte": big_bytes // 2 + 12345, "times": -1}})
        shutil.rmtree(out, ignore_errors=True)
        code, _, _, _, _ = timed(argv(out), dict(env, **extra))
        wrong, _ = wrong_files(out, sums)
        admin(hf_url if proto == "hf" else extra.get("AWS_ENDPOINT_URL", s3_url))
        verifies[i] = code != 0 and not wrong
    shutil.rmtree(out, ignore_errors=True)

    # ---- where aim-fetch's time goes ----
    profiles = []
    if a.profile:
        for name, proto, argv, extra in clients:
            if argv is None or not name.startswith("aim-fetch"):
                continue
            profiles.append((f"{proto} {name}", profile(argv, out, dict(env, **extra), total,
                                                       work)))
        shutil.rmtree(out, ignore_errors=True)

    # ---- report ----
    print(f"Data: {a.big_files} x {a.big_gib:g} GiB + 20 small files ({total:,} bytes), "
          f"{os.cpu_count()} cores, {a.rounds} rounds interleaved, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average at the end "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    print()
    print("| limit on this machine | MiB/s |")
    print("|---|---|")
    for k, v in limits.items():
        print(f"| {k} | {v / MIB:.0f} |")
    print()
    print("| protocol | client | median s | range s | MiB/s | share of disk limit | CPU s | "
          "peak RSS MiB | verifies |")
    print("|---|---|---|---|---|---|---|---|---|")
    medians = {}
    for i, (name, proto, argv, _) in enumerate(clients):
        if argv is None:
            print(f"| {proto} | {name} | not installed | | | | | | |")
            continue
        if not runs[i]:
            print(f"| {proto} | {name} | failed: {problems[i][0] if problems[i] else '?'} "
                  "| | | | | | |")
            continue
        walls = sorted(w for w, _, _ in runs[i])
        med = statistics.median(walls)
        medians[i] = med
        cpu = statistics.median(c for _, c, _ in runs[i])
        rss = max(m for _, _, m in runs[i])
        mibs = rate(total, med) / MIB
        print(f"| {proto} | {name} | {med:.2f} | {walls[0]:.2f}-{walls[-1]:.2f} | {mibs:.0f} | "
              f"{rate(total, med) / disk:.0%} | {cpu:.1f} | {rss:.0f} | "
              f"{'yes' if verifies.get(i) else 'no'} |")
    for i, p in problems.items():
        for line in p:
            print(f"\n{clients[i][1]} {clients[i][0]}: {line}")
    print()
    for proto in ("hf", "s3"):
        ours = [medians[i] for i, c in enumerate(clients) if c[1] == proto and
                c[0].startswith("aim-fetch") and i in medians]
        others = [(medians[i], clients[i][0]) for i, c in enumerate(clients) if c[1] == proto and
                  not c[0].startswith("aim-fetch") and i in medians]
        if ours and others:
            best, who = min(others)
            print(f"{proto}: aim-fetch median {ours[0]:.2f} s, fastest other {who} {best:.2f} s: "
                  f"aim-fetch is {best / ours[0]:.2f}x its speed")
    for title, text in profiles:
        print(f"\n#### Profile: {title}\n\n```\n{text}\n```")
    return 0


def profile(argv, out, env, total, work):
    """perf's top symbols and strace's system calls per MiB for one run of argv."""
    lines = []
    data = os.path.join(work, "perf.data")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["sync"])
    p = subprocess.run(["perf", "record", "-q", "-F", "1999", "-o", data, "--"] + argv(out),
                       env=env, capture_output=True, text=True)
    if p.returncode == 0:
        def report(sort, limit):
            got = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                  "--sort", sort, "--percent-limit", limit],
                                 capture_output=True, text=True).stdout
            rows = []
            for l in got.splitlines():
                if not l.strip() or l.startswith("#"):
                    continue
                f = l.split()
                while f and f[-1] == "-":
                    f.pop()
                rows.append("  " + " ".join(f))
            return rows
        lines.append("perf record -F 1999, share of aim-fetch's samples by object:")
        lines += report("dso", "1")
        lines.append("by symbol (libcrypto's are unnamed: SHA-256 and MD5 live there):")
        lines += report("dso,symbol", "2")
    else:
        lines.append(f"perf record failed: {p.stderr.strip()[-200:]}")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["sync"])
    trace = os.path.join(work, "strace.txt")
    p = subprocess.run(["strace", "-f", "-c", "-o", trace, "--"] + argv(out), env=env,
                       capture_output=True, text=True)
    if p.returncode == 0 and os.path.exists(trace):
        lines.append("")
        lines.append(f"strace -f -c: system calls per MiB written ({total / MIB:.0f} MiB)")
        rows = []
        for l in open(trace):
            f = l.split()
            if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
                calls = int(f[3])
                rows.append((calls, f[-1]))
        for calls, name in sorted(rows, reverse=True)[:10]:
            lines.append(f"  {name:<18} {calls:>9} calls  {calls / (total / MIB):8.2f} per MiB")
    else:
        lines.append(f"strace failed: {p.stderr.strip()[-200:]}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
