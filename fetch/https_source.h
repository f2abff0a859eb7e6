// Plain HTTPS (or HTTP) source: one URL is one file, named by the last path segment. A HEAD
// gives the size, Range support and ETag; an optional sha256 list (sha256sum format) supplies
// the checksum, since plain servers publish none.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "fetch/source.h"
#include "fetch/uri.h"

namespace aim::fetch {

// Parses "sha256sum" output ("<hex>  <name>" per line, '*' binary marker allowed).
Result<std::map<std::string, std::string>, std::string> parse_sha256_list(const std::string& text);

class HttpsSource final : public Source {
 public:
  // `bearer_token` (HTTPS_TOKEN) goes only to the URI's own origin, never to where it redirects.
  HttpsSource(SourceUri uri, std::map<std::string, std::string> sha256_by_name,
              std::optional<std::string> bearer_token = std::nullopt)
      : uri_(std::move(uri)),
        sha256_(std::move(sha256_by_name)),
        bearer_token_(std::move(bearer_token)) {}
  Result<Listing, Failure> list(Transport& transport) override;
  http::Request request(const RemoteFile& file, std::optional<ByteRange> range) override;

  static std::string file_name_of(const std::string& url);

 private:
  void add_auth(http::Request& req) const;
  SourceUri uri_;
  std::map<std::string, std::string> sha256_;
  std::optional<std::string> bearer_token_;
};

}  // namespace aim::fetch
