// registry/auth: what registries and their token services send, and what pull secrets hold.
// Mode byte: 0 a WWW-Authenticate header value, 1 a token endpoint's answer, 2 a
// .dockerconfigjson ({"auths": {...}}), 3 a legacy .dockercfg, 4 a docker config server key
// (normalize_registry_host, keychain lookups).
#include <chrono>

#include "fuzz/fuzz_input.h"
#include "registry/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 5);
  switch (mode) {
    case 0: {
      for (const auto& c : registry::parse_www_authenticate(text)) {
        (void)c.param("realm");
        (void)c.param("scope");
      }
      break;
    }
    case 1: {
      auto token = registry::parse_token_response(text);
      if (!token) break;
      if (token->expires_in.count() <= 0) fuzz::violated("expires_in not positive", text);
      // What the client does with it (registry/client.cpp caches the token until then).
      (void)(std::chrono::steady_clock::now() + token->expires_in);
      break;
    }
    case 2:
    case 3: {
      registry::Keychain keychain;
      if (!registry::add_docker_config(keychain, text, mode == 2)) break;
      for (const char* host : {"index.docker.io", "ghcr.io", "registry.example.com:5000",
                               "a.b.example.com", "127.0.0.1:5000"})
        (void)keychain.find(host);
      break;
    }
    default: {
      std::string host = registry::normalize_registry_host(text);
      registry::Keychain keychain;
      keychain.add(text, registry::Credential{.username = "u", .password = "p"});
      (void)keychain.find(host);
      (void)keychain.find("sub." + host);
      break;
    }
  }
  return 0;
}
