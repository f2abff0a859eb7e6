// registry/client and registry/image_metadata: what an OCI registry sends back. Manifests,
// indexes (OCI and Docker), image configs and their labels, tag-list pages with their Link
// headers and error bodies go through the real client, against a loopback registry that serves
// the fuzzer's documents (test/support/loopback_server.h); the AIM image metadata is then read
// from the config's labels.
//
// Input: a mode byte, then up to four documents separated by "\n--\n". A document's first line
// is "[STATUS ]CONTENT-TYPE" (modes 0, 1) or a Link header (mode 2); the rest is the body. In a
// body, "@1", "@2", "@3" become the sha256 digest of document 1, 2, 3 (a document names only
// later ones), so an index can point at a manifest and a manifest at its config by digest.
// Modes: 0 inspect "<registry>/fuzz/img:t" (document 0 answers the tag, the others their
// digests), 1 fetch_manifest, 2 list_tags (document N is page N), 3 the rest is a JSON object of
// labels, or else (when it is UTF-8, as every label parsed from a config is) a
// recommendedDeployments value.
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "fuzz/fuzz_input.h"
#include "registry/client.h"
#include "registry/digest.h"
#include "registry/image_metadata.h"
#include "test/support/loopback_server.h"

namespace {

using aim::testing::ServerRequest;
using aim::testing::ServerResponse;

struct Document {
  int status = 200;
  std::string first_line;  // content type or Link header
  std::string body;
  std::string digest;
};

std::mutex mu;
std::vector<Document> docs;
bool send_content_digest = false;

std::vector<Document> documents(std::string_view text) {
  auto parts = aim::fuzz::split(text, "\n--\n", 4);
  std::vector<Document> out(parts.size());
  for (std::size_t i = parts.size(); i-- > 0;) {
    auto lines = aim::fuzz::split(parts[i], "\n", 2);
    Document& d = out[i];
    std::string_view first = lines[0];
    if (first.size() >= 4 && first[3] == ' ' &&
        std::isdigit(static_cast<unsigned char>(first[0])) &&
        std::isdigit(static_cast<unsigned char>(first[1])) &&
        std::isdigit(static_cast<unsigned char>(first[2]))) {
      d.status = std::stoi(std::string(first.substr(0, 3)));
      if (d.status < 200) d.status = 200;
      first.remove_prefix(4);
    }
    d.first_line = std::string(first);
    d.body = lines.size() > 1 ? std::string(lines[1]) : std::string();
    for (std::size_t j = i + 1; j < out.size(); ++j) {
      std::string mark = "@" + std::to_string(j);
      for (auto at = d.body.find(mark); at != std::string::npos;
           at = d.body.find(mark, at + out[j].digest.size()))
        d.body.replace(at, mark.size(), out[j].digest);
    }
    d.digest = aim::registry::sha256_digest(d.body);
  }
  return out;
}

ServerResponse serve(const ServerRequest& r) {
  std::lock_guard<std::mutex> lock(mu);
  ServerResponse resp;
  resp.status = 404;
  resp.body = R"({"errors":[{"code":"NAME_UNKNOWN","message":"no such thing"}]})";
  std::string path = r.target.substr(0, r.target.find('?'));
  const Document* d = nullptr;
  static const std::string manifests = "/v2/fuzz/img/manifests/", blobs = "/v2/fuzz/img/blobs/";
  if (path == manifests + "t" && !docs.empty()) {
    d = &docs[0];
    if (send_content_digest) resp.headers.emplace_back("Docker-Content-Digest", d->digest);
  } else if (path.rfind(manifests, 0) == 0 || path.rfind(blobs, 0) == 0) {
    std::string id = path.substr(path.rfind('/') + 1);
    for (const auto& doc : docs) {
      if (doc.digest == id) d = &doc;
    }
  } else if (path == "/v2/fuzz/img/tags/list") {
    auto page = r.target.find("page=");
    std::size_t n =
        page == std::string::npos ? 0 : std::strtoul(r.target.c_str() + page + 5, nullptr, 10);
    if (n < docs.size()) {
      d = &docs[n];
      if (!d->first_line.empty()) resp.headers.emplace_back("Link", d->first_line);
      resp.status = d->status;
      resp.body = d->body;
      resp.headers.emplace_back("Content-Type", "application/json");
      return resp;
    }
  }
  if (d == nullptr) return resp;
  resp.status = d->status;
  resp.body = d->body;
  if (!d->first_line.empty()) resp.headers.emplace_back("Content-Type", d->first_line);
  return resp;
}

struct Registry {
  aim::testing::LoopbackServer server{serve};
  aim::registry::Client client{[] {
    aim::registry::ClientOptions o;
    o.cache_entries = 0;  // every execution sees only its own documents
    o.max_pages = 4;
    o.timeout = std::chrono::seconds(10);
    return o;
  }()};
  std::string host = "127.0.0.1:" + std::to_string(server.port());
};

Registry& fake_registry() {
  static Registry* r = new Registry();  // never destroyed: the server's threads outlive main
  return *r;
}

void labels_metadata(const std::map<std::string, std::string>& labels) {
  auto md = aim::registry::image_metadata_from_labels(labels);
  if (md) (void)md->dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 4);
  if (mode == 3) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      std::map<std::string, std::string> labels;
      for (const auto& [k, v] : j.items()) {
        if (v.is_string()) labels[k] = v.get<std::string>();
      }
      labels_metadata(labels);
    } else if (fuzz::valid_utf8(text)) {  // a label value comes from a parsed JSON config
      auto d = registry::parse_recommended_deployments(text);
      if (d) (void)d->dump();
      labels_metadata({{"com.amd.aim.model.recommendedDeployments", std::string(text)}});
    }
    return 0;
  }
  Registry& reg = fake_registry();
  {
    std::lock_guard<std::mutex> lock(mu);
    docs = documents(text);
    send_content_digest = mode == 1;
  }
  if (mode == 0) {
    auto info = reg.client.inspect(reg.host + "/fuzz/img:t");
    if (info) labels_metadata(info->config.labels);
  } else if (mode == 1) {
    auto ref = registry::parse_reference(reg.host + "/fuzz/img:t");
    if (!ref) fuzz::violated("fixed reference does not parse", reg.host);
    auto m = reg.client.fetch_manifest(*ref);
    if (m) (void)m->is_index();
  } else {
    auto tags = reg.client.list_tags(reg.host, "fuzz/img");
    if (tags) (void)tags->size();
  }
  return 0;
}
