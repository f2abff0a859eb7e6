// NGC model registry source (a documented subset of NGC's model API; see test/servers/README.md):
//   token   GET {NGC_AUTH_ENDPOINT}/token?service=ngc&scope=group/ngc:{org}
//           with Basic base64("$oauthtoken:" + NGC_API_KEY) -> {"token": "..."}
//   version GET {NGC_ENDPOINT}/v2/org/{org}[/team/{team}]/models/{model}
//           -> {"model": {"latestVersionIdStr": "..."}}            (when no :version is given)
//   files   GET …/models/{model}/versions/{version}/files?page-number=N
//           -> {"modelFiles": [{"path", "sizeInBytes", "sha256"?}], "paginationInfo":
//           {"totalPages"}}
//   bytes   GET …/models/{model}/versions/{version}/files/{path}  (may redirect to storage)
// Defaults: NGC_ENDPOINT=https://api.ngc.nvidia.com, NGC_AUTH_ENDPOINT=https://authn.nvidia.com.
#pragma once

#include <optional>
#include <string>

#include "fetch/source.h"
#include "fetch/uri.h"

namespace aim::fetch {

class NgcSource final : public Source {
 public:
  NgcSource(SourceUri uri, std::string endpoint, std::string auth_endpoint,
            std::optional<std::string> api_key)
      : uri_(std::move(uri)),
        endpoint_(std::move(endpoint)),
        auth_endpoint_(std::move(auth_endpoint)),
        api_key_(std::move(api_key)) {}

  Result<Listing, Failure> list(Transport& transport) override;
  http::Request request(const RemoteFile& file, std::optional<ByteRange> range) override;

  // The three answers, parsed without trusting their shape (exposed for tests and the fuzzer):
  // any body that is not what the API documents is a Failure that names the field, never an
  // exception.
  static Result<std::string, Failure> parse_token(const std::string& body);
  static Result<std::string, Failure> parse_latest_version(const std::string& body);
  // Appends the page's files (their URLs under files_url) to listing; returns totalPages (1 when
  // the answer has no paginationInfo).
  static Result<long, Failure> parse_files_page(const std::string& body,
                                                const std::string& files_url, Listing& listing);

 private:
  std::string model_base() const;
  void add_auth(http::Request& req) const;
  SourceUri uri_;
  std::string endpoint_, auth_endpoint_;
  std::optional<std::string> api_key_;
  std::string bearer_;
};

}  // namespace aim::fetch
