// core/base64: kubeconfig *-data fields, docker config "auth" entries. Properties: whatever
// decodes re-encodes to text that decodes to the same bytes, and every byte string survives
// encode -> decode.
#include "core/base64.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  std::string_view text = fuzz::as_text(data, size);
  if (auto decoded = base64_decode(text)) {
    auto again = base64_decode(base64_encode(*decoded));
    if (!again || *again != *decoded) fuzz::violated("decode(encode(decode(x)))", text);
  }
  auto round = base64_decode(base64_encode(text));
  if (!round || *round != text) fuzz::violated("decode(encode(x)) != x", text);
  return 0;
}
