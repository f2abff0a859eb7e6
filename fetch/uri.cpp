#include "fetch/uri.h"

#include <cctype>
#include <vector>

#include "core/uri_credentials.h"
#include "http/client.h"

namespace aim::fetch {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 96 || s == "." || s == "..") return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(
        s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

Result<SourceUri, std::string> parse_hf(std::string_view rest) {
  SourceUri u;
  u.scheme = Scheme::kHuggingFace;
  auto at = rest.find('@');
  std::string_view repo = rest.substr(0, at);
  u.revision = at == std::string_view::npos ? "main" : std::string(rest.substr(at + 1));
  while (!repo.empty() && repo.back() == '/') repo.remove_suffix(1);
  auto parts = split(repo, '/');
  if (parts.empty()) return fail(std::string("hf:// wants org/model[/path]"));
  for (auto p : parts)
    if (!valid_name(p)) return fail("invalid Hugging Face repo id '" + std::string(repo) + "'");
  if (parts.size() > 2) {  // org/model/path: one file or directory of the repository
    std::string_view rest_path = repo.substr(parts[0].size() + parts[1].size() + 2);
    u.path = std::string(rest_path);
    repo = repo.substr(0, parts[0].size() + parts[1].size() + 1);
  }
  if (u.revision.empty() || u.revision.size() > 256)
    return fail(std::string("empty or overlong revision after '@'"));
  for (char c : u.revision)
    if (!name_char(c) && c != '/') return fail("invalid revision '" + u.revision + "'");
  if (u.revision.find("..") != std::string::npos) return fail(std::string("invalid revision"));
  u.repo = std::string(repo);
  return u;
}

Result<SourceUri, std::string> parse_s3(std::string_view rest) {
  SourceUri u;
  u.scheme = Scheme::kS3;
  auto slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  if (bucket.size() < 3 || bucket.size() > 63)
    return fail(std::string("S3 bucket name must be 3-63 characters"));
  for (char c : bucket)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      return fail("invalid S3 bucket name '" + std::string(bucket) + "'");
  u.bucket = std::string(bucket);
  if (slash != std::string_view::npos) u.prefix = std::string(rest.substr(slash + 1));
  return u;
}

Result<SourceUri, std::string> parse_ngc(std::string_view rest) {
  SourceUri u;
  u.scheme = Scheme::kNgc;
  auto colon = rest.rfind(':');
  std::string_view path = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    u.revision = std::string(rest.substr(colon + 1));
    if (!valid_name(u.revision)) return fail("invalid NGC version '" + u.revision + "'");
  }
  auto parts = split(path, '/');
  if (parts.size() != 2 && parts.size() != 3)
    return fail(std::string("ngc:// wants org/[team/]model[:version]"));
  for (auto p : parts)
    if (!valid_name(p)) return fail("invalid NGC path '" + std::string(path) + "'");
  u.ngc_org = std::string(parts.front());
  u.ngc_model = std::string(parts.back());
  if (parts.size() == 3) u.ngc_team = std::string(parts[1]);
  u.repo = std::string(path);
  return u;
}

}  // namespace

Result<SourceUri, std::string> parse_source_uri(std::string_view uri) {
  auto sep = uri.find("://");
  if (sep == std::string_view::npos) return fail("not a URI: '" + redact_url(uri) + "'");
  std::string_view scheme = uri.substr(0, sep);
  std::string_view rest = uri.substr(sep + 3);
  if (rest.empty()) return fail("nothing after " + std::string(scheme) + "://");
  if (scheme == "hf") return parse_hf(rest);
  if (scheme == "s3") return parse_s3(rest);
  if (scheme == "ngc") return parse_ngc(rest);
  if (scheme == "https" || scheme == "http") {
    SourceUri u;
    u.scheme = Scheme::kHttps;
    u.url = std::string(uri);
    auto host_end = rest.find_first_of("/?#");
    if (host_end == 0) return fail(std::string("URL has no host"));
    return u;
  }
  return fail("unsupported scheme '" + std::string(scheme) + "' (hf, s3, ngc, https)");
}

Result<std::string, std::string> safe_relative_path(std::string_view path) {
  if (path.empty()) return fail(std::string("empty path"));
  if (path.size() > 4096) return fail(std::string("path too long"));
  if (path.front() == '/') return fail("absolute path '" + std::string(path) + "'");
  for (char c : path) {
    if (c == '\\') return fail("backslash in path '" + std::string(path) + "'");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return fail(std::string("control character in path"));
  }
  for (auto seg : split(path, '/')) {
    if (seg.empty() || seg == "." || seg == "..")
      return fail("path '" + std::string(path) + "' would leave the destination");
    if (seg.size() > 255) return fail(std::string("path segment too long"));
  }
  return std::string(path);
}

std::string redact_url(std::string_view url) {
  std::string_view s = url.substr(0, url.find_first_of("?#"));
  auto sep = s.find("://");
  if (sep != std::string_view::npos) {
    auto host_start = sep + 3;
    auto host_end = s.find('/', host_start);
    auto at = s.substr(0, host_end).find('@', host_start);
    if (at != std::string_view::npos)
      return std::string(s.substr(0, host_start)) + std::string(s.substr(at + 1));
  }
  return std::string(s);
}

std::optional<std::string> credential_in_uri(std::string_view uri) {
  const auto sep = uri.find("://");
  if (sep != std::string_view::npos) {
    const auto authority_end = uri.find_first_of("/?#", sep + 3);
    if (uri.substr(sep + 3, authority_end - (sep + 3)).find('@') != std::string_view::npos)
      return std::string("user information (user:password@)");
  }
  const auto q = uri.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = uri.substr(q + 1, uri.find('#', q) - (q + 1));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string_view name = param.substr(0, param.find('='));
    if (param.find('=') != std::string_view::npos) {
      std::string lower(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto k : kCredentialQueryParameters)
        if (lower == k) return "the query parameter " + std::string(name);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string url_origin(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  auto end = url.find_first_of("/?#", sep + 3);
  std::string o(url.substr(0, end));
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string resolve_url(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (location.substr(0, 2) == "//")
    return std::string(base.substr(0, base.find("://") + 1)) + std::string(location);
  if (!location.empty() && location.front() == '/') return url_origin(base) + std::string(location);
  std::string_view b = base.substr(0, base.find_first_of("?#"));
  return std::string(b.substr(0, b.rfind('/') + 1)) + std::string(location);
}

std::string encode_path(std::string_view path) {
  return http::url_encode(path, true);
}

}  // namespace aim::fetch
