// AIM types shared by several kinds (api.md §3): hardware requirements, model sources,
// resolved references, image metadata, profiles, runtime-config sections and autoscaling.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/k8s.h"
#include "api/schema.h"
#include "core/uri_credentials.h"

namespace aim::api {

struct CpuRequirements {
  Quantity requests;
  std::optional<Quantity> limits;
  Json extra;
  static void describe(Fields<CpuRequirements>& f);
};

struct GpuRequirements {
  std::optional<int32_t> requests;
  std::optional<std::string> model;
  std::optional<Quantity> min_vram;
  std::optional<std::string> resource_name;
  Json extra;
  static void describe(Fields<GpuRequirements>& f);
};

struct HardwareRequirements {
  std::optional<GpuRequirements> gpu;
  std::optional<CpuRequirements> cpu;
  Json extra;
  static void describe(Fields<HardwareRequirements>& f);
};

// AIMModelSource (§3.5).
struct ModelSource {
  std::optional<std::string> model_id;
  std::optional<std::string> source_uri;
  std::optional<Quantity> size;
  std::optional<EnvList> env;
  std::optional<std::string> name;              // seed-compatible alias (seed 002)
  std::optional<std::string> source_uri_alias;  // "sourceURI", seed-compatible alias (seed 002)
  Json extra;
  static void describe(Fields<ModelSource>& f);
  // The effective URI: sourceUri, else the seed alias sourceURI.
  std::string effective_uri() const;
  // modelId, else derived from an hf:// URI ("hf://org/name/..." -> "org/name"), else empty.
  std::string effective_model_id() const;
};

// AIMResolvedReference (§3.2).
struct ResolvedReference {
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  std::optional<std::string> scope;  // Namespace, Cluster, Merged, Unknown
  std::optional<std::string> kind;
  std::optional<std::string> uid;
  Json extra;
  static void describe(Fields<ResolvedReference>& f);
};

struct RecommendedDeployment {
  std::optional<std::string> gpu_model;
  std::optional<int32_t> gpu_count;
  std::optional<std::string> precision;
  std::optional<std::string> metric;
  std::optional<std::string> profile_id;
  std::optional<std::string> description;
  Json extra;
  static void describe(Fields<RecommendedDeployment>& f);
};

struct ModelMetadata {
  std::optional<std::string> canonical_name;
  std::optional<std::string> family;
  std::optional<std::string> source;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<std::string>> versions;
  std::optional<std::vector<std::string>> variants;
  std::optional<bool> hf_token_required;
  std::optional<std::string> title;
  std::optional<std::string> description_full;
  std::optional<std::string> release_notes;
  std::optional<std::vector<RecommendedDeployment>> recommended_deployments;
  Json extra;
  static void describe(Fields<ModelMetadata>& f);
};

struct OciMetadata {
  std::optional<std::string> title, description, licenses, vendor, authors, source, documentation,
      created, revision, version;
  Json extra;
  static void describe(Fields<OciMetadata>& f);
};

struct ImageMetadata {
  std::optional<ModelMetadata> model;
  std::optional<OciMetadata> oci;
  std::optional<StringMap> original_labels;
  Json extra;
  static void describe(Fields<ImageMetadata>& f);
};

struct ProfileMetadata {
  std::optional<std::string> engine;
  std::optional<std::string> gpu;
  std::optional<int32_t> gpu_count;
  std::optional<std::string> metric;
  std::optional<std::string> precision;
  std::optional<std::string> type;
  Json extra;
  static void describe(Fields<ProfileMetadata>& f);
};

// AIMProfile (§3.7), template status.profile.
struct Profile {
  std::optional<Json> engine_args;
  std::optional<StringMap> env_vars;
  std::optional<ProfileMetadata> metadata;
  std::optional<Json> original_discovery_output;
  Json extra;
  static void describe(Fields<Profile>& f);
};

struct DiscoveryState {
  std::optional<int32_t> attempts;
  std::optional<std::string> last_attempt_time;
  std::optional<std::string> last_failure_reason;
  std::optional<std::string> last_failure_code;
  std::optional<std::string> next_attempt_time;
  std::optional<std::string> spec_hash;
  Json extra;
  static void describe(Fields<DiscoveryState>& f);
};

struct StorageConfig {
  std::optional<std::string> default_storage_class_name;
  std::optional<int32_t> pvc_headroom_percent;
  Json extra;
  static void describe(Fields<StorageConfig>& f);
};

struct RoutingConfig {
  std::optional<bool> enabled;
  std::optional<ParentReference> gateway_ref;
  std::optional<std::string> path_template;
  std::optional<std::string> request_timeout;  // Go duration
  std::optional<StringMap> annotations;
  Json extra;
  static void describe(Fields<RoutingConfig>& f);
};

struct ModelConfig {
  std::optional<bool> auto_discovery;
  Json extra;
  static void describe(Fields<ModelConfig>& f);
};

struct LabelPropagation {
  std::optional<bool> enabled;
  std::optional<std::vector<std::string>> match;
  Json extra;
  static void describe(Fields<LabelPropagation>& f);
};

// Autoscaling (§3.11).
struct PodMetricSource {
  std::optional<std::string> backend;
  std::optional<std::string> server_address;
  std::optional<std::vector<std::string>> metric_names;
  std::optional<std::string> query;
  std::optional<std::string> operation_over_time;
  Json extra;
  static void describe(Fields<PodMetricSource>& f);
};

struct MetricTarget {
  std::string type;
  std::optional<std::string> value;
  std::optional<std::string> average_value;
  std::optional<int32_t> average_utilization;
  Json extra;
  static void describe(Fields<MetricTarget>& f);
};

struct PodMetric {
  PodMetricSource metric;
  MetricTarget target;
  Json extra;
  static void describe(Fields<PodMetric>& f);
};

struct MetricsSpec {
  std::string type;
  std::optional<PodMetric> podmetric;
  Json extra;
  static void describe(Fields<MetricsSpec>& f);
};

struct AutoScaling {
  std::optional<std::vector<MetricsSpec>> metrics;
  Json extra;
  static void describe(Fields<AutoScaling>& f);
};

// ---- shared field groups (Go's inlined structs), declared once and reused ----------------

inline const std::vector<std::string> kMetricValues = {"latency", "throughput"};
inline const std::vector<std::string> kPrecisionValues = {"auto", "fp4",  "fp8",  "fp16",
                                                          "fp32", "bf16", "int4", "int8"};
inline const std::vector<std::string> kProfileTypeValues = {"optimized", "preview", "unoptimized"};
inline const std::vector<std::string> kResolutionScopeValues = {"Namespace", "Cluster", "Merged",
                                                                "Unknown"};
inline constexpr std::string_view kReferenceSourceUriPattern = R"(^(hf|s3)://[^ \t\r\n]+$)";
// The name part may hold dots but not only dots: `org/.` and `org/..` would escape the cache
// directory /workspace/cache/{modelId}.
inline constexpr std::string_view kModelIdPattern =
    "^[a-zA-Z0-9_-]+/[a-zA-Z0-9._-]*[a-zA-Z0-9_-][a-zA-Z0-9._-]*$";
// A Go duration (time.ParseDuration): `30s`, `1m30s`, `1.5h`.
inline constexpr std::string_view kDurationPattern = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

// CEL rules every source URI field carries: no `.`/`..` segment (a path that climbs out of its
// repository or bucket) and no empty segment (`hf://org//m`, `hf:///x`), both before any query.
inline constexpr std::string_view kUriNoDotSegmentsRule =
    "!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://([^?#]*/)?[.][.]?([/?#].*)?$')";
inline constexpr std::string_view kUriNoDotSegmentsMessage =
    "the URI must not contain a '.' or '..' path segment";
inline constexpr std::string_view kUriNoEmptySegmentsRule =
    "!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://([^?#]*/)?/')";
inline constexpr std::string_view kUriNoEmptySegmentsMessage =
    "the URI must not contain an empty path segment ('//')";

// The built-in schemes' shapes, as aim-fetch parses them (fetch/uri.cpp), so what it would refuse
// is refused at admission: names of letters, digits, '.', '_' and '-' (no percent-encoding).
inline constexpr std::string_view kHfUriRule =
    "!self.startsWith('hf://') || self.matches("
    "'^hf://[A-Za-z0-9._-]{1,96}(/[A-Za-z0-9._-]{1,255})*/?(@[A-Za-z0-9._/-]{1,256})?$')";
inline constexpr std::string_view kHfUriMessage =
    "an hf:// URI is hf://org/model[/path][@revision]: letters, digits, '.', '_' and '-' only, "
    "no percent-encoding";
inline constexpr std::string_view kS3UriRule =
    "!self.startsWith('s3://') || self.matches('^s3://[a-z0-9.-]{3,63}(/.*)?$')";
inline constexpr std::string_view kS3UriMessage =
    "an s3:// URI is s3://bucket[/prefix] with a bucket name of 3 to 63 lowercase letters, "
    "digits, '.' and '-'";
inline constexpr std::string_view kNgcUriRule =
    "!self.startsWith('ngc://') || self.matches("
    "'^ngc://[A-Za-z0-9._-]{1,96}/([A-Za-z0-9._-]{1,96}/"
    ")?[A-Za-z0-9._-]{1,96}(:[A-Za-z0-9._-]{1,96})?$')";
inline constexpr std::string_view kNgcUriMessage =
    "an ngc:// URI is ngc://org/[team/]model[:version]: letters, digits, '.', '_' and '-' only";

// Credentials in a URI would be copied into the download Job's arguments and shown wherever the
// object is (issue 26): refused, with where they go instead. A user name or password before the
// host, and the query parameters that carry a signature or a token (AWS, Google Cloud, Azure
// SAS, and the generic names).
inline constexpr std::string_view kUriNoUserinfoRule =
    "!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')";
inline constexpr std::string_view kUriNoUserinfoMessage =
    "the URI must not hold credentials (user:password@): put them in a Secret the download "
    "reads (HTTPS_TOKEN for a bearer token, AIM_SIGNED_URL for a whole signed URL; "
    "docs/aim-fetch.md)";
inline std::string uri_no_signature_rule() {
  std::string names;
  for (auto name : kCredentialQueryParameters)
    names += (names.empty() ? "" : "|") + std::string(name);
  return "!self.matches('(?i)[?&](" + names + ")=')";
}
inline constexpr std::string_view kUriNoSignatureMessage =
    "the URI must not hold a signature or a token in its query: write the URI without its "
    "query, and put the whole signed URL in a Secret the download reads, key AIM_SIGNED_URL "
    "(docs/aim-fetch.md)";

// Bounds that keep the CEL cost of the URI rules within the API server's budget.
inline constexpr int64_t kMaxUriLength = 2048;
inline constexpr int64_t kMaxModelSources = 16;

// Adds the URI rules (and the length bound they need) to a field.
inline FieldBuilder& uri_segment_rules(FieldBuilder&& b) {
  return b.max_length(kMaxUriLength)
      .cel(std::string(kUriNoDotSegmentsRule), std::string(kUriNoDotSegmentsMessage))
      .cel(std::string(kUriNoEmptySegmentsRule), std::string(kUriNoEmptySegmentsMessage))
      .cel(std::string(kUriNoUserinfoRule), std::string(kUriNoUserinfoMessage))
      .cel(uri_no_signature_rule(), std::string(kUriNoSignatureMessage))
      .cel(std::string(kHfUriRule), std::string(kHfUriMessage))
      .cel(std::string(kS3UriRule), std::string(kS3UriMessage))
      .cel(std::string(kNgcUriRule), std::string(kNgcUriMessage));
}

// An image reference as the registry client reads it (registry::parse_reference, the
// go-containerregistry rules): [registry/]repository[:tag][@sha256:<64 hex>], where the first
// segment is a registry only when it has a '.' or a ':' (a host name or IP with an optional
// port, or a bracketed IPv6 literal), the repository is 2 to 255 of a-z 0-9 _ . / -, and the tag
// 1 to 128 of A-Z a-z 0-9 _ . -. RE2 and ECMAScript read it alike (registry/reference_test.cpp
// checks it against the parser).
inline constexpr std::string_view kImageReferencePattern =
    R"(^(([A-Za-z0-9_-]+([.][A-Za-z0-9_-]+)+(:[0-9]+)?|[A-Za-z0-9_-]+:[0-9]+|\[[0-9A-Fa-f:.]+\](:[0-9]+)?)/)?[a-z0-9_./-]{2,255}(:[A-Za-z0-9_.-]{1,128})?(@sha256:[0-9a-f]{64})?$)";

// An image field: at most 512 characters, refused at admission unless it is an image reference
// (issue 26: an unparsable reference got an AIMModel named after the mangled text).
inline FieldBuilder& image_reference(FieldBuilder& b, const std::string& what) {
  return b.max_length(512).cel("self.matches(r'" + std::string(kImageReferencePattern) + "')",
                               what +
                                   " must be an image reference, [registry/]repository[:tag] or "
                                   "[registry/]repository@sha256:<64 hex digits>, e.g. "
                                   "ghcr.io/amd/llama:1 (repository: lower-case letters, digits, "
                                   "'_', '.', '/', '-')");
}
inline FieldBuilder& image_reference(FieldBuilder&& b, const std::string& what) {
  return image_reference(b, what);
}

// The largest model size the API accepts: far above any checkpoint published today (the largest
// are a few TiB) and far below what a typo asks a storage backend for (`1Ei`).
inline constexpr std::string_view kMaxModelSize = "1Pi";

// A quantity that may not be negative and, when `max` is given, not above it (issue 26:
// `-1Gi` and `1Ei` were accepted). `what` names the field in the messages.
inline FieldBuilder& quantity_bounds(FieldBuilder&& b, const std::string& what,
                                     std::string_view max = {}) {
  b.max_length(64).cel(
      "!isQuantity(string(self)) || !quantity(string(self)).isLessThan(quantity('0'))",
      what + " must not be negative");
  if (!max.empty())
    b.cel("!isQuantity(string(self)) || !quantity(string(self)).isGreaterThan(quantity('" +
              std::string(max) + "'))",
          what + " must be at most " + std::string(max));
  return b;
}

// RuntimeConfigRef (§3.1): one field, runtimeConfigName.
template <class T>
void describe_runtime_config_ref(Fields<T>& f) {
  f.field("runtimeConfigName", &T::runtime_config_name,
          "Name of the AIMRuntimeConfig (same namespace) and/or AIMClusterRuntimeConfig to use; "
          "both are merged with namespace values winning per field. Empty selects the config "
          "named `default` when it exists.");
}

// AIMRuntimeParameters (§3.3): metric, precision and hardware, each fixed at creation (set then or
// never).
template <class T>
void describe_runtime_parameters(Fields<T>& f) {
  f.field("metric", &T::metric,
          "Optimisation goal: `latency` (low end-to-end latency) or `throughput` (sustained "
          "request rate). Immutable: set at creation or never.")
      .enums_all_of(kMetricValues)
      .immutable("metric is immutable");
  f.field("precision", &T::precision,
          "Numeric precision the runtime uses. Immutable: set at creation or never.")
      .enums_all_of(kPrecisionValues)
      .immutable("precision is immutable");
  f.field("hardware", &T::hardware,
          "GPU and CPU needs of one replica. Immutable: set at creation or never.")
      .immutable("hardware is immutable");
}

template <class T>
void describe_env(Fields<T>& f, std::string_view description) {
  f.field("env", &T::env, description).list_map({"name"});
}

template <class T>
void describe_image_pull_secrets(Fields<T>& f, std::string_view description) {
  f.field("imagePullSecrets", &T::image_pull_secrets, description);
}

// AIMServiceRuntimeConfig (§3.9): storage, routing, env.
template <class T>
void describe_service_runtime_config(Fields<T>& f) {
  f.field("storage", &T::storage, "Storage defaults for artifact and cache PVCs.");
  f.field("routing", &T::routing, "HTTP routing through a Gateway API HTTPRoute.");
  describe_env(f,
               "Environment of the inference container. Variables merge by name across layers "
               "(service > template > runtime config > system defaults).");
}

}  // namespace aim::api
