// fetch/s3: ListObjectsV2 response bodies (XML) from S3 and S3-compatible stores.
#include "fetch/s3.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto page = fetch::parse_list_objects_v2(std::string(fuzz::as_text(data, size)));
  if (!page) return 0;
  std::size_t total = 0;
  for (const auto& o : page->objects) total += o.key.size() + o.etag.size();
  (void)total;
  return 0;
}
