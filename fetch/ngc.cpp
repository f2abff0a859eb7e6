#include "fetch/ngc.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/json_fields.h"

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
    auto token = parse_token(r->body);
    if (!token) return fail(token.error());
    bearer_ = std::move(*token);
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
    auto version = parse_latest_version(r->body);
    if (!version) return fail(version.error());
    l.revision = std::move(*version);
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
    auto total = parse_files_page(r->body, files, l);
    if (!total) return fail(total.error());
    pages = static_cast<int>(std::min(*total, long{10000}));
  }
  return l;
}

namespace {

Failure bad_answer(const std::string& what) {
  return Failure{FailureClass::kNetwork, "ngc " + what};
}

}  // namespace

Result<std::string, Failure> NgcSource::parse_token(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  const std::string* token = find_string(j, "token");
  if (token == nullptr || token->empty())
    return fail(Failure{FailureClass::kAuth, "ngc token endpoint gave no token"});
  return *token;
}

Result<std::string, Failure> NgcSource::parse_latest_version(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  const std::string* version = nullptr;
  if (j.is_object() && j.contains("model")) version = find_string(j["model"], "latestVersionIdStr");
  if (version == nullptr || version->empty())
    return fail(bad_answer("model info has no latestVersionIdStr string"));
  return *version;
}

Result<long, Failure> NgcSource::parse_files_page(const std::string& body,
                                                  const std::string& files_url, Listing& listing) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("modelFiles") || !j["modelFiles"].is_array())
    return fail(bad_answer("file listing is not the expected JSON (no modelFiles array)"));
  long pages = 1;
  if (auto info = j.find("paginationInfo"); info != j.end() && info->is_object()) {
    auto total = info->find("totalPages");
    if (total != info->end()) {
      if (!total->is_number_integer() || total->get<long>() < 0)
        return fail(bad_answer("file listing's paginationInfo.totalPages is not a count"));
      pages = total->get<long>();
    }
  }
  std::size_t index = 0;
  for (const auto& mf : j["modelFiles"]) {
    const std::string where = "file listing entry " + std::to_string(index++);
    const std::string* path = find_string(mf, "path");
    if (path == nullptr || path->empty()) return fail(bad_answer(where + " has no path"));
    auto size = mf.find("sizeInBytes");
    if (size == mf.end() || !size->is_number_unsigned())
      return fail(bad_answer(where + " (" + *path + ") has no non-negative sizeInBytes"));
    const std::string* sha256 = find_string(mf, "sha256");
    if (mf.contains("sha256") && sha256 == nullptr)
      return fail(bad_answer(where + " (" + *path + ") has a sha256 that is not a string"));
    RemoteFile f;
    f.path = *path;
    f.size = size->get<std::uint64_t>();
    if (sha256 != nullptr) f.sha256 = *sha256;
    f.identity = "ngc:" + listing.revision + ":" + f.sha256 + ":" + std::to_string(f.size);
    f.url = files_url + "/" + encode_path(f.path);
    listing.files.push_back(std::move(f));
  }
  return pages;
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
