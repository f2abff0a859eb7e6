#include "fetch/ngc.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace aim::fetch {

std::string NgcSource::model_base() const {
  std::string b = endpoint_ + "/v2/org/" + uri_.ngc_org;
  if (!uri_.ngc_team.empty()) b += "/team/" + uri_.ngc_team;
  return b + "/models/" + uri_.ngc_model;
}

void NgcSource::add_auth(http::Request& req) const {
  if (!bearer_.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer_);
}

Result<Listing, Failure> NgcSource::list(Transport& transport) {
  auto ok2xx = [](long st) { return st >= 200 && st < 300; };
  if (api_key_) {
    std::string url =
        auth_endpoint_ + "/token?service=ngc&scope=group/ngc:" + http::url_encode(uri_.ngc_org);
    auto r = transport.call(
        [&] {
          http::Request req;
          req.url = url;
          req.headers.emplace_back("Authorization",
                                   "Basic " + base64_encode("$oauthtoken:" + *api_key_));
          return req;
        },
        "ngc token", ok2xx);
    if (!r.ok()) return fail(r.error());
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("token") || !j["token"].is_string())
      return fail(Failure{FailureClass::kAuth, "ngc token endpoint gave no token"});
    bearer_ = j["token"].get<std::string>();
  }
  Listing l;
  l.revision = uri_.revision;
  if (l.revision.empty()) {
    auto r = transport.call(
        [&] {
          http::Request req;
          req.url = model_base();
          add_auth(req);
          return req;
        },
        "ngc " + uri_.repo, ok2xx);
    if (!r.ok()) return fail(r.error());
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("model") || !j["model"].contains("latestVersionIdStr"))
      return fail(Failure{FailureClass::kNetwork, "ngc model info has no latestVersionIdStr"});
    l.revision = j["model"]["latestVersionIdStr"].get<std::string>();
  }
  const std::string files = model_base() + "/versions/" + http::url_encode(l.revision) + "/files";
  for (int page = 0, pages = 1; page < pages && page < 10000; ++page) {
    auto r = transport.call(
        [&] {
          http::Request req;
          req.url = files + "?page-number=" + std::to_string(page);
          add_auth(req);
          return req;
        },
        "ngc " + uri_.repo + ":" + l.revision, ok2xx);
    if (!r.ok()) return fail(r.error());
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("modelFiles") || !j["modelFiles"].is_array())
      return fail(Failure{FailureClass::kNetwork, "ngc file listing is not the expected JSON"});
    if (j.contains("paginationInfo") && j["paginationInfo"].contains("totalPages"))
      pages = j["paginationInfo"]["totalPages"].get<int>();
    for (const auto& mf : j["modelFiles"]) {
      RemoteFile f;
      f.path = mf.value("path", "");
      f.size = mf.value("sizeInBytes", std::uint64_t{0});
      f.sha256 = mf.value("sha256", "");
      f.identity = "ngc:" + l.revision + ":" + f.sha256 + ":" + std::to_string(f.size);
      f.url = files + "/" + encode_path(f.path);
      l.files.push_back(std::move(f));
    }
  }
  return l;
}

http::Request NgcSource::request(const RemoteFile& file, std::optional<ByteRange> range) {
  http::Request req;
  req.url = file.url;
  req.follow_redirects = true;
  add_auth(req);
  if (range)
    req.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->begin) + "-" + std::to_string(range->end - 1));
  return req;
}

}  // namespace aim::fetch
