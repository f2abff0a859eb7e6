// The YAML emitter comparison of docs/architecture.md: api/yaml.cpp's to_yaml against the same
// JSON written with yaml-cpp's YAML::Emitter (yaml-cpp is already linked for reading). Input: the
// generated CRDs (read back with parse_yaml, which the generated-files test holds to be the
// generator's JSON) and strings that YAML readers take for something else.
//
//   compare OUTDIR CRD.yaml...   writes OUTDIR/{ours,yaml-cpp}/{NAME.yaml,strings.yaml}
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "api/yaml.h"

namespace {

using aim::api::Json;

void emit(YAML::Emitter& e, const Json& v) {
  if (v.is_object()) {
    e << YAML::BeginMap;
    for (const auto& [k, val] : v.items()) {
      e << YAML::Key << k << YAML::Value;
      emit(e, val);
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& item : v) emit(e, item);
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    e << v.get<std::string>();
  } else if (v.is_boolean()) {
    e << v.get<bool>();
  } else if (v.is_number_unsigned()) {
    e << v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {
    e << v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    e << v.get<double>();
  } else {
    e << YAML::Null;
  }
}

std::string with_yaml_cpp(const Json& v) {
  YAML::Emitter e;
  emit(e, v);
  return std::string(e.c_str()) + "\n";
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

template <typename F>
double millis(F emit_all) {
  double best = 1e18;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    emit_all();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::filesystem::path out = argv[1];
  std::vector<std::pair<std::string, Json>> crds;
  for (int i = 2; i < argc; ++i) {
    auto docs = aim::api::parse_yaml(read(argv[i]));
    if (!docs.error.empty() || docs.documents.size() != 1) {
      std::fprintf(stderr, "%s: %s\n", argv[i], docs.error.c_str());
      return 1;
    }
    crds.emplace_back(std::filesystem::path(argv[i]).filename(), docs.documents[0]);
  }
  // Strings that a YAML 1.1 reader (Go's yaml.v2 under kubectl and sigs.k8s.io/yaml, PyYAML) or a
  // 1.2 reader takes for a boolean, a number, null, a date, or for markup.
  Json strings = Json::object();
  int n = 0;
  for (const char* s : {"yes",
                        "No",
                        "on",
                        "OFF",
                        "y",
                        "n",
                        "true",
                        "null",
                        "~",
                        "",
                        "1e3",
                        "1E3",
                        "0x1F",
                        "0o17",
                        "017",
                        "1_000",
                        "12:30",
                        "12:30:45",
                        "2001-12-14",
                        ".inf",
                        "-.Inf",
                        ".nan",
                        "+1",
                        "-1",
                        ".5",
                        "1.",
                        " lead",
                        "trail ",
                        "\ttab",
                        "multi\nline",
                        "trailing newline\n",
                        "\xC3\xA9",
                        "\xF0\x9F\x98\x80",
                        "- x",
                        ": x",
                        "a: b",
                        "a #b",
                        "#x",
                        "@x",
                        "`x",
                        "'",
                        "\"",
                        "!tag",
                        "&anchor",
                        "*alias",
                        "%x",
                        "|",
                        ">",
                        "?",
                        "? x",
                        "{",
                        "[",
                        "]",
                        ",x",
                        "=",
                        "<<",
                        "---",
                        "...",
                        "a\\b",
                        "\x01",
                        "\x7F",
                        "back\\slash",
                        "^(hf|s3)://[^ \\t\\r\\n]+$"}) {
    strings["s" + std::to_string(n++)] = s;
  }
  std::size_t ours_bytes = 0, theirs_bytes = 0, identical = 0;
  for (const auto& [name, crd] : crds) {
    const auto a = aim::api::to_yaml(crd), b = with_yaml_cpp(crd);
    write(out / "ours" / name, a);
    write(out / "yaml-cpp" / name, b);
    ours_bytes += a.size();
    theirs_bytes += b.size();
    identical += a == b ? 1 : 0;
    for (const auto& [who, text] : {std::pair{"ours", a}, std::pair{"yaml-cpp", b}}) {
      auto back = aim::api::parse_yaml(text);
      if (!back.error.empty() || back.documents.size() != 1 || back.documents[0] != crd)
        std::printf("%s: %s does not read back (yaml-cpp) as the same JSON\n", name.c_str(), who);
    }
  }
  // One file per string, so that one a reader refuses does not hide the others.
  for (const auto& [key, s] : strings.items()) {
    const Json doc{{"v", s}};
    write(out / "ours" / "strings" / (key + ".yaml"), aim::api::to_yaml(doc));
    write(out / "yaml-cpp" / "strings" / (key + ".yaml"), with_yaml_cpp(doc));
    auto back = aim::api::parse_yaml(with_yaml_cpp(doc));
    if (!back.error.empty() || back.documents.size() != 1 || back.documents[0] != doc)
      std::printf("yaml-cpp: %s does not read back (yaml-cpp)\n", s.dump().c_str());
    back = aim::api::parse_yaml(aim::api::to_yaml(doc));
    if (!back.error.empty() || back.documents.size() != 1 || back.documents[0] != doc)
      std::printf("ours: %s does not read back (yaml-cpp)\n", s.dump().c_str());
  }
  write(out / "strings.json", strings.dump());
  std::printf("%zu CRDs: ours %zu bytes, yaml-cpp %zu bytes, %zu byte-identical\n", crds.size(),
              ours_bytes, theirs_bytes, identical);
  std::size_t sink = 0;
  const double ours_ms = millis([&] {
    for (const auto& [name, crd] : crds) sink += aim::api::to_yaml(crd).size();
  });
  const double theirs_ms = millis([&] {
    for (const auto& [name, crd] : crds) sink += with_yaml_cpp(crd).size();
  });
  std::printf("emitting all of them, best of 5: ours %.1f ms, yaml-cpp %.1f ms (%zu)\n", ours_ms,
              theirs_ms, sink % 10);
}
