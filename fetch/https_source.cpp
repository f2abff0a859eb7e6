#include "fetch/https_source.h"

#include <cctype>
#include <sstream>

namespace aim::fetch {

Result<std::map<std::string, std::string>, std::string> parse_sha256_list(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.find(' ');
    if (sp != 64) return fail("line " + std::to_string(n) + ": expected '<sha256>  <name>'");
    std::string hex = line.substr(0, 64);
    for (char& c : hex) {
      if (!std::isxdigit(static_cast<unsigned char>(c)))
        return fail("line " + std::to_string(n) + ": not hex");
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    size_t name = line.find_first_not_of(' ', sp);
    if (name == std::string::npos) return fail("line " + std::to_string(n) + ": no name");
    if (line[name] == '*') ++name;
    out[line.substr(name)] = hex;
  }
  return out;
}

std::string HttpsSource::file_name_of(const std::string& url) {
  std::string_view u(url);
  u = u.substr(0, u.find_first_of("?#"));
  auto sep = u.find("://");
  auto path_start = u.find('/', sep == std::string_view::npos ? 0 : sep + 3);
  if (path_start == std::string_view::npos) return "download";
  std::string_view path = u.substr(path_start);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  auto name = path.substr(path.rfind('/') + 1);
  return name.empty() ? "download" : std::string(name);
}

void HttpsSource::add_auth(http::Request& req) const {
  if (bearer_token_ && url_origin(req.url) == url_origin(uri_.url))
    req.headers.emplace_back("Authorization", "Bearer " + *bearer_token_);
}

Result<Listing, Failure> HttpsSource::list(Transport& transport) {
  RemoteFile f;
  f.path = file_name_of(uri_.url);
  f.url = uri_.url;
  f.size_known = false;
  f.ranges = false;
  auto r = transport.call(
      [&] {
        http::Request req;
        req.method = "HEAD";
        req.url = uri_.url;
        req.follow_redirects = true;
        req.headers.emplace_back("Accept-Encoding", "identity");
        add_auth(req);
        return req;
      },
      redact_url(uri_.url),
      [](long st) { return (st >= 200 && st < 300) || st == 405 || st == 501; });
  if (!r.ok()) return fail(r.error());
  if (r->status < 300) {
    if (auto cl = r->headers.get("Content-Length")) {
      try {
        f.size = std::stoull(*cl);
        f.size_known = true;
      } catch (...) {
      }
    }
    f.ranges = f.size_known && r->headers.get("Accept-Ranges").value_or("") == "bytes";
    auto etag = r->headers.get("ETag").value_or("");
    auto lm = r->headers.get("Last-Modified").value_or("");
    f.identity = "etag:" + etag + ";lm:" + lm + ";size:" + std::to_string(f.size);
    if (!r->effective_url.empty()) f.url = r->effective_url;
  }
  if (auto it = sha256_.find(f.path); it != sha256_.end()) f.sha256 = it->second;
  Listing l;
  l.files.push_back(std::move(f));
  return l;
}

http::Request HttpsSource::request(const RemoteFile& file, std::optional<ByteRange> range) {
  http::Request req;
  req.url = file.url;
  req.follow_redirects = true;
  req.headers.emplace_back("Accept-Encoding", "identity");
  add_auth(req);
  if (range)
    req.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->begin) + "-" + std::to_string(range->end - 1));
  return req;
}

}  // namespace aim::fetch
