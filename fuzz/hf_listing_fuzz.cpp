// fetch/hf: the Hugging Face Hub's revision API answer (commit sha and siblings with sizes, LFS
// sha256 and blob ids), which aim-fetch turns into the files to download; each listed path then
// goes through the downloader's safety check.
#include "fetch/hf.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  std::string body(fuzz::as_text(data, size));
  auto listing = fetch::HfSource::parse_revision_info(body, "org/model", "http://hub");
  if (!listing) return 0;
  // What the downloader does next with each listed path (fetch/downloader.cpp).
  for (const auto& f : listing->files) (void)fetch::safe_relative_path(f.path);
  return 0;
}
