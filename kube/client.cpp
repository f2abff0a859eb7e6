#include "kube/client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "core/base64.h"
#include "http/client.h"
#include "kube/metrics.h"
#include "kube/object.h"
#include "kube/rate_limiter.h"
#include "kube/watch_stream.h"

namespace aim::kube {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxThrottleRetries = 3;
constexpr std::string_view kAcceptJson = "application/json";
constexpr std::string_view kAcceptMetadata =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
constexpr std::string_view kAcceptMetadataList =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
constexpr std::chrono::seconds kMaxRetryAfter{10};
// Re-run an exec plugin this long before its credential expires.
constexpr std::chrono::seconds kExpirySkew{10};

// host:port of a URL, the `host` label of rest_client_requests_total.
std::string host_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find('/')));
}

class Query {
 public:
  Query& add(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;
    text_ += text_.empty() ? '?' : '&';
    text_ += key;
    text_ += '=';
    text_ += http::url_encode(value);
    return *this;
  }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

struct Credentials {
  std::string authorization;  // the Authorization header value, or empty
  std::shared_ptr<http::SessionPool> pool;
};

class ClientImpl final : public Client {
 public:
  explicit ClientImpl(Config config)
      : config_(std::move(config)),
        host_(host_of(config_.server)),
        limiter_(config_.qps, config_.burst),
        pool_(std::make_shared<http::SessionPool>(config_.tls, config_.user_agent, 16,
                                                  config_.multiplex)),
        requests_(metrics::Registry::global().counter(
            "rest_client_requests_total",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            {"code", "method", "host"})) {}

  Result<Json> get(const ResourceType& type, std::string_view ns, std::string_view name) override {
    return request_json("GET", type.path(ns, name), {}, {});
  }

  Result<ListResult> list(const ResourceType& type, std::string_view ns,
                          const ListOptions& options) override {
    ListResult out;
    std::string next;
    do {
      Query q;
      q.add("labelSelector", options.label_selector).add("fieldSelector", options.field_selector);
      if (options.limit > 0) q.add("limit", std::to_string(options.limit));
      if (next.empty()) {
        q.add("resourceVersion", options.resource_version)
            .add("resourceVersionMatch", options.resource_version_match);
      } else {
        q.add("continue", next);
      }
      auto page = request_json("GET", type.path(ns) + q.str(), {}, {},
                               options.metadata_only ? kAcceptMetadataList : kAcceptJson);
      if (!page) return fail(page.error());
      const Json& meta = (*page)["metadata"];
      out.resource_version = meta.is_object() ? meta.value("resourceVersion", "") : "";
      next = meta.is_object() ? meta.value("continue", "") : "";
      std::string kind = type.kind;
      if (kind.empty()) {
        kind = page->value("kind", "");
        if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
      }
      auto items = page->find("items");
      if (items == page->end() || !items->is_array()) {
        if (items != page->end() && !items->is_null())
          return fail(make_error(ErrorCode::kDecode,
                                 fmt::format("list of {}: items is not an array", type.resource)));
        continue;
      }
      for (auto& item : *items) {
        // List items omit apiVersion and kind; consumers expect whole objects. Metadata-only
        // items say PartialObjectMetadata; they stand for objects of the listed type.
        if (!item.contains("apiVersion") || options.metadata_only)
          item["apiVersion"] = type.api_version();
        if ((!item.contains("kind") || options.metadata_only) && !type.kind.empty())
          item["kind"] = type.kind;
        else if (!item.contains("kind") && !kind.empty())
          item["kind"] = kind;
        out.items.push_back(std::move(item));
      }
    } while (!next.empty());
    return out;
  }

  Result<Json> create(const ResourceType& type, const Json& object) override {
    return request_json("POST", type.path(namespace_for(type, object)), object.dump(),
                        "application/json");
  }

  Result<Json> update(const ResourceType& type, const Json& object) override {
    return put(type, object, {});
  }

  Result<Json> update_status(const ResourceType& type, const Json& object) override {
    return put(type, object, "status");
  }

  Result<Json> merge_patch(const ResourceType& type, std::string_view ns, std::string_view name,
                           const Json& patch, std::string_view subresource) override {
    return request_json("PATCH", type.path(ns, name, subresource), patch.dump(),
                        "application/merge-patch+json");
  }

  Result<Json> apply(const ResourceType& type, const Json& object, const ApplyOptions& options,
                     std::string_view subresource) override {
    std::string name = name_of(object);
    if (name.empty()) return fail(local_error("apply", type, "the object has no metadata.name"));
    if (options.field_manager.empty())
      return fail(local_error("apply", type, "server-side apply needs a field manager"));
    Json body = object;
    if (!body.contains("apiVersion")) body["apiVersion"] = type.api_version();
    if (!body.contains("kind")) body["kind"] = type.kind;
    Query q;
    q.add("fieldManager", options.field_manager);
    if (options.force) q.add("force", "true");
    // JSON is YAML, so the apply-patch content type takes the JSON text as is.
    return request_json("PATCH",
                        type.path(namespace_for(type, object), name, subresource) + q.str(),
                        body.dump(), "application/apply-patch+yaml");
  }

  Result<void> remove(const ResourceType& type, std::string_view ns, std::string_view name,
                      const DeleteOptions& options) override {
    Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
    if (options.precondition_uid) body["preconditions"]["uid"] = *options.precondition_uid;
    if (options.precondition_resource_version)
      body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
    if (options.propagation_policy) body["propagationPolicy"] = *options.propagation_policy;
    if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
    auto r = request("DELETE", type.path(ns, name), body.dump(), "application/json");
    if (!r) return fail(r.error());
    return Ok{};
  }

  Result<void> watch(const ResourceType& type, std::string_view ns, const ListOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event,
                     const std::atomic<bool>* cancel) override;

  Result<std::string> get_raw(std::string_view path_and_query) override {
    auto r = request("GET", std::string(path_and_query), {}, {});
    if (!r) return fail(r.error());
    return std::move(r->body);
  }

  Result<Json> server_version() override { return request_json("GET", "/version", {}, {}); }

  const Config& config() const override { return config_; }

  std::uint64_t connections_opened() const override {
    std::lock_guard lock(cred_mu_);
    const http::Multiplexer* mux = pool_->multiplexer();
    return mux != nullptr ? mux->connections_opened() : 0;
  }

 private:
  Error local_error(std::string_view verb, const ResourceType& type, std::string_view what) const {
    return make_error(ErrorCode::kBadRequest, fmt::format("{} {}: {}", verb, type.resource, what));
  }

  std::string namespace_for(const ResourceType& type, const Json& object) const {
    if (!type.namespaced) return {};
    std::string ns = namespace_of(object);
    return ns.empty() ? config_.default_namespace : ns;
  }

  Result<Json> put(const ResourceType& type, const Json& object, std::string_view subresource) {
    std::string name = name_of(object);
    if (name.empty()) return fail(local_error("update", type, "the object has no metadata.name"));
    return request_json("PUT", type.path(namespace_for(type, object), name, subresource),
                        object.dump(), "application/json");
  }

  void count(long status, std::string_view method) {
    requests_
        .with({status > 0 ? std::to_string(status) : std::string("<error>"), std::string(method),
               host_})
        .inc();
  }

  // The Authorization header and the connection pool to use for the next request. An exec
  // plugin that returns a client certificate swaps the pool, since TLS identity is per pool.
  Result<Credentials> credentials() {
    std::lock_guard lock(cred_mu_);
    Credentials c;
    if (config_.exec) {
      const auto now = std::chrono::system_clock::now();
      if (!exec_cred_ || (exec_cred_->expiry && now + kExpirySkew >= *exec_cred_->expiry)) {
        auto cred = run_exec_credential(*config_.exec);
        if (!cred) return fail(cred.error());
        if (cred->client_cert_pem != cert_in_pool_ || cred->client_key_pem != key_in_pool_) {
          http::TlsOptions tls = config_.tls;
          tls.client_cert_pem = cred->client_cert_pem;
          tls.client_key_pem = cred->client_key_pem;
          pool_ =
              std::make_shared<http::SessionPool>(tls, config_.user_agent, 16, config_.multiplex);
          cert_in_pool_ = cred->client_cert_pem;
          key_in_pool_ = cred->client_key_pem;
        }
        exec_cred_ = std::move(*cred);
      }
      if (!exec_cred_->token.empty()) c.authorization = "Bearer " + exec_cred_->token;
    }
    if (c.authorization.empty() && !config_.token_file.empty()) {
      struct stat st {};
      if (::stat(config_.token_file.c_str(), &st) != 0)
        return fail(make_error(ErrorCode::kConfig,
                               fmt::format("token file {}: cannot read", config_.token_file)));
      // Projected service-account tokens rotate: re-read when the file changes.
      if (st.st_mtim.tv_sec != token_mtime_ || st.st_size != token_size_ || file_token_.empty()) {
        FILE* f = std::fopen(config_.token_file.c_str(), "re");
        if (!f)
          return fail(make_error(ErrorCode::kConfig,
                                 fmt::format("token file {}: cannot read", config_.token_file)));
        std::string t;
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) t.append(buf, n);
        std::fclose(f);
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
        file_token_ = std::move(t);
        token_mtime_ = st.st_mtim.tv_sec;
        token_size_ = st.st_size;
      }
      if (!file_token_.empty()) c.authorization = "Bearer " + file_token_;
    }
    if (c.authorization.empty() && !config_.bearer_token.empty())
      c.authorization = "Bearer " + config_.bearer_token;
    if (c.authorization.empty() && !config_.username.empty())
      c.authorization = "Basic " + aim::base64_encode(config_.username + ":" + config_.password);
    c.pool = pool_;
    return c;
  }

  void forget_exec_credential() {
    std::lock_guard lock(cred_mu_);
    exec_cred_.reset();
  }

  // Everything a request needs but the body handling; `stream` selects Session::stream.
  Result<http::Request> prepare(std::string_view method, const std::string& path_and_query,
                                std::string body, std::string_view content_type,
                                const std::atomic<bool>* cancel, Credentials& creds,
                                std::string_view accept = kAcceptJson) {
    if (!limiter_.take(cancel))
      return fail(make_error(ErrorCode::kCancelled, "request cancelled while rate limited"));
    auto c = credentials();
    if (!c) return fail(c.error());
    creds = std::move(*c);
    http::Request req;
    req.method = std::string(method);
    req.url = config_.server + path_and_query;
    req.body = std::move(body);
    req.timeout = config_.request_timeout;
    req.connect_timeout = config_.connect_timeout;
    req.cancel = cancel;
    req.headers.emplace_back("Accept", std::string(accept));
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", std::string(content_type));
    if (!creds.authorization.empty())
      req.headers.emplace_back("Authorization", creds.authorization);
    return req;
  }

  // One request with the usual retries: a fresh exec credential after a 401, and a wait on
  // 429 Too Many Requests (bounded, honouring Retry-After). Non-2xx become errors.
  Result<http::Response> request(std::string_view method, const std::string& path_and_query,
                                 const std::string& body, std::string_view content_type,
                                 std::string_view accept = kAcceptJson) {
    for (int attempt = 0;; ++attempt) {
      Credentials creds;
      auto req = prepare(method, path_and_query, body, content_type, nullptr, creds, accept);
      if (!req) return fail(req.error());
      const auto start = Clock::now();
      auto resp = creds.pool->perform(*req);
      const long status = resp ? resp->status : 0;
      count(status, method);
      spdlog::debug(
          "kube: {} {} -> {} in {} ms", method, path_and_query,
          status ? std::to_string(status) : std::string("error"),
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
      if (!resp) return fail(error_from_transport(resp.error(), config_.server));
      if (status >= 200 && status < 300) return std::move(*resp);
      Error err = error_from_response(status, resp->body, resp->headers);
      if (status == 401 && config_.exec && attempt == 0) {
        forget_exec_credential();
        continue;
      }
      if (status == 429 && attempt < kMaxThrottleRetries) {
        auto wait = std::min<std::chrono::seconds>(
            err.retry_after.value_or(std::chrono::seconds(1)), kMaxRetryAfter);
        std::this_thread::sleep_for(wait);
        continue;
      }
      return fail(std::move(err));
    }
  }

  Result<Json> request_json(std::string_view method, const std::string& path_and_query,
                            const std::string& body, std::string_view content_type,
                            std::string_view accept = kAcceptJson) {
    auto r = request(method, path_and_query, body, content_type, accept);
    if (!r) return fail(r.error());
    auto j = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      return fail(make_error(ErrorCode::kDecode,
                             fmt::format("{} {}: the response is not JSON", method,
                                         path_and_query.substr(0, path_and_query.find('?')))));
    return j;
  }

  const Config config_;
  const std::string host_;
  TokenBucket limiter_;

  mutable std::mutex cred_mu_;
  std::shared_ptr<http::SessionPool> pool_;
  std::optional<ExecCredential> exec_cred_;
  std::string cert_in_pool_, key_in_pool_;
  std::string file_token_;
  long token_mtime_ = 0;
  long token_size_ = -1;

  metrics::Family<metrics::Counter>& requests_;
};

Result<void> ClientImpl::watch(const ResourceType& type, std::string_view ns,
                               const ListOptions& options,
                               const std::function<bool(WatchEvent&&)>& on_event,
                               const std::atomic<bool>* cancel) {
  Query q;
  q.add("watch", "1")
      .add("labelSelector", options.label_selector)
      .add("fieldSelector", options.field_selector)
      .add("resourceVersion", options.resource_version);
  if (options.allow_watch_bookmarks) q.add("allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) q.add("timeoutSeconds", std::to_string(options.timeout_seconds));
  const std::string path = type.path(ns) + q.str();

  Credentials creds;
  auto req = prepare("GET", path, {}, {}, cancel, creds,
                     options.metadata_only ? kAcceptMetadata : kAcceptJson);
  if (!req) return fail(req.error());
  // No whole-request deadline beyond the server's own timeout; a hung stream is caught by the
  // stall detector (bookmarks arrive about once a minute, so silence means trouble).
  req->timeout = options.timeout_seconds > 0
                     ? std::chrono::milliseconds(std::chrono::seconds(options.timeout_seconds + 30))
                     : std::chrono::milliseconds(0);
  req->stall_bytes_per_second = 1;
  req->stall_seconds = static_cast<long>(config_.watch_stall_timeout.count());

  long status = 0;
  std::string error_body;
  std::optional<Error> stream_error;
  bool handler_stopped = false;
  // Metadata-only events say PartialObjectMetadata; they stand for objects of the watched type.
  std::function<bool(WatchEvent &&)> as_type = [&](WatchEvent&& ev) {
    if (ev.object.is_object() && ev.type != WatchEvent::Type::kError) {
      ev.object["apiVersion"] = type.api_version();
      if (!type.kind.empty()) ev.object["kind"] = type.kind;
    }
    return on_event(std::move(ev));
  };
  WatchStreamDecoder decoder(options.metadata_only ? as_type : on_event);
  http::StreamHandler handler;
  handler.on_headers = [&](long s, const http::Headers&) {
    status = s;
    count(s, "GET");
    return true;
  };
  handler.on_data = [&](std::string_view chunk) {
    if (status < 200 || status >= 300) {
      if (error_body.size() < (64u << 10)) error_body.append(chunk);
      return true;
    }
    bool keep_going = true;
    auto r = decoder.feed(chunk, keep_going);
    if (!r) {
      stream_error = r.error();
      return false;
    }
    if (!keep_going) handler_stopped = true;
    return keep_going;
  };

  auto resp = creds.pool->stream(*req, handler);
  if (stream_error) return fail(std::move(*stream_error));
  if (handler_stopped) return Ok{};
  if (cancel && cancel->load()) return fail(make_error(ErrorCode::kCancelled, "watch cancelled"));
  if (!resp) {
    if (status == 0) count(0, "GET");
    Error e = error_from_transport(resp.error(), config_.server);
    if (resp.error().kind == http::ErrorKind::kTimeout && status >= 200 && status < 300)
      e.message = fmt::format("watch of {} stalled: no event or bookmark for {}s", type.resource,
                              config_.watch_stall_timeout.count());
    return fail(std::move(e));
  }
  if (status < 200 || status >= 300) {
    if (status == 401 && config_.exec) forget_exec_credential();
    return fail(error_from_response(status, error_body, resp->headers));
  }
  bool keep_going = true;
  return decoder.finish(keep_going);
}

}  // namespace

Result<std::shared_ptr<Client>> Client::create(Config config) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0)
    return fail(
        make_error(ErrorCode::kConfig,
                   fmt::format("{}: server \"{}\" is not an http(s) URL",
                               config.source.empty() ? "config" : config.source, config.server)));
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  return std::shared_ptr<Client>(std::make_shared<ClientImpl>(std::move(config)));
}

}  // namespace aim::kube
