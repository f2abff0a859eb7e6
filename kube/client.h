// The dynamic Kubernetes client: typed errors, JSON objects, any group/version/resource.
// Thread-safe; one instance is shared by every controller of the process. Connections are
// pooled and reused, requests pass a client-side QPS/burst limiter, and every request is
// counted in rest_client_requests_total{code,method,host}.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/config.h"
#include "kube/error.h"
#include "kube/resource.h"

namespace aim::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;        // for list: "0" = from cache; for watch: where to start
  std::string resource_version_match;  // "NotOlderThan" / "Exact"
  int64_t limit = 500;                 // page size; list() follows continue tokens
  int timeout_seconds = 0;             // watch: server-side timeout (0 = server default)
  bool allow_watch_bookmarks = true;
  // Ask for PartialObjectMetadata: objects come back with metadata only (no spec, status or
  // data). For Secrets this tells which exist without their values ever reaching this process.
  // apiVersion and kind are set to the listed type's.
  bool metadata_only = false;
};

struct ListResult {
  std::vector<Json> items;       // each with apiVersion and kind filled in
  std::string resource_version;  // list's resourceVersion, where a watch resumes
};

struct DeleteOptions {
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<std::string> propagation_policy;  // "Foreground", "Background", "Orphan"
  std::optional<int64_t> grace_period_seconds;
};

struct ApplyOptions {
  std::string field_manager;
  bool force = false;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Json object;
};

class Client {
 public:
  static Result<std::shared_ptr<Client>> create(Config config);
  virtual ~Client() = default;

  virtual Result<Json> get(const ResourceType& type, std::string_view ns,
                           std::string_view name) = 0;
  // Lists every page (following continue tokens).
  virtual Result<ListResult> list(const ResourceType& type, std::string_view ns,
                                  const ListOptions& options = {}) = 0;
  // Namespace comes from object.metadata.namespace.
  virtual Result<Json> create(const ResourceType& type, const Json& object) = 0;
  // PUT; fails with kConflict when metadata.resourceVersion is stale.
  virtual Result<Json> update(const ResourceType& type, const Json& object) = 0;
  virtual Result<Json> update_status(const ResourceType& type, const Json& object) = 0;
  // JSON merge patch (RFC 7386); subresource "" or "status".
  virtual Result<Json> merge_patch(const ResourceType& type, std::string_view ns,
                                   std::string_view name, const Json& patch,
                                   std::string_view subresource = {}) = 0;
  // Server-side apply (application/apply-patch+yaml; JSON is valid YAML).
  virtual Result<Json> apply(const ResourceType& type, const Json& object,
                             const ApplyOptions& options, std::string_view subresource = {}) = 0;
  virtual Result<void> remove(const ResourceType& type, std::string_view ns, std::string_view name,
                              const DeleteOptions& options = {}) = 0;

  // One watch request: calls on_event for each event until the server ends the stream, the
  // handler returns false, or *cancel becomes true. Errors in the stream (e.g. 410 Gone) are
  // returned as an Error with that code. Use Watcher for the resilient list-then-watch loop.
  virtual Result<void> watch(const ResourceType& type, std::string_view ns,
                             const ListOptions& options,
                             const std::function<bool(WatchEvent&&)>& on_event,
                             const std::atomic<bool>* cancel = nullptr) = 0;

  // GET of a raw path (e.g. /api/v1/namespaces/x/pods/y/log?container=z); body as text.
  virtual Result<std::string> get_raw(std::string_view path_and_query) = 0;
  // /version: {"gitVersion": "v1.34.1", ...}
  virtual Result<Json> server_version() = 0;

  virtual const Config& config() const = 0;

  // Connections to the API server opened so far (0 when the client does not count them).
  virtual std::uint64_t connections_opened() const { return 0; }
};

}  // namespace aim::kube
