#include "fetch/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace aim::fetch {
namespace {

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  line = trim(line);
  if (line.empty()) return std::nullopt;
  return line;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::optional<std::string> hf_token(const EnvLookup& env) {
  if (auto t = non_empty(env, "HF_TOKEN")) return t;
  if (auto t = non_empty(env, "HUGGING_FACE_HUB_TOKEN")) return t;
  if (auto p = non_empty(env, "HF_TOKEN_PATH")) return read_first_line(*p);
  if (auto h = non_empty(env, "HF_HOME")) return read_first_line(*h + "/token");
  if (auto home = non_empty(env, "HOME"))
    return read_first_line(*home + "/.cache/huggingface/token");
  return std::nullopt;
}

std::string hf_endpoint(const EnvLookup& env) {
  std::string e = non_empty(env, "HF_ENDPOINT").value_or("https://huggingface.co");
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

S3Config s3_config(const EnvLookup& env) {
  S3Config c;
  auto id = non_empty(env, "AWS_ACCESS_KEY_ID");
  auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    c.credentials.access_key_id = *id;
    c.credentials.secret_access_key = *secret;
    c.credentials.session_token = non_empty(env, "AWS_SESSION_TOKEN").value_or("");
  } else {
    std::string file;
    if (auto f = non_empty(env, "AWS_SHARED_CREDENTIALS_FILE"))
      file = *f;
    else if (auto home = non_empty(env, "HOME"))
      file = *home + "/.aws/credentials";
    std::string profile = non_empty(env, "AWS_PROFILE").value_or("default");
    std::ifstream in(file);
    std::string line, section;
    while (in && std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[' && line.back() == ']') {
        section = trim(line.substr(1, line.size() - 2));
        continue;
      }
      if (section != profile) continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
      if (k == "aws_access_key_id") c.credentials.access_key_id = v;
      if (k == "aws_secret_access_key") c.credentials.secret_access_key = v;
      if (k == "aws_session_token") c.credentials.session_token = v;
    }
  }
  if (auto r = non_empty(env, "AWS_REGION"))
    c.region = *r;
  else if (auto r2 = non_empty(env, "AWS_DEFAULT_REGION"))
    c.region = *r2;
  if (auto e = non_empty(env, "AWS_ENDPOINT_URL_S3"))
    c.endpoint = *e;
  else if (auto e2 = non_empty(env, "AWS_ENDPOINT_URL"))
    c.endpoint = *e2;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  c.path_style = !c.endpoint.empty();
  if (auto style = non_empty(env, "AWS_S3_ADDRESSING_STYLE")) c.path_style = *style == "path";
  return c;
}

std::optional<std::string> ngc_api_key(const EnvLookup& env) {
  if (auto k = non_empty(env, "NGC_API_KEY")) return k;
  return non_empty(env, "NGC_CLI_API_KEY");
}

HttpsCredentials https_credentials(const EnvLookup& env) {
  return HttpsCredentials{non_empty(env, "HTTPS_TOKEN"), non_empty(env, "AIM_SIGNED_URL")};
}

Result<std::string, std::string> https_fetch_url(const std::string& uri,
                                                 const HttpsCredentials& credentials) {
  if (!credentials.signed_url) return uri;
  const std::string& signed_url = *credentials.signed_url;
  if (redact_url(signed_url) != redact_url(uri))
    return fail("AIM_SIGNED_URL names " + redact_url(signed_url) + ", not " + redact_url(uri) +
                ": the signed URL must be the URI with its query");
  return signed_url;
}

}  // namespace aim::fetch
