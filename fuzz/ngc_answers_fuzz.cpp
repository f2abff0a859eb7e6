// fetch/ngc: the NGC model API's answers (token, model info, a page of the file listing), which
// aim-fetch turns into the files to download; each listed path then goes through the
// downloader's safety check. Mode byte: 0 token, 1 model info, 2 file listing page.
#include "fetch/ngc.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, rest] = fuzz::select(data, size, 3);
  std::string body(rest);
  switch (mode) {
    case 0:
      if (auto t = fetch::NgcSource::parse_token(body); t.ok() && t->empty())
        fuzz::violated("empty token accepted", body);
      break;
    case 1:
      if (auto v = fetch::NgcSource::parse_latest_version(body); v.ok() && v->empty())
        fuzz::violated("empty version accepted", body);
      break;
    default: {
      fetch::Listing listing;
      listing.revision = "1.0";
      auto pages = fetch::NgcSource::parse_files_page(body, "http://ngc/files", listing);
      if (!pages.ok()) break;
      if (*pages < 0) fuzz::violated("negative page count", body);
      for (const auto& f : listing.files) (void)fetch::safe_relative_path(f.path);
    }
  }
  return 0;
}
