#include "fetch/hf.h"

#include <nlohmann/json.hpp>

namespace aim::fetch {

void HfSource::add_auth(http::Request& req, bool send) const {
  if (send && token_) req.headers.emplace_back("Authorization", "Bearer " + *token_);
}

Result<Listing, Failure> HfSource::parse_revision_info(const std::string& body,
                                                       const std::string& repo,
                                                       const std::string& endpoint) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sha") || !j["sha"].is_string())
    return fail(
        Failure{FailureClass::kNetwork, "revision info for " + repo + " is not the expected JSON"});
  Listing l;
  l.revision = j["sha"].get<std::string>();
  if (!j.contains("siblings") || !j["siblings"].is_array()) return l;
  for (const auto& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
    RemoteFile f;
    f.path = s["rfilename"].get<std::string>();
    if (s.contains("size") && s["size"].is_number_unsigned()) {
      f.size = s["size"].get<std::uint64_t>();
    } else {
      f.size_known = false;
    }
    if (s.contains("blobId") && s["blobId"].is_string())
      f.git_sha1 = s["blobId"].get<std::string>();
    if (s.contains("lfs") && s["lfs"].is_object()) {
      const auto& lfs = s["lfs"];
      if (lfs.contains("sha256") && lfs["sha256"].is_string())
        f.sha256 = lfs["sha256"].get<std::string>();
      if (lfs.contains("size") && lfs["size"].is_number_unsigned()) {
        f.size = lfs["size"].get<std::uint64_t>();
        f.size_known = true;
      }
      f.git_sha1.clear();  // the blob id of an LFS file is the pointer's, not the content's
    }
    f.identity = !f.sha256.empty()     ? "sha256:" + f.sha256
                 : !f.git_sha1.empty() ? "git:" + f.git_sha1
                                       : "commit:" + l.revision;
    f.url = endpoint + "/" + repo + "/resolve/" + l.revision + "/" + encode_path(f.path);
    l.files.push_back(std::move(f));
  }
  return l;
}

Result<Listing, Failure> HfSource::list(Transport& transport) {
  const std::string url = endpoint_ + "/api/models/" + uri_.repo + "/revision/" +
                          http::url_encode(uri_.revision) + "?blobs=true";
  auto r = transport.call(
      [&] {
        http::Request req;
        req.url = url;
        add_auth(req, true);
        return req;
      },
      "hf " + uri_.repo + "@" + uri_.revision, [](long st) { return st >= 200 && st < 300; });
  if (!r.ok()) return fail(r.error());
  return parse_revision_info(r->body, uri_.repo, endpoint_);
}

Result<void, Failure> HfSource::prepare(Transport& transport, RemoteFile& file) {
  // HEAD without following: the Hub answers LFS files with a redirect to the CDN and puts the
  // metadata (X-Linked-Size, X-Linked-Etag, X-Repo-Commit) on that redirect.
  for (int hop = 0; hop < 5; ++hop) {
    auto r = transport.call(
        [&] {
          http::Request req;
          req.method = "HEAD";
          req.url = file.url;
          req.headers.emplace_back("Accept-Encoding", "identity");
          add_auth(req, file.send_auth);
          return req;
        },
        file.path);
    if (!r.ok()) return fail(r.error());
    const auto& h = r->headers;
    if (auto linked = h.get("X-Linked-Size")) {
      file.size = std::stoull(*linked);
      file.size_known = true;
    } else if (r->status < 300) {
      if (auto cl = h.get("Content-Length")) {
        file.size = std::stoull(*cl);
        file.size_known = true;
      }
    }
    if (auto et = h.get("X-Linked-Etag"); et && file.sha256.empty()) {
      std::string v = *et;
      if (v.rfind("W/", 0) == 0) v = v.substr(2);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      if (v.size() == 64) file.sha256 = v;
    }
    auto loc = h.get("Location");
    if (r->status >= 300 && r->status < 400 && loc) {
      std::string next = resolve_url(file.url, *loc);
      if (url_origin(next) != url_origin(endpoint_)) {
        if (file.resolved_from.empty()) file.resolved_from = file.url;
        file.url = next;  // a CDN (signed URL): no token, no more hops to the Hub
        file.send_auth = false;
        return Ok{};
      }
      file.url = next;
      continue;
    }
    file.ranges = h.get("Accept-Ranges").value_or("bytes") != "none";
    return Ok{};
  }
  return fail(Failure{FailureClass::kNetwork, file.path + ": too many redirects"});
}

http::Request HfSource::request(const RemoteFile& file, std::optional<ByteRange> range) {
  http::Request req;
  req.url = file.url;
  req.follow_redirects = true;  // curl drops the Authorization header when the host changes
  req.headers.emplace_back("Accept-Encoding", "identity");
  add_auth(req, file.send_auth);
  if (range)
    req.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->begin) + "-" + std::to_string(range->end - 1));
  return req;
}

}  // namespace aim::fetch
