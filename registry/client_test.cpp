// The registry client against an in-process fake registry (test/support/loopback_server.h):
// manifests, indexes, blobs, Basic and Bearer challenges, pagination, and failure modes.
#include "registry/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/base64.h"
#include "registry/digest.h"
#include "test/support/loopback_server.h"

namespace aim::registry {
namespace {

using nlohmann::json;
using testing::LoopbackServer;
using testing::ServerRequest;
using testing::ServerResponse;

enum class Auth { kNone, kBasic, kBearer };

constexpr const char* kUser = "alice";
constexpr const char* kPassword = "s3cret-pw";

// A tiny OCI registry: content by path, optional auth, tag/catalog pagination.
class FakeRegistry {
 public:
  explicit FakeRegistry(Auth auth)
      : auth_(auth), server_([this](const ServerRequest& r) { return handle(r); }) {}

  std::string host() const { return "127.0.0.1:" + std::to_string(server_.port()); }

  // Stores an image; returns the manifest digest.
  std::string add_image(const std::string& repo, const std::string& tag, const std::string& arch,
                        const json& labels, bool oci = false) {
    json config = {{"architecture", arch},
                   {"os", "linux"},
                   {"config", {{"Labels", labels}}},
                   {"rootfs", {{"type", "layers"}}}};
    std::string config_body = config.dump();
    std::string config_digest = sha256_digest(config_body);
    blobs_[repo + "@" + config_digest] = config_body;
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", oci ? "application/vnd.oci.image.manifest.v1+json"
                                       : "application/vnd.docker.distribution.manifest.v2+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", config_digest},
                       {"size", config_body.size()}}},
                     {"layers", json::array()}};
    return put_manifest(repo, tag, manifest);
  }

  std::string put_manifest(const std::string& repo, const std::string& tag, const json& manifest) {
    std::string body = manifest.dump();
    std::string digest = sha256_digest(body);
    manifests_[repo + ":" + digest] = body;
    if (!tag.empty()) manifests_[repo + ":" + tag] = body;
    tags_[repo].push_back(tag);
    return digest;
  }

  void corrupt_blob(const std::string& repo, const std::string& digest) {
    blobs_[repo + "@" + digest] += " ";
  }
  void set_wrong_content_digest(bool v) { wrong_content_digest_ = v; }
  void set_delay(std::chrono::milliseconds d) { delay_ = d; }
  int token_requests() const { return token_requests_.load(); }
  std::vector<std::string> seen_auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_auth_;
  }

 private:
  bool authorized(const ServerRequest& r) {
    auto it = r.headers.find("authorization");
    std::string h = it == r.headers.end() ? "" : it->second;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_auth_.push_back(h);
    }
    switch (auth_) {
      case Auth::kNone:
        return true;
      case Auth::kBasic:
        return h == "Basic " + base64_encode(std::string(kUser) + ":" + kPassword);
      case Auth::kBearer:
        return h.rfind("Bearer tok-", 0) == 0;
    }
    return false;
  }

  ServerResponse challenge(const std::string& scope) {
    ServerResponse resp;
    resp.status = 401;
    if (auth_ == Auth::kBasic) {
      resp.headers.emplace_back("WWW-Authenticate", R"(Basic realm="fake")");
    } else {
      resp.headers.emplace_back(
          "WWW-Authenticate",
          "Bearer realm=\"http://" + host() + "/token\",service=\"fake\",scope=\"" + scope + "\"");
    }
    resp.body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
    return resp;
  }

  ServerResponse handle(const ServerRequest& r) {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::string path = r.target.substr(0, r.target.find('?'));
    std::string query =
        r.target.find('?') == std::string::npos ? "" : r.target.substr(r.target.find('?') + 1);
    if (path == "/token") {
      ++token_requests_;
      auto it = r.headers.find("authorization");
      if (it == r.headers.end() ||
          it->second != "Basic " + base64_encode(std::string(kUser) + ":" + kPassword)) {
        return ServerResponse{401, {}, R"({"details":"bad credentials"})"};
      }
      return ServerResponse{
          200,
          {{"Content-Type", "application/json"}},
          json{{"token", "tok-" + std::to_string(token_requests_.load())}, {"expires_in", 300}}
              .dump()};
    }
    if (path.rfind("/v2/", 0) != 0) return ServerResponse{404, {}, ""};
    std::string rest = path.substr(4);
    std::string scope =
        rest == "_catalog" ? "registry:catalog:*" : "repository:" + repo_of(rest) + ":pull";
    if (!authorized(r)) return challenge(scope);

    if (rest == "_catalog") {
      std::vector<std::string> repos;
      for (const auto& [repo, t] : tags_) repos.push_back(repo);
      return page(repos, query, "/v2/_catalog", "repositories");
    }
    if (auto pos = rest.find("/tags/list"); pos != std::string::npos) {
      std::string repo = rest.substr(0, pos);
      if (tags_.count(repo) == 0) return not_found("NAME_UNKNOWN");
      auto tags = tags_[repo];
      std::sort(tags.begin(), tags.end());
      return page(tags, query, "/v2/" + repo + "/tags/list", "tags");
    }
    if (auto pos = rest.find("/manifests/"); pos != std::string::npos) {
      std::string key = rest.substr(0, pos) + ":" + rest.substr(pos + 11);
      auto it = manifests_.find(key);
      if (it == manifests_.end()) return not_found("MANIFEST_UNKNOWN");
      json m = json::parse(it->second);
      std::string digest =
          wrong_content_digest_ ? sha256_digest("other") : sha256_digest(it->second);
      return ServerResponse{200,
                            {{"Content-Type", m.value("mediaType", std::string())},
                             {"Docker-Content-Digest", digest}},
                            it->second};
    }
    if (auto pos = rest.find("/blobs/"); pos != std::string::npos) {
      auto it = blobs_.find(rest.substr(0, pos) + "@" + rest.substr(pos + 7));
      if (it == blobs_.end()) return not_found("BLOB_UNKNOWN");
      return ServerResponse{200, {{"Content-Type", "application/octet-stream"}}, it->second};
    }
    return not_found("NAME_UNKNOWN");
  }

  static std::string repo_of(const std::string& rest) {
    for (const char* marker : {"/manifests/", "/blobs/", "/tags/list"}) {
      if (auto pos = rest.find(marker); pos != std::string::npos) return rest.substr(0, pos);
    }
    return rest;
  }

  static ServerResponse not_found(const std::string& code) {
    return ServerResponse{404,
                          {{"Content-Type", "application/json"}},
                          json{{"errors", {{{"code", code}, {"message", "not here"}}}}}.dump()};
  }

  // n=<size>&last=<item> pagination with a Link header, like Distribution.
  static ServerResponse page(const std::vector<std::string>& all, const std::string& query,
                             const std::string& base, const char* field) {
    std::size_t n = all.size();
    std::string last;
    for (std::size_t start = 0; start < query.size();) {
      auto amp = query.find('&', start);
      std::string kv =
          query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (kv.rfind("n=", 0) == 0) n = std::stoul(kv.substr(2));
      if (kv.rfind("last=", 0) == 0) last = kv.substr(5);
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
    std::vector<std::string> items;
    for (const auto& item : all) {
      if (!last.empty() && item <= last) continue;
      if (items.size() == n) break;
      items.push_back(item);
    }
    ServerResponse resp{200, {{"Content-Type", "application/json"}}, json{{field, items}}.dump()};
    if (!items.empty() && items.back() != all.back()) {
      resp.headers.emplace_back("Link", "<" + base + "?last=" + items.back() +
                                            "&n=" + std::to_string(n) + ">; rel=\"next\"");
    }
    return resp;
  }

  Auth auth_;
  std::map<std::string, std::string> manifests_;
  std::map<std::string, std::string> blobs_;
  std::map<std::string, std::vector<std::string>> tags_;
  bool wrong_content_digest_ = false;
  std::chrono::milliseconds delay_{0};
  std::atomic<int> token_requests_{0};
  std::mutex mu_;
  std::vector<std::string> seen_auth_;
  LoopbackServer server_;  // last: destroyed first, while the maps above are alive
};

Keychain creds_for(const std::string& host, const std::string& password = kPassword) {
  Keychain kc;
  kc.add(host, Credential{kUser, password, "", ""});
  return kc;
}

TEST(RegistryClient, InspectsLabelsAnonymously) {
  FakeRegistry reg(Auth::kNone);
  std::string digest =
      reg.add_image("aim/llama", "1.0.0", "amd64", {{"com.amd.aim.model.canonicalName", "x/y"}});
  Client client;
  auto info = client.inspect(reg.host() + "/aim/llama:1.0.0");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->manifest_digest, digest);
  EXPECT_EQ(info->config.labels.at("com.amd.aim.model.canonicalName"), "x/y");
  EXPECT_EQ(info->config.architecture, "amd64");
  EXPECT_TRUE(info->index_digest.empty());

  // By digest as well.
  auto pinned = client.inspect(reg.host() + "/aim/llama@" + digest);
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(pinned->config.labels.size(), 1U);
}

TEST(RegistryClient, PicksLinuxAmd64FromAnIndex) {
  FakeRegistry reg(Auth::kNone);
  std::string arm = reg.add_image("aim/multi", "", "arm64", {{"variant", "arm"}}, true);
  std::string amd = reg.add_image("aim/multi", "", "amd64", {{"variant", "amd"}}, true);
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", arm},
                   {"size", 1},
                   {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                  {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", amd},
                   {"size", 1},
                   {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  std::string index_digest = reg.put_manifest("aim/multi", "1.0", index);

  Client client;
  auto info = client.inspect(reg.host() + "/aim/multi:1.0");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->index_digest, index_digest);
  EXPECT_EQ(info->manifest_digest, amd);
  EXPECT_EQ(info->config.labels.at("variant"), "amd");

  ClientOptions arm_opts;
  arm_opts.platform.architecture = "arm64";
  Client arm_client(arm_opts);
  EXPECT_EQ(arm_client.inspect(reg.host() + "/aim/multi:1.0")->config.labels.at("variant"), "arm");

  ClientOptions s390;
  s390.platform.architecture = "s390x";
  auto missing = Client(s390).inspect(reg.host() + "/aim/multi:1.0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

TEST(RegistryClient, VerifiesDigests) {
  FakeRegistry reg(Auth::kNone);
  reg.add_image("aim/x", "1", "amd64", json::object());
  Client client;
  auto manifest = client.fetch_manifest(*parse_reference(reg.host() + "/aim/x:1"));
  ASSERT_TRUE(manifest);
  reg.corrupt_blob("aim/x", manifest->json["config"]["digest"].get<std::string>());
  auto bad_blob = client.inspect(reg.host() + "/aim/x:1");
  ASSERT_FALSE(bad_blob);
  EXPECT_EQ(bad_blob.error().kind, ErrorKind::kBadResponse);
  EXPECT_NE(bad_blob.error().message.find("digest mismatch"), std::string::npos);

  FakeRegistry lying(Auth::kNone);
  lying.add_image("aim/y", "1", "amd64", json::object());
  lying.set_wrong_content_digest(true);
  auto bad_manifest = Client().inspect(lying.host() + "/aim/y:1");
  ASSERT_FALSE(bad_manifest);
  EXPECT_EQ(bad_manifest.error().kind, ErrorKind::kBadResponse);
}

TEST(RegistryClient, CachesContentByDigest) {
  FakeRegistry reg(Auth::kNone);
  reg.add_image("aim/x", "1", "amd64", {{"a", "b"}});
  Client client;
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  EXPECT_EQ(client.cache_hits(), 0U);
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  EXPECT_EQ(client.cache_hits(), 1U);  // the config blob; the tag is always re-resolved

  ClientOptions no_cache;
  no_cache.cache_entries = 0;
  Client uncached(no_cache);
  ASSERT_TRUE(uncached.inspect(reg.host() + "/aim/x:1"));
  ASSERT_TRUE(uncached.inspect(reg.host() + "/aim/x:1"));
  EXPECT_EQ(uncached.cache_hits(), 0U);
}

TEST(RegistryClient, CacheIsBounded) {
  FakeRegistry reg(Auth::kNone);
  reg.add_image("aim/x", "1", "amd64", {{"a", "x"}});
  reg.add_image("aim/y", "1", "amd64", {{"a", "y"}});
  ClientOptions two;
  two.cache_entries = 2;  // one image's manifest and config
  Client client(two);
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/y:1"));  // evicts x's entries
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  EXPECT_EQ(client.cache_hits(), 0U);
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  EXPECT_EQ(client.cache_hits(), 1U);
}

TEST(RegistryClient, BasicAuth) {
  FakeRegistry reg(Auth::kBasic);
  reg.add_image("aim/x", "1", "amd64", {{"a", "b"}});
  Client client(ClientOptions{}, creds_for(reg.host()));
  auto info = client.inspect(reg.host() + "/aim/x:1");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->config.labels.at("a"), "b");

  auto wrong =
      Client(ClientOptions{}, creds_for(reg.host(), "nope")).inspect(reg.host() + "/aim/x:1");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::kAuth);

  auto anonymous = Client().inspect(reg.host() + "/aim/x:1");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().kind, ErrorKind::kAuth);
}

TEST(RegistryClient, BearerTokensAreFetchedAndCachedByScope) {
  FakeRegistry reg(Auth::kBearer);
  reg.add_image("aim/x", "1", "amd64", {{"a", "b"}});
  reg.add_image("aim/x", "2", "amd64", {{"a", "c"}});
  reg.add_image("aim/other", "1", "amd64", {{"a", "d"}});
  Client client(ClientOptions{}, creds_for(reg.host()));
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:1"));
  ASSERT_TRUE(client.inspect(reg.host() + "/aim/x:2"));
  EXPECT_EQ(client.token_fetches(), 1U);  // same scope: the cached token
  auto other = client.inspect(reg.host() + "/aim/other:1");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->config.labels.at("a"), "d");
  EXPECT_EQ(client.token_fetches(), 2U);  // another repository: another scope

  auto tags = client.list_tags(reg.host(), "aim/x");
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"1", "2"}));
  auto repos = client.catalog(reg.host());
  ASSERT_TRUE(repos) << repos.error().message;
  EXPECT_EQ(*repos, (std::vector<std::string>{"aim/other", "aim/x"}));
}

TEST(RegistryClient, WrongPasswordIsAnAuthErrorWithoutSecrets) {
  FakeRegistry reg(Auth::kBearer);
  reg.add_image("aim/x", "1", "amd64", json::object());
  Client client(ClientOptions{}, creds_for(reg.host(), "wrong-password-123"));
  auto r = client.inspect(reg.host() + "/aim/x:1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(r.error().message.find("wrong-password-123"), std::string::npos);
  EXPECT_EQ(r.error().message.find(base64_encode(std::string(kUser) + ":wrong-password-123")),
            std::string::npos);
}

TEST(RegistryClient, NotFound) {
  FakeRegistry reg(Auth::kNone);
  reg.add_image("aim/x", "1", "amd64", json::object());
  Client client;
  auto missing_tag = client.inspect(reg.host() + "/aim/x:2");
  ASSERT_FALSE(missing_tag);
  EXPECT_EQ(missing_tag.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing_tag.error().http_status, 404);
  EXPECT_NE(missing_tag.error().message.find("MANIFEST_UNKNOWN"), std::string::npos);
  auto missing_repo = client.list_tags(reg.host(), "aim/none");
  ASSERT_FALSE(missing_repo);
  EXPECT_EQ(missing_repo.error().kind, ErrorKind::kNotFound);
}

TEST(RegistryClient, Pagination) {
  FakeRegistry reg(Auth::kNone);
  for (std::string t : {"a", "b", "c", "d", "e"})
    reg.add_image("aim/t", t, "amd64", json::object());
  reg.add_image("aim/u", "1", "amd64", json::object());
  Client client;
  auto tags = client.list_tags(reg.host(), "aim/t", 2);
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  auto repos = client.catalog(reg.host(), 1);
  ASSERT_TRUE(repos) << repos.error().message;
  EXPECT_EQ(*repos, (std::vector<std::string>{"aim/t", "aim/u"}));

  ClientOptions few_pages;
  few_pages.max_pages = 2;
  auto capped = Client(few_pages).list_tags(reg.host(), "aim/t", 2);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().kind, ErrorKind::kBadResponse);
}

TEST(RegistryClient, Unreachable) {
  int port = 0;
  {
    LoopbackServer gone([](const ServerRequest&) { return ServerResponse{}; });
    port = gone.port();
  }  // closed: nothing listens there any more
  Client client;
  auto r = client.inspect("127.0.0.1:" + std::to_string(port) + "/aim/x:1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnreachable);
  ASSERT_TRUE(r.error().transport.has_value());
  EXPECT_EQ(*r.error().transport, http::ErrorKind::kConnect);
}

TEST(RegistryClient, TimeoutIsUnreachable) {
  FakeRegistry slow(Auth::kNone);
  slow.add_image("aim/x", "1", "amd64", json::object());
  slow.set_delay(std::chrono::milliseconds(1500));
  ClientOptions opts;
  opts.timeout = std::chrono::milliseconds(200);
  auto r = Client(opts).inspect(slow.host() + "/aim/x:1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnreachable);
  EXPECT_EQ(r.error().transport, http::ErrorKind::kTimeout);
}

TEST(RegistryClient, SharedAcrossThreads) {
  FakeRegistry reg(Auth::kBearer);
  for (int i = 0; i < 4; ++i)
    reg.add_image("aim/r" + std::to_string(i), "1", "amd64", {{"i", std::to_string(i)}});
  Client client(ClientOptions{}, creds_for(reg.host()));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        auto info = client.inspect(reg.host() + "/aim/r" + std::to_string(t) + ":1");
        if (info && info->config.labels.at("i") == std::to_string(t)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 12);
}

TEST(RegistryClient, InvalidReference) {
  auto r = Client().inspect("Not A Reference");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidReference);
}

// Found by fuzz/registry_manifest_fuzz.cpp: a string field that a registry sent as another type
// ({"os": 5} in an index's platform, a number as mediaType, an error code or a config's os) threw
// nlohmann's type_error out of the client ("type must be string, but is number"). Such fields now
// read as absent.
TEST(RegistryClient, FieldsOfTheWrongTypeReadAsAbsent) {
  const std::string config = R"({"os":5,"architecture":["amd64"],"config":{"Labels":{"a":"b"}}})";
  const std::string manifest =
      R"({"mediaType":5,"config":{"digest":")" + sha256_digest(config) + R"("},"layers":[]})";
  const std::string index = R"({"schemaVersion":2,"manifests":[{"digest":")" +
                            sha256_digest(manifest) +
                            R"(","platform":{"os":5,"architecture":"amd64"}}]})";
  LoopbackServer server([&](const ServerRequest& r) {
    const std::string m = "/v2/fuzz/img/manifests/", b = "/v2/fuzz/img/blobs/";
    if (r.target == m + "index")
      return ServerResponse{
          200, {{"Content-Type", "application/vnd.oci.image.index.v1+json"}}, index};
    if (r.target == m + "image")
      return ServerResponse{200, {{"Content-Type", "application/json"}}, manifest};
    if (r.target == b + sha256_digest(config)) return ServerResponse{200, {}, config};
    return ServerResponse{404, {}, R"({"errors":[{"code":7,"message":"no such thing"}]})"};
  });
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  Client client;

  auto by_index = client.inspect(host + "/fuzz/img:index");
  ASSERT_FALSE(by_index);
  EXPECT_EQ(by_index.error().kind, ErrorKind::kNotFound);  // no entry for linux/amd64

  auto image = client.inspect(host + "/fuzz/img:image");
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->manifest_media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(image->config.os, "");
  EXPECT_EQ(image->config.architecture, "");
  EXPECT_EQ(image->config.labels.at("a"), "b");

  auto missing = client.inspect(host + "/fuzz/img:gone");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("UNKNOWN: no such thing"), std::string::npos)
      << missing.error().message;
}

TEST(RegistryClient, NextLink) {
  EXPECT_EQ(next_link(R"(</v2/x/tags/list?last=b&n=2>; rel="next")"), "/v2/x/tags/list?last=b&n=2");
  EXPECT_EQ(next_link(R"(<http://a/prev>; rel="prev", <http://a/next>; rel="next")"),
            "http://a/next");
  EXPECT_EQ(next_link(""), "");
  EXPECT_EQ(next_link(R"(<http://a/prev>; rel="prev")"), "");
}

}  // namespace
}  // namespace aim::registry
