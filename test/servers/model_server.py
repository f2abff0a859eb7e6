#!/usr/bin/env python3
"""Test servers for aim-fetch, on 127.0.0.1 (or --host: the e2e suite binds the real node's bridge
address, so download pods reach them). Standard library only.

Modes:
  hf      A Hugging Face Hub compatible server over a directory of repos (ROOT/<org>/<name>/...),
          with a second "CDN" port that LFS files redirect to.
  static  A plain file server (HTTPS with --tls-cert/--tls-key), HEAD, Range, ETag.
  ngc     An NGC-like model registry (the subset documented in fetch/ngc.h and README.md).

Fault injection (every mode), by admin endpoint on the main port:
  POST /_admin/faults {"rate_limit": {"count": N, "retry_after": S},
                       "interrupt": {"file": NAME, "at_byte": B, "times": T},
                       "corrupt":   {"file": NAME, "at_byte": B, "times": T},
                       "stall":     {"file": NAME, "at_byte": B, "seconds": S, "times": T},
                       "error":     {"file": NAME, "status": 500, "times": T},
                       "inject_sibling": {"rfilename": "../../escape.txt"},  (hf: hostile listing)
                       "throttle":  {"bytes_per_second": N}}   (every file response, until cleared)
  ("times": -1 means always; "file" matches the repo-relative file name)
  DELETE /_admin/faults   clears them;   GET /_admin/stats   request and body-byte counters.
The servers print "READY <port> [<cdn port>]" on stdout once listening (port 0 picks a free one).
"""
import argparse
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
FAULTS = {}
STATS = {"requests": 0, "range_requests": 0, "rate_limited": 0, "bytes_sent": 0, "by_path": {}}


def take_fault(kind, name):
    """Returns the fault of this kind for this file and consumes one use, or None."""
    with LOCK:
        f = FAULTS.get(kind)
        if not f:
            return None
        if "file" in f and f["file"] != name:
            return None
        times = f.get("times", 1)
        if times == 0:
            return None
        if times > 0:
            f["times"] = times - 1
        return dict(f)


def file_digests(path, cache):
    st = os.stat(path)
    key = f"{path}:{st.st_size}:{st.st_mtime_ns}"
    if key in cache:
        return cache[key]
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1()
    sha1.update(b"blob %d\0" % st.st_size)
    with open(path, "rb") as fh:
        while True:
            b = fh.read(8 << 20)
            if not b:
                break
            sha256.update(b)
            sha1.update(b)
    cache[key] = {"sha256": sha256.hexdigest(), "git": sha1.hexdigest(), "size": st.st_size}
    return cache[key]


class Repo:
    def __init__(self, repo_id, path, cache, lfs_threshold):
        self.id = repo_id
        self.path = path
        self.files = {}
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for fn in sorted(filenames):
                full = os.path.join(dirpath, fn)
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                d = file_digests(full, cache)
                self.files[rel] = {"full": full, "size": d["size"], "sha256": d["sha256"], "git": d["git"],
                                   "lfs": d["size"] >= lfs_threshold}
        h = hashlib.sha1(repo_id.encode())
        for rel in sorted(self.files):
            f = self.files[rel]
            h.update(f"{rel}\t{f['size']}\t{f['sha256']}\n".encode())
        self.sha = h.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aim-test-server"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.cfg.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # ---- plumbing -------------------------------------------------------------------------
    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def hub_error(self, status, code, message):
        self.send_json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def admin(self):
        global FAULTS
        if self.command == "POST":
            with LOCK:
                FAULTS = json.loads(self.read_body() or b"{}")
            return self.send_json(200, {"ok": True})
        if self.command == "DELETE":
            with LOCK:
                FAULTS = {}
            return self.send_json(200, {"ok": True})
        with LOCK:
            return self.send_json(200, STATS)

    def pre(self):
        """Counts the request and applies rate limiting. Returns False when answered."""
        with LOCK:
            STATS["requests"] += 1
            STATS["by_path"][self.path.split("?")[0]] = STATS["by_path"].get(self.path.split("?")[0], 0) + 1
            if self.headers.get("Range"):
                STATS["range_requests"] += 1
            rl = FAULTS.get("rate_limit")
            limited = rl and rl.get("count", 0) > 0
            if limited:
                rl["count"] -= 1
                STATS["rate_limited"] += 1
        if limited:
            self.send_json(429, {"error": "rate limited"}, {"Retry-After": str(rl.get("retry_after", 1))})
            return False
        return True

    def serve_file(self, full, name, size, etag, extra_headers=None):
        """Serves a file with HEAD and single Range support, applying per-file faults."""
        err = take_fault("error", name)
        if err:
            return self.send_json(err.get("status", 500), {"error": "injected"})
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            try:
                if a == "":
                    start, end = max(0, size - int(b)), size - 1
                else:
                    start = int(a)
                    end = min(int(b), size - 1) if b else size - 1
            except ValueError:
                start, end = 0, size - 1
            if start >= size or start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        length = end - start + 1 if size else 0
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("ETag", f'"{etag}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        cut = None      # absolute offset where the connection drops
        stall = None    # (offset, seconds)
        corrupt = None  # absolute offset of a flipped byte
        for kind in ("interrupt", "stall", "corrupt"):
            with LOCK:
                f = FAULTS.get(kind)
                applies = f and f.get("file", name) == name and start <= f.get("at_byte", 0) <= end
            if not applies:
                continue
            f = take_fault(kind, name)
            if not f:
                continue
            if kind == "interrupt":
                cut = f["at_byte"]
            elif kind == "stall":
                stall = (f["at_byte"], f.get("seconds", 30))
            else:
                corrupt = f["at_byte"]
        with LOCK:
            throttle = (FAULTS.get("throttle") or {}).get("bytes_per_second", 0)
        with open(full, "rb") as fh:
            if cut is None and stall is None and corrupt is None and not throttle \
                    and not isinstance(self.connection, ssl.SSLSocket):
                self.wfile.flush()
                off, left = start, length
                while left > 0:
                    n = os.sendfile(self.connection.fileno(), fh.fileno(), off, min(left, 16 << 20))
                    if n == 0:
                        break
                    off += n
                    left -= n
                    with LOCK:
                        STATS["bytes_sent"] += n
                return
            fh.seek(start)
            pos = start
            while pos <= end:
                limit = end + 1
                if cut is not None and pos < cut:
                    limit = min(limit, cut)
                if stall is not None and pos < stall[0]:
                    limit = min(limit, stall[0])
                if cut is not None and pos >= cut:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if stall is not None and pos >= stall[0]:
                    self.wfile.flush()
                    time.sleep(stall[1])
                    stall = None
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                step = 1 << 20 if not throttle else max(1, min(1 << 20, throttle // 20))
                chunk = fh.read(min(step, limit - pos))
                if not chunk:
                    break
                if corrupt is not None and pos <= corrupt < pos + len(chunk):
                    b = bytearray(chunk)
                    b[corrupt - pos] ^= 0x5A
                    chunk = bytes(b)
                self.wfile.write(chunk)
                pos += len(chunk)
                with LOCK:
                    STATS["bytes_sent"] += len(chunk)
                if throttle:
                    self.wfile.flush()
                    time.sleep(len(chunk) / throttle)

    # ---- dispatch -------------------------------------------------------------------------
    def do_HEAD(self):
        self.dispatch()

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query)
        if path.startswith("/_admin/"):
            return self.admin()
        if not self.pre():
            return
        try:
            getattr(self, "route_" + self.server.cfg.mode)(path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # ---- static ---------------------------------------------------------------------------
    def route_static(self, path, query):
        cfg = self.server.cfg
        if cfg.require_bearer or cfg.require_signature:
            # A private file server: a bearer token or a signed URL (as a presigned S3 link).
            bearer = self.headers.get("Authorization", "") == f"Bearer {cfg.require_bearer}"
            signed = query.get("X-Amz-Signature", [""])[0] == cfg.require_signature
            if not ((cfg.require_bearer and bearer) or (cfg.require_signature and signed)):
                return self.send_json(403, {"error": "forbidden"})
        root = os.path.realpath(self.server.cfg.root)
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return self.send_json(404, {"error": "not found"})
        st = os.stat(full)
        name = os.path.relpath(full, root)
        self.serve_file(full, name, st.st_size, f"{st.st_size:x}-{st.st_mtime_ns:x}")

    # ---- hf -------------------------------------------------------------------------------
    def authorized(self, repo):
        """None when allowed, else (status, code, message)."""
        cfg = self.server.cfg
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if repo.id in cfg.gated:
            if token is None:
                return (401, "GatedRepo", f"Access to model {repo.id} is restricted. You must be authenticated.")
            if token != cfg.token:
                return (403, "GatedRepo", f"Access to model {repo.id} is restricted and you are not in the authorized list.")
        return None

    def find_repo(self, parts):
        repos = self.server.repos
        for n in (2, 1):
            rid = "/".join(parts[:n])
            if len(parts) >= n and rid in repos:
                return repos[rid], parts[n:]
        return None, parts

    def repo_not_found(self):
        auth = self.headers.get("Authorization")
        self.hub_error(404 if auth else 401, "RepoNotFound", "Repository not found")

    def check_revision(self, repo, rev):
        return rev in ("main", repo.sha) or rev == urllib.parse.quote("main", safe="")

    def route_hf(self, path, query):
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "models"]:
            return self.hf_api(parts[2:], query)
        if parts and parts[0] == "cdn":
            return self.hf_cdn(parts[1:])
        # /{repo}/resolve/{rev}/{path}
        repo, rest = self.find_repo(parts)
        if repo is None or len(rest) < 3 or rest[0] != "resolve":
            return self.repo_not_found() if repo is None else self.hub_error(404, "EntryNotFound", "Entry not found")
        denied = self.authorized(repo)
        if denied:
            return self.hub_error(*denied)
        rev, fname = rest[1], "/".join(rest[2:])
        if not self.check_revision(repo, rev):
            return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        f = repo.files.get(fname)
        if f is None:
            return self.hub_error(404, "EntryNotFound", f"{fname} does not exist on \"{rev}\"")
        common = {"X-Repo-Commit": repo.sha}
        if f["lfs"]:
            cdn = (f"http://{self.server.cfg.host}:{self.server.cfg.cdn_port}/cdn/{repo.id}/{f['sha256']}"
                   f"?filename={urllib.parse.quote(fname)}&X-Amz-Signature=fake-{int(time.time())}")
            self.send_response(302)
            self.send_header("Location", cdn)
            self.send_header("ETag", f'"{f["sha256"]}"')
            self.send_header("X-Linked-Etag", f'"{f["sha256"]}"')
            self.send_header("X-Linked-Size", str(f["size"]))
            self.send_header("X-Repo-Commit", repo.sha)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.serve_file(f["full"], fname, f["size"], f["git"], common)

    def hf_cdn(self, parts):
        # /cdn/{repo...}/{sha256}?filename=...
        if len(parts) < 2:
            return self.send_json(404, {"error": "not found"})
        repo = self.server.repos.get("/".join(parts[:-1]))
        sha = parts[-1]
        if repo is None:
            return self.send_json(404, {"error": "not found"})
        for name, f in repo.files.items():
            if f["sha256"] == sha:
                return self.serve_file(f["full"], name, f["size"], f["sha256"])
        self.send_json(404, {"error": "not found"})

    def sibling(self, name, f, blobs):
        s = {"rfilename": name}
        if blobs:
            s["size"] = f["size"]
            s["blobId"] = f["git"] if not f["lfs"] else hashlib.sha1(f"lfs-pointer {f['sha256']}".encode()).hexdigest()
            if f["lfs"]:
                s["lfs"] = {"sha256": f["sha256"], "size": f["size"], "pointerSize": 134}
        return s

    def hf_api(self, parts, query):
        repo, rest = self.find_repo(parts)
        if repo is None:
            return self.repo_not_found()
        denied = self.authorized(repo)
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        info = {"_id": hashlib.md5(repo.id.encode()).hexdigest()[:24], "id": repo.id, "modelId": repo.id,
                "private": False, "gated": "manual" if repo.id in self.server.cfg.gated else False,
                "disabled": False, "tags": [], "downloads": 0, "likes": 0,
                "lastModified": "2024-01-01T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z"}
        if not rest or rest[0] == "revision":
            rev = "main" if not rest else "/".join(rest[1:])
            if not self.check_revision(repo, rev):
                return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
            info["sha"] = repo.sha
            # Like the Hub, metadata is public for gated repos; only the files need a token.
            info["siblings"] = [self.sibling(n, f, blobs) for n, f in sorted(repo.files.items())]
            with LOCK:
                evil = FAULTS.get("inject_sibling")
            if evil:  # a hostile listing: a path that would escape the destination
                info["siblings"].append({"rfilename": evil["rfilename"], "size": 5, "blobId": "0" * 40})
            return self.send_json(200, info)
        if rest[0] == "tree" and len(rest) >= 2:
            if denied:
                return self.hub_error(*denied)
            rev = rest[1]
            if not self.check_revision(repo, rev):
                return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
            sub = "/".join(rest[2:])
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            entries, dirs = [], set()
            for name, f in sorted(repo.files.items()):
                if sub and not name.startswith(sub + "/"):
                    continue
                relname = name[len(sub) + 1:] if sub else name
                if "/" in relname:
                    d = relname.split("/")[0]
                    if (sub + "/" + d if sub else d) not in dirs:
                        dirs.add(sub + "/" + d if sub else d)
                    if not recursive:
                        continue
                e = {"type": "file", "oid": self.sibling(name, f, True)["blobId"], "size": f["size"], "path": name}
                if f["lfs"]:
                    e["lfs"] = {"oid": f["sha256"], "size": f["size"], "pointerSize": 134}
                entries.append(e)
            entries = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in sorted(dirs)] + entries
            page_size = self.server.cfg.page_size
            cursor = int(query.get("cursor", ["0"])[0])
            page = entries[cursor:cursor + page_size]
            headers = {}
            if cursor + page_size < len(entries):
                base = f"http://{self.server.cfg.host}:{self.server.server_address[1]}/api/models/{repo.id}/tree/{rev}"
                if sub:
                    base += "/" + urllib.parse.quote(sub)
                nxt = f"{base}?recursive={str(recursive).lower()}&cursor={cursor + page_size}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return self.send_json(200, page, headers)
        self.hub_error(404, "EntryNotFound", "not found")

    # ---- ngc ------------------------------------------------------------------------------
    def route_ngc(self, path, query):
        cfg = self.server.cfg
        parts = [p for p in path.split("/") if p]
        if parts == ["token"]:
            import base64
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(f"$oauthtoken:{cfg.api_key}".encode()).decode()
            if auth != want:
                return self.send_json(401, {"error": "invalid api key"})
            return self.send_json(200, {"token": "ngc-session-" + hashlib.sha256(cfg.api_key.encode()).hexdigest()[:16],
                                        "expires_in": 3600})
        if cfg.api_key:
            want = "Bearer ngc-session-" + hashlib.sha256(cfg.api_key.encode()).hexdigest()[:16]
            if self.headers.get("Authorization", "") != want:
                return self.send_json(401, {"error": "authentication required"})
        if parts[:1] == ["storage"]:
            full = os.path.realpath(os.path.join(cfg.root, *parts[1:]))
            root = os.path.realpath(cfg.root)
            if not full.startswith(root + os.sep) or not os.path.isfile(full):
                return self.send_json(404, {"error": "not found"})
            name = parts[-1]
            return self.serve_file(full, name, os.path.getsize(full), file_digests(full, self.server.cache)["sha256"])
        # /v2/org/{org}[/team/{team}]/models/{model}[/versions/{v}/files[/{path}]]
        if parts[:2] != ["v2", "org"] or len(parts) < 5:
            return self.send_json(404, {"error": "not found"})
        org, rest = parts[2], parts[3:]
        team = None
        if rest[0] == "team":
            team, rest = rest[1], rest[2:]
        if not rest or rest[0] != "models" or len(rest) < 2:
            return self.send_json(404, {"error": "not found"})
        model = rest[1]
        mdir = os.path.join(cfg.root, org, *( [team] if team else []), model)
        if not os.path.isdir(mdir):
            return self.send_json(404, {"error": f"model {org}/{model} not found"})
        versions = sorted(os.listdir(mdir))
        rest = rest[2:]
        if not rest:
            return self.send_json(200, {"model": {"name": model, "orgName": org, "teamName": team,
                                                  "latestVersionIdStr": versions[-1]}})
        if rest[0] != "versions" or len(rest) < 3 or rest[2] != "files":
            return self.send_json(404, {"error": "not found"})
        vdir = os.path.join(mdir, rest[1])
        if not os.path.isdir(vdir):
            return self.send_json(404, {"error": f"version {rest[1]} not found"})
        if len(rest) == 3:
            files = []
            for dirpath, dirnames, filenames in os.walk(vdir):
                dirnames.sort()
                for fn in sorted(filenames):
                    full = os.path.join(dirpath, fn)
                    d = file_digests(full, self.server.cache)
                    files.append({"path": os.path.relpath(full, vdir), "sizeInBytes": d["size"], "sha256": d["sha256"]})
            per = cfg.page_size
            pages = max(1, (len(files) + per - 1) // per)
            page = int(query.get("page-number", ["0"])[0])
            return self.send_json(200, {"modelFiles": files[page * per:(page + 1) * per],
                                        "paginationInfo": {"index": page, "size": per, "totalPages": pages,
                                                           "totalResults": len(files)}})
        rel = "/".join(rest[3:])
        full = os.path.join(vdir, rel)
        if not os.path.isfile(full):
            return self.send_json(404, {"error": "file not found"})
        storage = "/storage/" + "/".join(urllib.parse.quote(p) for p in os.path.relpath(full, cfg.root).split(os.sep))
        self.send_response(302)
        self.send_header("Location", storage)
        self.send_header("Content-Length", "0")
        self.end_headers()


def load_repos(root, cache, lfs_threshold):
    repos = {}
    for org in sorted(os.listdir(root)):
        odir = os.path.join(root, org)
        if not os.path.isdir(odir) or org.startswith("."):
            continue
        for name in sorted(os.listdir(odir)):
            rdir = os.path.join(odir, name)
            if os.path.isdir(rdir):
                repos[f"{org}/{name}"] = Repo(f"{org}/{name}", rdir, cache, lfs_threshold)
    return repos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hf", "static", "ngc"])
    ap.add_argument("--root", required=True)
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on and to put in URLs")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--gated", action="append", default=[])
    ap.add_argument("--token", default="hf_test_token")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--require-bearer", default="", help="static: files need this bearer token ...")
    ap.add_argument("--require-signature", default="",
                    help="... or this X-Amz-Signature query value (either will do)")
    ap.add_argument("--lfs-threshold", type=int, default=64 * 1024)
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--verbose", action="store_true")
    cfg = ap.parse_args()

    cache_file = os.path.abspath(cfg.root).rstrip("/") + ".hashes.json"
    cache = {}
    if os.path.exists(cache_file):
        with open(cache_file) as fh:
            cache = json.load(fh)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    servers = []
    main_srv = Server((cfg.host, cfg.port), Handler)
    servers.append(main_srv)
    if cfg.mode == "hf":
        cdn = Server((cfg.host, cfg.cdn_port), Handler)
        cfg.cdn_port = cdn.server_address[1]
        servers.append(cdn)
    for s in servers:
        s.cfg = cfg
        s.cache = cache
        s.repos = load_repos(cfg.root, cache, cfg.lfs_threshold) if cfg.mode == "hf" else {}
    with open(cache_file, "w") as fh:
        json.dump(cache, fh)
    if cfg.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        main_srv.socket = ctx.wrap_socket(main_srv.socket, server_side=True)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("READY", *[s.server_address[1] for s in servers], flush=True)
    try:
        main_srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
