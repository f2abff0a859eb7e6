// Realistic objects for the kube benchmarks: Pod-shaped JSON of about 4 KiB when serialized
// (metadata with labels, annotations and a controller owner reference, one container with env
// vars and resources, status with conditions), plus memory probes.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aim::bench {

using Json = nlohmann::json;

struct ObjectShape {
  int namespaces = 10;  // objects are spread round-robin over ns-0 .. ns-(n-1)
  int per_owner = 5;    // consecutive objects share one controller owner
  int apps = 100;       // label app=model-<i % apps>
  std::size_t target_bytes = 4096;
};

inline std::string owner_uid(int owner) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "0b7c%04x-3f2a-4d1e-9c8b-%012x", owner & 0xffff, owner);
  return buf;
}

// Object number i. resource_version lets callers make "the same object, changed".
inline Json make_pod(int i, const ObjectShape& shape = {}, long resource_version = 1) {
  const std::string name = "llama-3-1-8b-instruct-" + std::to_string(i);
  const std::string ns = "ns-" + std::to_string(i % shape.namespaces);
  const int owner = i / shape.per_owner;
  Json o;
  o["apiVersion"] = "v1";
  o["kind"] = "Pod";
  auto& md = o["metadata"];
  md["name"] = name;
  md["namespace"] = ns;
  md["uid"] = owner_uid(1000000 + i);
  md["resourceVersion"] = std::to_string(resource_version);
  md["generation"] = 1;
  md["creationTimestamp"] = "2026-11-23T22:00:00Z";
  md["labels"] = {{"app", "model-" + std::to_string(i % shape.apps)},
                  {"app.kubernetes.io/managed-by", "aim-engine"},
                  {"app.kubernetes.io/component", "inference"},
                  {"aim.eai.amd.com/template", "tmpl-" + std::to_string(owner)},
                  {"aim.eai.amd.com/gpu", "MI300X"}};
  md["annotations"] = {{"aim.eai.amd.com/spec-hash", "9f2c4e1a7b3d5f60"},
                       {"kubectl.kubernetes.io/last-applied-configuration", std::string(300, 'x')}};
  md["ownerReferences"] = Json::array({{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                                        {"kind", "AIMServiceTemplate"},
                                        {"name", "tmpl-" + std::to_string(owner)},
                                        {"uid", owner_uid(owner)},
                                        {"controller", true},
                                        {"blockOwnerDeletion", true}}});
  Json container;
  container["name"] = "inference";
  container["image"] = "docker.io/amdenterpriseai/aim-meta-llama-llama-3-1-8b-instruct:0.8.4";
  container["args"] = Json::array({"--port", "8000", "--tensor-parallel-size", "1"});
  container["ports"] = Json::array({{{"name", "http"}, {"containerPort", 8000}}});
  container["resources"] = {{"limits", {{"amd.com/gpu", "1"}, {"memory", "64Gi"}}},
                            {"requests", {{"amd.com/gpu", "1"}, {"cpu", "8"}, {"memory", "64Gi"}}}};
  container["readinessProbe"] = {{"httpGet", {{"path", "/v1/models"}, {"port", 8000}}},
                                 {"periodSeconds", 10}};
  container["env"] = Json::array();
  o["spec"]["containers"] = Json::array({std::move(container)});
  o["spec"]["nodeSelector"] = {{"amd.com/gpu.product-name", "AMD_Instinct_MI300X_OAM"}};
  o["spec"]["restartPolicy"] = "Always";
  o["status"]["phase"] = "Running";
  o["status"]["conditions"] = Json::array();
  for (const char* c : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
    o["status"]["conditions"].push_back(
        {{"type", c}, {"status", "True"}, {"lastTransitionTime", "2026-11-23T22:01:00Z"}});
  }
  // Pad with env vars up to the target size, as real model pods carry many. The size is
  // tracked incrementally (one entry and its comma at a time) instead of re-serializing.
  Json& env = o["spec"]["containers"][0]["env"];
  std::size_t size = o.dump().size();
  for (int e = 0; size < shape.target_bytes; ++e) {
    Json entry = {{"name", "AIM_SETTING_" + std::to_string(e)},
                  {"value", "value-for-setting-" + std::to_string(e) + "-" + std::string(40, 'v')}};
    size += entry.dump().size() + (e == 0 ? 0 : 1);
    env.push_back(std::move(entry));
  }
  return o;
}

inline std::vector<Json> make_pods(int n, const ObjectShape& shape = {}) {
  std::vector<Json> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(make_pod(i, shape));
  return out;
}

// Resident set size in bytes (/proc/self/statm, second field).
inline long rss_bytes() {
  long pages_total = 0, pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
  std::fclose(f);
  return pages_resident * sysconf(_SC_PAGESIZE);
}

// Bytes currently allocated through malloc (glibc mallinfo2: small blocks + mmapped blocks).
inline long heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<long>(mi.uordblks + mi.hblkhd);
}

}  // namespace aim::bench
