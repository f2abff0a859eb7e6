// Hugging Face Hub source: resolves the revision to a commit (GET
// /api/models/{repo}/revision/{rev}), lists files with sizes, LFS sha256 and git blob ids, and
// fetches /{repo}/resolve/{commit}/{path}. Large files are HEADed once so ranges go straight to the
// CDN location (without the token).
#pragma once

#include <optional>
#include <string>

#include "fetch/source.h"
#include "fetch/uri.h"

namespace aim::fetch {

class HfSource final : public Source {
 public:
  HfSource(SourceUri uri, std::string endpoint, std::optional<std::string> token)
      : uri_(std::move(uri)), endpoint_(std::move(endpoint)), token_(std::move(token)) {}

  Result<Listing, Failure> list(Transport& transport) override;
  Result<void, Failure> prepare(Transport& transport, RemoteFile& file) override;
  http::Request request(const RemoteFile& file, std::optional<ByteRange> range) override;

  // Parses the revision API's JSON; exposed for tests.
  static Result<Listing, Failure> parse_revision_info(const std::string& body,
                                                      const std::string& repo,
                                                      const std::string& endpoint);

 private:
  void add_auth(http::Request& req, bool send) const;
  SourceUri uri_;
  std::string endpoint_;
  std::optional<std::string> token_;
};

}  // namespace aim::fetch
