// Every schema path of api.md Appendix A (extracted to testdata/appendix-a.json by
// testdata/extract_appendix_a.py) must be present in the generated CRD schema with the same
// type, required flag, enum, default, pattern, bounds, list/map markers and CEL rules; and every
// generated path must be in Appendix A unless it is a documented extension. The only other
// differences allowed are the deviations listed below, each with its reason.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "api/crd.h"

namespace aim::api {
namespace {

struct Deviation {
  std::string path_suffix;  // matches paths ending with this
  std::string aspect;       // "required", "pattern", "enum", "cel"
  std::string reason;
};

const std::vector<Deviation>& deviations() {
  static const std::vector<Deviation> d = {
      {"modelSources[].modelId", "required",
       "seed 000 declares a model source with only sourceUri; modelId is derived from hf:// URIs"},
      {"modelSources[].sourceUri", "required",
       "seed 002 spells it sourceURI; a CEL rule requires one of the two"},
      {"modelSources[]", "requiredKeys", "follows from the two rows above"},
      {"modelSources[]", "cel", "the CEL rule `has(self.sourceUri) || has(self.sourceURI)`"},
      {"AIMArtifact:spec.sourceUri", "pattern",
       "README §5: sources hf, s3, ngc, https and custom downloader schemes"},
      {"AIMService:status.status", "enum", "README §4: NotAvailable added to the service enum"},
      {"modelSources[].modelId", "pattern",
       "issue 14: the name part may not be only dots (`org/..` escapes the cache directory)"},
      {"modelSources[].sourceUri", "cel", "issue 14: no '.', '..' or empty URI path segments"},
      {"modelSources[].sourceURI", "cel", "issue 14: no '.', '..' or empty URI path segments"},
      {"AIMArtifact:spec.sourceUri", "cel", "issue 14: no '.', '..' or empty URI path segments"},
      {"AIMArtifact:spec.modelId", "pattern", "issue 14: as modelSources[].modelId"},
      {"cpu.requests", "cel", "issue 14: the documented `> 0` is enforced"},
      {"cpu.requests", "maxLength", "keeps the cost of the `> 0` rule within the CEL budget"},
      {"sourceUri", "maxLength", "keeps the cost of the URI rules within the CEL budget"},
      {"sourceURI", "maxLength", "keeps the cost of the URI rules within the CEL budget"},
      {"modelSources", "maxItems", "keeps the cost of the URI rules within the CEL budget"},
      {"modelSources[].size", "cel", "issue 26: a size is not negative and at most 1Pi"},
      {"modelSources[].size", "maxLength", "keeps the cost of the size rules within the budget"},
      {"AIMArtifact:spec.size", "cel", "issue 26: a size is not negative and at most 1Pi"},
      {"AIMArtifact:spec.size", "maxLength", "keeps the cost of the size rules within the budget"},
      {"cpu.limits", "cel", "issue 26: a CPU limit is not negative"},
      {"cpu.limits", "maxLength", "keeps the cost of the limit rule within the CEL budget"},
      {"gpu.minVram", "cel", "issue 26: a VRAM size is not negative"},
      {"gpu.minVram", "maxLength", "keeps the cost of the VRAM rule within the CEL budget"},
      {"spec.image", "cel", "issue 26: an image field holds an image reference"},
      {"spec.image", "maxLength", "keeps the cost of the image rule within the CEL budget"},
      {"spec.model.image", "cel", "issue 26: an image field holds an image reference"},
      {"spec.model.image", "maxLength", "keeps the cost of the image rule within the CEL budget"},
      {"custom.baseImage", "cel", "issue 26: an image field holds an image reference"},
      {"custom.baseImage", "maxLength", "keeps the cost of the image rule within the CEL budget"},
      {"spec.modelDownloadImage", "cel", "issue 26: an image field holds an image reference"},
      {"spec.modelDownloadImage", "maxLength",
       "keeps the cost of the image rule within the CEL budget"},
      {"spec.downloadImage", "cel", "issue 26: an image field holds an image reference"},
      {"spec.downloadImage", "maxLength", "keeps the cost of the image rule within the CEL budget"},
      {"AIMService:spec", "cel", "issue 14: minReplicas <= maxReplicas"},
      {"AIMService:spec.replicas", "minimum", "issue 14: replicas >= 0"},
      {"AIMService:spec.model.name", "minLength", "issue 14: an empty model name is rejected"},
      {"AIMService:spec.model.image", "minLength", "issue 14: an empty image is rejected"},
      {"routing.requestTimeout", "pattern", "issue 14: a Go duration, as documented"},
      {"AIMClusterModelSource:spec.syncInterval", "pattern", "issue 14: a Go duration"},
      {"spec", "required",
       "a spec with required fields is required itself, or an object without spec would skip "
       "them and every rule on spec (issue 14)"},
  };
  return d;
}

bool deviation_allowed(const std::string& kind, const std::string& path,
                       const std::string& aspect) {
  for (const auto& d : deviations()) {
    if (d.aspect != aspect) continue;
    std::string target = d.path_suffix;
    std::string full = path;
    if (target.find(':') != std::string::npos) full = kind + ":" + path;
    if (full.size() >= target.size() &&
        full.compare(full.size() - target.size(), target.size(), target) == 0) {
      return true;
    }
  }
  return false;
}

Json load_appendix() {
  std::ifstream in("api/testdata/appendix-a.json");
  EXPECT_TRUE(in) << "run from the repository root";
  return Json::parse(in);
}

// Splits "spec.a[].b{*}.c" into steps: "spec", "a", "[]", "b", "{*}", "c".
std::vector<std::string> steps(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (path.compare(i, 2, "[]") == 0) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      out.push_back("[]");
      ++i;
    } else if (path.compare(i, 3, "{*}") == 0) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      out.push_back("{*}");
      i += 2;
    } else {
      cur += path[i];
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Finds the schema node of a path; `parent` gets the object holding it (for `required`).
const Json* find_node(const Json& root, const std::string& path, const Json** parent) {
  const Json* node = &root;
  *parent = nullptr;
  for (const auto& s : steps(path)) {
    if (s == "[]") {
      if (!node->contains("items")) return nullptr;
      *parent = nullptr;
      node = &(*node)["items"];
    } else if (s == "{*}") {
      if (!node->contains("additionalProperties")) return nullptr;
      *parent = nullptr;
      node = &(*node)["additionalProperties"];
    } else {
      if (!node->contains("properties") || !(*node)["properties"].contains(s)) return nullptr;
      *parent = node;
      node = &(*node)["properties"][s];
    }
  }
  return node;
}

std::string type_of(const Json& n) {
  if (n.value("x-kubernetes-int-or-string", false)) return "quantity";
  if (n.value("x-kubernetes-preserve-unknown-fields", false) && !n.contains("type")) {
    return "(any JSON)";
  }
  return n.value("type", "");
}

// The constraint set of a generated node in the appendix's vocabulary.
Json constraints_of(const Json& n) {
  Json c = Json::object();
  if (n.contains("enum")) c["enum"] = n["enum"];
  if (n.contains("allOf")) {
    EXPECT_EQ(n["allOf"].size(), 2u);
    EXPECT_EQ(n["allOf"][0], n["allOf"][1]);
    c["allOfEnum"] = n["allOf"][0]["enum"];
  }
  if (n.contains("default")) c["default"] = n["default"];
  if (n.contains("format")) c["format"] = n["format"];
  if (n.contains("pattern") && type_of(n) != "quantity") c["pattern"] = n["pattern"];
  for (const char* k : {"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}) {
    if (n.contains(k)) c[k] = n[k];
  }
  if (n.contains("x-kubernetes-list-type")) c["listType"] = n["x-kubernetes-list-type"];
  if (n.contains("x-kubernetes-list-map-keys")) c["listMapKeys"] = n["x-kubernetes-list-map-keys"];
  if (n.contains("x-kubernetes-map-type")) c["mapType"] = n["x-kubernetes-map-type"];
  if (n.contains("required")) c["requiredKeys"] = n["required"];
  if (n.contains("x-kubernetes-validations")) c["cel"] = n["x-kubernetes-validations"];
  if (n.contains("x-kubernetes-preserve-unknown-fields")) {
    c["preserveUnknownFields"] = n["x-kubernetes-preserve-unknown-fields"];
  }
  return c;
}

std::string aspect_of(const std::string& key) {
  if (key == "allOfEnum") return "enum";
  return key;
}

class AppendixA : public ::testing::TestWithParam<std::string> {};

TEST_P(AppendixA, SchemaMatches) {
  const std::string kind_name = GetParam();
  static const Json appendix = load_appendix();
  ASSERT_TRUE(appendix["kinds"].contains(kind_name));
  const KindEntry* kind = find_kind("aim.eai.amd.com/v1alpha1", kind_name);
  ASSERT_NE(kind, nullptr);
  const Json root = root_schema(*kind);

  std::set<std::string> listed;
  int checked = 0;
  for (const auto& row : appendix["kinds"][kind_name]) {
    const std::string path = row["path"];
    listed.insert(path);
    const Json* parent = nullptr;
    const Json* node = find_node(root, path, &parent);
    ASSERT_NE(node, nullptr) << kind_name << ": missing path " << path;
    ++checked;
    EXPECT_EQ(type_of(*node), row["type"].get<std::string>()) << kind_name << ": " << path;

    const std::string leaf = steps(path).back();
    bool required = false;
    if (parent != nullptr && parent->contains("required")) {
      for (const auto& r : (*parent)["required"]) required = required || r == leaf;
    }
    if (required != row["required"].get<bool>() &&
        !deviation_allowed(kind_name, path, "required")) {
      ADD_FAILURE() << kind_name << ": " << path << " required=" << required;
    }

    Json want = row["constraints"];
    Json got = constraints_of(*node);
    std::set<std::string> keys;
    for (const auto& [k, v] : want.items()) keys.insert(k);
    for (const auto& [k, v] : got.items()) keys.insert(k);
    for (const auto& k : keys) {
      if (k == "cel") continue;
      if (!want.contains(k) || !got.contains(k) || want[k] != got[k]) {
        if (deviation_allowed(kind_name, path, aspect_of(k))) continue;
        ADD_FAILURE() << kind_name << ": " << path << " constraint " << k << ": appendix "
                      << (want.contains(k) ? want[k].dump() : "<none>") << ", generated "
                      << (got.contains(k) ? got[k].dump() : "<none>");
      }
    }
    // CEL: same multiset of rules; messages verbatim unless the appendix paraphrased them.
    std::multiset<std::string> want_rules, got_rules;
    if (want.contains("cel")) {
      for (const auto& r : want["cel"]) {
        want_rules.insert(r["rule"].get<std::string>());
        if (r["paraphrased"]) continue;
        bool found = false;
        if (got.contains("cel")) {
          for (const auto& g : got["cel"]) {
            found = found || (g["rule"] == r["rule"] && g["message"] == r["message"]);
          }
        }
        EXPECT_TRUE(found) << kind_name << ": " << path << " message of " << r["rule"];
      }
    }
    // Presence rules are ours: they make the appendix's `self == oldSelf` hold against removal,
    // re-addition and first addition (issue 14); unit tests in codec_test
    // check them, and the admission integration tests check the server enforces them.
    if (got.contains("cel")) {
      for (const auto& g : got["cel"]) {
        if (!is_presence_rule(g["rule"].get<std::string>()))
          got_rules.insert(g["rule"].get<std::string>());
      }
    }
    if (want_rules != got_rules && !deviation_allowed(kind_name, path, "cel")) {
      ADD_FAILURE() << kind_name << ": " << path << " CEL rules differ: generated "
                    << (got.contains("cel") ? got["cel"].dump() : "[]");
    }
    for (const auto& g : got_rules) EXPECT_FALSE(g.empty());
  }

  // Reverse direction: every generated path is listed, unless it sits under a cut subtree
  // (a listed path whose children Appendix A omits, e.g. env[].valueFrom) or is an extension.
  std::function<void(const Json&, const std::string&)> walk = [&](const Json& n,
                                                                  const std::string& path) {
    if (!path.empty() && !listed.count(path)) {
      const std::string d = n.value("description", "");
      if (d.find(kExtensionMarker) != std::string::npos) return;  // documented extension
      ADD_FAILURE() << kind_name << ": generated path " << path << " is not in Appendix A";
      return;
    }
    bool has_listed_child = false;
    for (const auto& p : listed) {
      if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 &&
          (p[path.size()] == '.' || p[path.size()] == '[' || p[path.size()] == '{')) {
        has_listed_child = true;
        break;
      }
    }
    if (!path.empty() && !has_listed_child) return;  // a cut subtree (standard Kubernetes type)
    if (n.contains("items")) walk(n["items"], path + "[]");
    if (n.contains("additionalProperties")) walk(n["additionalProperties"], path + "{*}");
    if (n.contains("properties")) {
      for (const auto& [k, v] : n["properties"].items()) {
        if (path.empty() && k != "spec" && k != "status") continue;
        walk(v, path.empty() ? k : path + "." + k);
      }
    }
  };
  walk(root, "");
  EXPECT_GT(checked, 20);
}

INSTANTIATE_TEST_SUITE_P(AllReferenceKinds, AppendixA,
                         ::testing::Values("AIMModel", "AIMClusterModel", "AIMServiceTemplate",
                                           "AIMClusterServiceTemplate", "AIMService",
                                           "AIMTemplateCache", "AIMArtifact", "AIMRuntimeConfig",
                                           "AIMClusterRuntimeConfig", "AIMClusterModelSource"));

}  // namespace
}  // namespace aim::api
