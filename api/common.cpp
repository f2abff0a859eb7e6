#include "api/common.h"

namespace aim::api {

void CpuRequirements::describe(Fields<CpuRequirements>& f) {
  f.doc("CPU needs of one replica.");
  f.field("requests", &CpuRequirements::requests, "CPU cores requested (must be > 0).")
      .required()
      .max_length(64)
      .cel("isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",
           "cpu requests must be greater than 0");
  quantity_bounds(f.field("limits", &CpuRequirements::limits, "CPU core limit."), "cpu limits");
}

void GpuRequirements::describe(Fields<GpuRequirements>& f) {
  f.doc("GPU needs of one replica; absent means a CPU-only workload.");
  f.cel("!(has(self.model) && size(self.model) > 0 && has(self.minVram))",
        "model and minVram are mutually exclusive; specify either a specific GPU model OR a "
        "minimum VRAM requirement, not both");
  f.field("requests", &GpuRequirements::requests,
          "GPUs per replica, used as both request and limit. 0 targets GPU nodes without "
          "consuming GPU resources.")
      .minimum(0);
  f.field("model", &GpuRequirements::model,
          "Pin to a GPU model, e.g. `MI300X` (normalised: `Instinct-MI325X` is `MI325X`).")
      .max_length(64);
  quantity_bounds(f.field("minVram", &GpuRequirements::min_vram,
                          "Accept any GPU whose per-device VRAM is at least this value (binary "
                          "units)."),
                  "minVram");
  f.field("resourceName", &GpuRequirements::resource_name, "Extended resource name to request.")
      .default_value("amd.com/gpu");
}

void HardwareRequirements::describe(Fields<HardwareRequirements>& f) {
  f.doc("GPU and CPU needs of one replica; at least one of gpu or cpu must be given.");
  f.cel("has(self.gpu) || has(self.cpu)", "at least one of gpu or cpu must be specified");
  f.field("gpu", &HardwareRequirements::gpu, "");
  f.field("cpu", &HardwareRequirements::cpu, "");
}

void ModelSource::describe(Fields<ModelSource>& f) {
  f.doc("A model artifact to download and cache.");
  f.cel("has(self.sourceUri) || has(self.sourceURI)", "sourceUri is required");
  f.field("modelId", &ModelSource::model_id,
          "Canonical `{org}/{name}`; the cache mount path is `/workspace/cache/{modelId}`.")
      .pattern(std::string(kModelIdPattern))
      .extension(
          "Optional here (required in the reference): when absent it is derived from an "
          "`hf://org/name` sourceUri, so the seed documents' examples apply unchanged.");
  uri_segment_rules(
      f.field("sourceUri", &ModelSource::source_uri,
              "Download location: `hf://org/model` (Hugging Face Hub) or `s3://bucket/key`."))
      .pattern(std::string(kReferenceSourceUriPattern))
      .extension(
          "Optional in the schema (required in the reference); a CEL rule requires it or its "
          "alias sourceURI.");
  quantity_bounds(f.field("size", &ModelSource::size,
                          "Expected storage size; when absent a check-size job discovers it."),
                  "size", kMaxModelSize);
  describe_env(f,
               "Per-source environment (credentials); overrides base-level env with the same "
               "name.");
  f.field("name", &ModelSource::name, "Display name of the source.")
      .extension("Accepted for compatibility with the seed documents' template examples.");
  uri_segment_rules(f.field("sourceURI", &ModelSource::source_uri_alias, "Alias of sourceUri."))
      .pattern(std::string(kReferenceSourceUriPattern))
      .extension("Accepted for compatibility with the seed documents' template examples.");
}

std::string ModelSource::effective_uri() const {
  if (source_uri) return *source_uri;
  if (source_uri_alias) return *source_uri_alias;
  return "";
}

std::string ModelSource::effective_model_id() const {
  if (model_id && !model_id->empty()) return *model_id;
  const std::string uri = effective_uri();
  constexpr std::string_view kHf = "hf://";
  if (uri.rfind(kHf, 0) != 0) return "";
  std::string rest = uri.substr(kHf.size());
  const auto first = rest.find('/');
  if (first == std::string::npos) return "";
  const auto second = rest.find('/', first + 1);
  std::string id = rest.substr(0, second);
  if (const auto at = id.find('@'); at != std::string::npos) id.resize(at);
  return id;
}

void ResolvedReference::describe(Fields<ResolvedReference>& f) {
  f.doc("An object that satisfied a reference.");
  f.field("name", &ResolvedReference::name, "Name of the resolved object.");
  f.field("namespace", &ResolvedReference::namespace_,
          "Namespace of the resolved object; empty means cluster-scoped.");
  f.field("scope", &ResolvedReference::scope,
          "Where it was resolved (`Merged` = namespace and cluster config combined).")
      .enums(kResolutionScopeValues);
  f.field("kind", &ResolvedReference::kind, "Kind of the resolved object, when known.");
  f.field("uid", &ResolvedReference::uid, "UID of the resolved object, when known.");
}

void RecommendedDeployment::describe(Fields<RecommendedDeployment>& f) {
  f.doc("A deployment configuration recommended by the image.");
  f.field("gpuModel", &RecommendedDeployment::gpu_model, "GPU model, e.g. `MI300X`.");
  f.field("gpuCount", &RecommendedDeployment::gpu_count, "GPUs required.");
  f.field("precision", &RecommendedDeployment::precision, "Precision, e.g. `fp8`.");
  f.field("metric", &RecommendedDeployment::metric, "`latency` or `throughput`.");
  f.field("profileId", &RecommendedDeployment::profile_id,
          "AIM profile id; copied to the generated template's spec.profileId.");
  f.field("description", &RecommendedDeployment::description, "Free text.");
}

void ModelMetadata::describe(Fields<ModelMetadata>& f) {
  f.doc("AMD model metadata read from the image labels.");
  f.field("canonicalName", &ModelMetadata::canonical_name,
          "Canonical model name, e.g. `mistralai/Mixtral-8x22B-Instruct-v0.1`.");
  f.field("family", &ModelMetadata::family, "Model family, e.g. `llama`.")
      .extension("Read from the `model.family` image label.");
  f.field("source", &ModelMetadata::source, "URL of the model source.");
  f.field("tags", &ModelMetadata::tags, "Model tags.");
  f.field("versions", &ModelMetadata::versions, "Model versions.");
  f.field("variants", &ModelMetadata::variants, "Model variants.");
  f.field("hfTokenRequired", &ModelMetadata::hf_token_required,
          "Whether a Hugging Face token is needed to download the weights.");
  f.field("title", &ModelMetadata::title, "Human-readable title.");
  f.field("descriptionFull", &ModelMetadata::description_full, "Long description.");
  f.field("releaseNotes", &ModelMetadata::release_notes, "Release notes.");
  f.field("recommendedDeployments", &ModelMetadata::recommended_deployments,
          "Recommended deployments; one service template is generated per entry.");
}

void OciMetadata::describe(Fields<OciMetadata>& f) {
  f.doc("Standard OCI image annotations (org.opencontainers.image.*).");
  f.field("title", &OciMetadata::title, "Image title.");
  f.field("description", &OciMetadata::description, "Image description.");
  f.field("licenses", &OciMetadata::licenses, "SPDX license expression.");
  f.field("vendor", &OciMetadata::vendor, "Vendor.");
  f.field("authors", &OciMetadata::authors, "Authors.");
  f.field("source", &OciMetadata::source, "Source repository URL.");
  f.field("documentation", &OciMetadata::documentation, "Documentation URL.");
  f.field("created", &OciMetadata::created, "Creation date as written in the label.");
  f.field("revision", &OciMetadata::revision, "Source revision.");
  f.field("version", &OciMetadata::version, "Image version.");
}

void ImageMetadata::describe(Fields<ImageMetadata>& f) {
  f.doc("Metadata of an AIM container image.");
  f.field("model", &ImageMetadata::model, "");
  f.field("oci", &ImageMetadata::oci, "");
  f.field("originalLabels", &ImageMetadata::original_labels,
          "Every label of the image configuration, verbatim.");
}

void ProfileMetadata::describe(Fields<ProfileMetadata>& f) {
  f.doc("Characteristics of a runtime profile.");
  f.field("engine", &ProfileMetadata::engine, "Inference engine, e.g. `vllm`.");
  f.field("gpu", &ProfileMetadata::gpu, "GPU model the profile targets.");
  f.field("gpuCount", &ProfileMetadata::gpu_count, "GPUs per replica.");
  f.field("metric", &ProfileMetadata::metric, "Optimisation goal.").enums(kMetricValues);
  f.field("precision", &ProfileMetadata::precision, "Numeric precision.").enums(kPrecisionValues);
  f.field("type", &ProfileMetadata::type,
          "Optimisation class: `optimized` (tuned), `preview` (experimental), `unoptimized`.")
      .enums(kProfileTypeValues);
}

void Profile::describe(Fields<Profile>& f) {
  f.doc("The processed result of discovery.");
  f.field("engine_args", &Profile::engine_args, "Engine-specific arguments (free-form JSON).");
  f.field("env_vars", &Profile::env_vars, "Environment the profile requires.");
  f.field("metadata", &Profile::metadata, "");
  f.field("originalDiscoveryOutput", &Profile::original_discovery_output,
          "Raw output of the discovery job (free-form JSON).");
}

void DiscoveryState::describe(Fields<DiscoveryState>& f) {
  f.doc("Retry and backoff bookkeeping of discovery.");
  f.field("attempts", &DiscoveryState::attempts, "Discovery attempts after failures.");
  f.field("lastAttemptTime", &DiscoveryState::last_attempt_time,
          "Creation time of the latest attempt; backoff is 60 s * 2^(attempts-1), at most 1 h.")
      .format("date-time");
  f.field("lastFailureReason", &DiscoveryState::last_failure_reason,
          "Reason of the latest failure, in words: the failed pod's message (with a log "
          "excerpt) when a pod failed, else the Job's.");
  f.field("lastFailureCode", &DiscoveryState::last_failure_code,
          "The condition reason of the latest failure (PodFailed, DiscoveryTimeout, "
          "DiscoveryOutputInvalid, ...): DiscoveryJobReady, Discovered and Ready keep it until an "
          "attempt succeeds, also after the failed Job is gone.")
      .extension("A failing discovery says one thing until a retry succeeds (issue 27).");
  f.field("nextAttemptTime", &DiscoveryState::next_attempt_time,
          "When the next attempt is due after the latest failure (lastAttemptTime plus the "
          "backoff).")
      .format("date-time")
      .extension("A failing discovery says when it is retried (issue 27).");
  f.field("specHash", &DiscoveryState::spec_hash,
          "Hash of the discovery-relevant spec; a change resets the backoff.");
}

void StorageConfig::describe(Fields<StorageConfig>& f) {
  f.doc("Storage defaults for artifact and cache PVCs.");
  f.field("defaultStorageClassName", &StorageConfig::default_storage_class_name,
          "Storage class used when the consumer names none; empty means the cluster default.");
  f.field("pvcHeadroomPercent", &StorageConfig::pvc_headroom_percent,
          "Extra percent added to the PVC size over the model size.")
      .default_value(10)
      .minimum(0);
}

void RoutingConfig::describe(Fields<RoutingConfig>& f) {
  f.doc("HTTP routing through a Gateway API HTTPRoute.");
  f.field("enabled", &RoutingConfig::enabled,
          "Manage an HTTPRoute. The service value beats the runtime config; unset everywhere "
          "means disabled.");
  f.field("gatewayRef", &RoutingConfig::gateway_ref,
          "Parent Gateway of the route (any namespace); needed when routing is enabled.");
  f.field("pathTemplate", &RoutingConfig::path_template,
          "Path template with `{...}` JSONPath expressions over the AIMService, e.g. "
          "`/{.metadata.namespace}/{.metadata.name}`. The rendered path must be at most 200 "
          "characters of lower-case RFC 1123 segments. Default `/<namespace>/<service UID>`.");
  f.field("requestTimeout", &RoutingConfig::request_timeout,
          "Request timeout of the route as a duration (`30s`, `2m`); unset means none.")
      .pattern(std::string(kDurationPattern));
  f.field("annotations", &RoutingConfig::annotations,
          "Annotations added to generated HTTPRoutes (service values merged over the runtime "
          "config's).");
}

void ModelConfig::describe(Fields<ModelConfig>& f) {
  f.doc("Defaults for model creation and discovery.");
  f.field("autoDiscovery", &ModelConfig::auto_discovery,
          "Whether models run discovery by default.");
}

void LabelPropagation::describe(Fields<LabelPropagation>& f) {
  f.doc("Copying of parent labels to child objects.");
  f.field("enabled", &LabelPropagation::enabled, "Enable user-label propagation.")
      .default_value(false);
  f.field("match", &LabelPropagation::match,
          "Label-key glob patterns (`*`, `?`), e.g. `org.my/my-key-*`.");
}

void PodMetricSource::describe(Fields<PodMetricSource>& f) {
  f.doc("Identifies the metric.");
  f.field("backend", &PodMetricSource::backend, "Metrics backend.")
      .default_value("opentelemetry")
      .enums({"opentelemetry"});
  f.field("serverAddress", &PodMetricSource::server_address,
          "Backend address, e.g. `keda-otel-scaler.keda.svc:4317`.");
  f.field("metricNames", &PodMetricSource::metric_names,
          "Metrics to collect, e.g. `vllm:num_requests_running`.");
  f.field("query", &PodMetricSource::query, "Backend query.");
  f.field("operationOverTime", &PodMetricSource::operation_over_time,
          "Temporal aggregation: `last_one` (default), `avg`, `max`, `min`, `rate`, `count`.");
}

void MetricTarget::describe(Fields<MetricTarget>& f) {
  f.doc("Target value of the metric.");
  f.field("type", &MetricTarget::type, "How the target is interpreted.")
      .required()
      .enums({"Value", "AverageValue", "Utilization"});
  f.field("value", &MetricTarget::value, "Target value (quantity) for type Value.");
  f.field("averageValue", &MetricTarget::average_value,
          "Target average value (quantity) for type AverageValue.");
  f.field("averageUtilization", &MetricTarget::average_utilization,
          "Target percent for type Utilization.");
}

void PodMetric::describe(Fields<PodMetric>& f) {
  f.doc("A per-pod custom metric.");
  f.field("metric", &PodMetric::metric, "").required();
  f.field("target", &PodMetric::target, "").required();
}

void MetricsSpec::describe(Fields<MetricsSpec>& f) {
  f.doc("One scaling metric.");
  f.field("type", &MetricsSpec::type, "Metric source kind.").required().enums({"PodMetric"});
  f.field("podmetric", &MetricsSpec::podmetric, "");
}

void AutoScaling::describe(Fields<AutoScaling>& f) {
  f.doc("KEDA / OpenTelemetry custom-metric autoscaling.");
  f.field("metrics", &AutoScaling::metrics, "Scaling metrics.");
}

}  // namespace aim::api
