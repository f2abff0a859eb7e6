#include "engine/inference_service.h"

#include <sstream>

#include "engine/service_names.h"

namespace aim::engine {
namespace {

constexpr const char* kCachePath = "/workspace/cache";

void set_label(nlohmann::json& labels, const std::string& key, const std::string& raw) {
  if (raw.empty()) return;
  auto v = service_names::sanitize_label_value(raw);
  if (v.ok()) labels[key] = *v;
}

// KServe MetricsSpec from one AIM metric: copied field by field, empty values left out.
nlohmann::json kserve_metric(const nlohmann::json& m) {
  nlohmann::json out = nlohmann::json::object();
  if (m.contains("type")) out["type"] = m["type"];
  auto pm = m.find("podmetric");
  if (pm == m.end() || !pm->is_object()) return out;
  nlohmann::json metric = nlohmann::json::object();
  if (auto src = pm->find("metric"); src != pm->end() && src->is_object()) {
    for (const char* key : {"backend", "serverAddress", "query", "operationOverTime"}) {
      if (auto it = src->find(key);
          it != src->end() && it->is_string() && !it->get<std::string>().empty()) {
        metric[key] = *it;
      }
    }
    if (auto it = src->find("metricNames"); it != src->end() && it->is_array() && !it->empty()) {
      metric["metricNames"] = *it;
    }
  }
  nlohmann::json target = nlohmann::json::object();
  if (auto src = pm->find("target"); src != pm->end() && src->is_object()) {
    target["type"] = src->value("type", "");
    for (const char* key : {"value", "averageValue"}) {
      if (auto it = src->find(key);
          it != src->end() && it->is_string() && !it->get<std::string>().empty()) {
        target[key] = *it;
      }
    }
    if (auto it = src->find("averageUtilization"); it != src->end() && it->is_number_integer()) {
      target["averageUtilization"] = *it;
    }
  }
  out["podmetric"] = {{"metric", metric}, {"target", target}};
  return out;
}

void overwrite_keys(nlohmann::json& dst, const nlohmann::json& src) {
  if (!src.is_object()) return;
  for (const char* section : {"requests", "limits"}) {
    auto it = src.find(section);
    if (it == src.end() || !it->is_object()) continue;
    for (const auto& [k, v] : it->items()) dst[section][k] = v;
  }
}

nlohmann::json live_container(const nlohmann::json& isvc) {
  auto containers = isvc.value(nlohmann::json::json_pointer("/spec/predictor/containers"),
                               nlohmann::json::array());
  for (const auto& c : containers) {
    if (c.value("name", "") == "kserve-container") return c;
  }
  return containers.empty() ? nlohmann::json::object() : containers[0];
}

}  // namespace

bool autoscaling_configured(const InferenceServiceInput& in) {
  return !in.autoscaling.is_null() || in.min_replicas.has_value() || in.max_replicas.has_value();
}

nlohmann::json inference_resources(int64_t gpu_count, const std::string& gpu_resource_name,
                                   const nlohmann::json& template_resources,
                                   const nlohmann::json& service_resources) {
  nlohmann::json r = nlohmann::json::object();
  if (gpu_count > 0) {
    std::string gpu = gpu_resource_name.empty() ? "amd.com/gpu" : gpu_resource_name;
    std::string n = std::to_string(gpu_count);
    r["requests"] = {{"cpu", std::to_string(4 * gpu_count)},
                     {"memory", std::to_string(32 * gpu_count) + "Gi"},
                     {gpu, n}};
    r["limits"] = {{"memory", std::to_string(48 * gpu_count) + "Gi"}, {gpu, n}};
  }
  overwrite_keys(r, template_resources);
  overwrite_keys(r, service_resources);
  // A CPU request without a CPU limit gets a limit equal to the request. KServe's defaulting
  // webhook otherwise adds its configured default limit (1 CPU), below the 4 CPUs per GPU
  // requested here, and the predictor Deployment is then rejected ("must be less than or equal
  // to cpu limit"). The reference sets no CPU limit and hits exactly that on a stock KServe.
  if (r.contains("requests") && r["requests"].contains("cpu") &&
      !(r.contains("limits") && r["limits"].contains("cpu"))) {
    r["limits"]["cpu"] = r["requests"]["cpu"];
  }
  return r;
}

std::string cache_mount_path(const std::string& model_id) {
  std::string id = model_id;
  for (std::size_t pos; (pos = id.find("..")) != std::string::npos;) id.erase(pos, 2);
  std::stringstream ss(std::string(kCachePath) + "/" + id);
  std::string seg, out;
  while (std::getline(ss, seg, '/')) {
    if (seg.empty() || seg == ".") continue;
    out += "/" + seg;
  }
  return out.empty() ? "/" : out;
}

Result<nlohmann::json, std::string> render_inference_service(const InferenceServiceInput& in) {
  auto name = service_names::inference_service_name(in.service_name, in.service_namespace);
  if (!name.ok()) return fail(name.error());

  nlohmann::json labels = {{"app.kubernetes.io/component", "inference"},
                           {"app.kubernetes.io/managed-by", "aim-engine"},
                           {"aim.eai.amd.com/service.name", in.service_name}};
  set_label(labels, "aim.eai.amd.com/template", in.template_name);
  set_label(labels, "aim.eai.amd.com/service", in.service_name);
  set_label(labels, "aim.eai.amd.com/model", in.template_model_name);
  set_label(labels, "aim.eai.amd.com/metric", in.profile_metric);
  set_label(labels, "aim.eai.amd.com/precision", in.profile_precision);

  nlohmann::json predictor = nlohmann::json::object();
  nlohmann::json annotations = nlohmann::json::object();
  if (autoscaling_configured(in)) {
    annotations["serving.kserve.io/autoscalerClass"] = "keda";
    annotations["sidecar.opentelemetry.io/inject"] = *name + "-predictor";
    annotations["prometheus.kserve.io/port"] = "8000";
    int32_t min = in.min_replicas.value_or(1);
    predictor["minReplicas"] = min;
    predictor["maxReplicas"] = in.max_replicas.value_or(in.min_replicas.value_or(1));
    if (!in.autoscaling.is_null()) {
      nlohmann::json metrics = nlohmann::json::array();
      for (const auto& m : in.autoscaling.value("metrics", nlohmann::json::array())) {
        metrics.push_back(kserve_metric(m));
      }
      predictor["autoScaling"] = {{"metrics", metrics}};
    }
  } else {
    annotations["serving.kserve.io/autoscalerClass"] = "none";
    predictor["minReplicas"] = in.replicas.value_or(1);
    predictor["maxReplicas"] = in.replicas.value_or(1);
  }
  if (in.image_pull_secrets.is_array() && !in.image_pull_secrets.empty()) {
    predictor["imagePullSecrets"] = in.image_pull_secrets;
  }
  if (!in.service_account.empty()) predictor["serviceAccountName"] = in.service_account;
  if (in.node_affinity.is_object() && !in.node_affinity.empty()) {
    predictor["affinity"] = {{"nodeAffinity", in.node_affinity}};
  }

  nlohmann::json volumes = nlohmann::json::array(
      {{{"name", "dshm"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "8Gi"}}}}});
  nlohmann::json mounts = nlohmann::json::array({{{"name", "dshm"}, {"mountPath", "/dev/shm"}}});
  switch (in.storage.kind) {
    case ModelStorage::Kind::None:
      break;
    case ModelStorage::Kind::TemplateCache:
      for (const auto& m : in.storage.mounts) {
        std::string vol = service_names::rfc1123_part(m.artifact_name);
        volumes.push_back({{"name", vol}, {"persistentVolumeClaim", {{"claimName", m.pvc_name}}}});
        mounts.push_back({{"name", vol}, {"mountPath", cache_mount_path(m.model_id)}});
      }
      break;
    case ModelStorage::Kind::ServicePvc:
      volumes.push_back({{"name", "model-storage"},
                         {"persistentVolumeClaim", {{"claimName", in.storage.pvc_name}}}});
      mounts.push_back({{"name", "model-storage"}, {"mountPath", kCachePath}});
      break;
    case ModelStorage::Kind::Live: {
      const auto& live = in.storage.live_isvc;
      for (const auto& v : live.value(nlohmann::json::json_pointer("/spec/predictor/volumes"),
                                      nlohmann::json::array())) {
        if (v.value("name", "") != "dshm") volumes.push_back(v);
      }
      for (const auto& m : live_container(live).value("volumeMounts", nlohmann::json::array())) {
        if (m.value("name", "") != "dshm") mounts.push_back(m);
      }
      break;
    }
  }

  nlohmann::json container = {
      {"name", "kserve-container"},
      {"image", in.image},
      {"ports",
       nlohmann::json::array({{{"name", "http"}, {"containerPort", 8000}, {"protocol", "TCP"}}})},
      {"env", inference_env(in.env)},
      {"resources", inference_resources(in.gpu_count, in.gpu_resource_name, in.template_resources,
                                        in.service_resources)},
      {"volumeMounts", mounts},
  };
  predictor["containers"] = nlohmann::json::array({container});
  predictor["volumes"] = volumes;

  return nlohmann::json{
      {"apiVersion", "serving.kserve.io/v1beta1"},
      {"kind", "InferenceService"},
      {"metadata",
       {{"name", *name},
        {"namespace", in.service_namespace},
        {"labels", labels},
        {"annotations", annotations}}},
      {"spec", {{"predictor", predictor}}},
  };
}

}  // namespace aim::engine
