#include "api/kinds.h"

namespace aim::api {
namespace {

template <class R>
KindEntry entry() {
  KindEntry e;
  e.info = &R::kind_info;
  e.spec_schema = [] { return schema_of<typename R::Spec>(); };
  e.status_schema = [] { return schema_of<typename R::Status>(); };
  e.roundtrip = [](const Json& j) {
    Decoded<Json> out;
    auto d = decode<R>(j);
    if (!d) {
      out.error = d.error;
      return out;
    }
    out.value = encode(*d.value);
    return out;
  };
  e.with_defaults = [](const Json& j) {
    Decoded<Json> out;
    auto d = decode<R>(j);
    if (!d) {
      out.error = d.error;
      return out;
    }
    apply_defaults(*d.value);
    out.value = encode(*d.value);
    return out;
  };
  return e;
}

}  // namespace

const std::vector<KindEntry>& all_kinds() {
  static const std::vector<KindEntry> kinds = {
      entry<AIMModel>(),
      entry<AIMClusterModel>(),
      entry<AIMServiceTemplate>(),
      entry<AIMClusterServiceTemplate>(),
      entry<AIMService>(),
      entry<AIMTemplateCache>(),
      entry<AIMArtifact>(),
      entry<AIMRuntimeConfig>(),
      entry<AIMClusterRuntimeConfig>(),
      entry<AIMClusterModelSource>(),
      entry<AIMClusterArtifactDownloader>(),
      entry<DynamoModel>(),
  };
  return kinds;
}

const KindEntry* find_kind(std::string_view api_version, std::string_view kind) {
  for (const auto& k : all_kinds()) {
    if (k.info->kind == kind && k.info->api_version() == api_version) return &k;
  }
  return nullptr;
}

}  // namespace aim::api
