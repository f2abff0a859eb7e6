// api/: the typed decoders of every object the operator reads from the API server: each AIM kind
// (api/kinds.cpp: decode, encode, defaults) and the views of the built-in kinds informers decode
// (api/k8s_views.h: Job, Pod, PVC, InferenceService, HTTPRoute, HPA, Event, StorageClass heads,
// CSIStorageCapacity; RoleBinding, the Job and claim fields the operator sets), plus the env
// lists, tolerations, image metadata and the check-size Job's output. The input is one
// JSON value, decoded as every type. Property: what decodes encodes to JSON that decodes and
// encodes to the same JSON (unknown fields are kept, nothing is lost or invented on the way).
#include <nlohmann/json.hpp>

#include "api/artifact.h"
#include "api/k8s_views.h"
#include "api/kinds.h"
#include "fuzz/fuzz_input.h"

namespace {

using aim::api::Json;

template <class T>
std::optional<T> round_trip(const Json& j, const char* type) {
  auto once = aim::api::decode<T>(j);
  if (!once) return std::nullopt;
  Json encoded = aim::api::encode(*once.value);
  auto twice = aim::api::decode<T>(encoded);
  if (!twice) aim::fuzz::violated(type, "its own encoding does not decode: " + twice.error);
  if (aim::api::encode(*twice.value) != encoded)
    aim::fuzz::violated(type, "encode(decode(encode(x))) != encode(x): " + encoded.dump());
  return once.value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto j = Json::parse(fuzz::as_text(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  for (const auto& kind : api::all_kinds()) {
    auto once = kind.roundtrip(j);
    if (once) {
      auto twice = kind.roundtrip(*once.value);
      if (!twice)
        fuzz::violated("kind round trip", std::string(kind.info->kind) + ": " + twice.error);
      if (*twice.value != *once.value)
        fuzz::violated("kind round trip differs", std::string(kind.info->kind));
    }
    auto defaulted = kind.with_defaults(j);
    if (defaulted) (void)defaulted.value->dump();
  }
  // The views' readers, as the controllers call them on informer objects.
  if (auto job = round_trip<api::Job>(j, "Job")) (void)api::true_condition(*job, "Complete");
  round_trip<api::Pod>(j, "Pod");
  if (auto pvc = round_trip<api::PersistentVolumeClaim>(j, "PersistentVolumeClaim"))
    (void)api::storage_request(*pvc);
  if (auto isvc = round_trip<api::InferenceService>(j, "InferenceService"))
    (void)api::predictor_claims(*isvc);
  round_trip<api::HTTPRoute>(j, "HTTPRoute");
  round_trip<api::HorizontalPodAutoscaler>(j, "HorizontalPodAutoscaler");
  round_trip<api::Event>(j, "Event");
  round_trip<api::ObjectHead>(j, "ObjectHead");
  round_trip<api::CSIStorageCapacity>(j, "CSIStorageCapacity");
  round_trip<api::RoleBinding>(j, "RoleBinding");
  round_trip<std::vector<api::Toleration>>(j, "Tolerations");
  round_trip<api::SizeCheckOutput>(j, "SizeCheckOutput");
  round_trip<api::EnvList>(j, "EnvList");
  round_trip<api::ImageMetadata>(j, "ImageMetadata");
  return 0;
}
