// registry/reference and engine/source_filter: image references from specs and registry
// listings, repository names, AIMClusterModelSource image filters and their wildcards. A parsed
// reference prints (str()) to text that parses to the same reference.
#include "engine/source_filter.h"
#include "fuzz/fuzz_input.h"
#include "registry/auth.h"
#include "registry/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  std::string_view text = fuzz::as_text(data, size);
  if (auto ref = registry::parse_reference(text)) {
    std::string printed = ref->str();
    auto again = registry::parse_reference(printed);
    if (!again || again->registry != ref->registry || again->repository != ref->repository ||
        again->tag != ref->tag || again->digest != ref->digest)
      fuzz::violated("parse_reference(str()) differs", printed);
    (void)registry::default_plain_http(ref->registry);
  }
  if (auto repo = registry::parse_repository(text)) (void)repo->repository.size();
  (void)registry::normalize_registry_host(text);
  auto filter = engine::parse_image_filter(text);
  (void)filter.repository.size();
  // pattern \n subject: the wildcard matcher with a subject of the fuzzer's choosing.
  auto parts = fuzz::split(text, "\n", 2);
  if (parts.size() == 2) (void)engine::wildcard_match(parts[0], parts[1]);
  return 0;
}
