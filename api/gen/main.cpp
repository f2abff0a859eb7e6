// aim-crdgen: writes or checks the generated API files, and round-trips objects through the
// typed decoder.
//
//   aim-crdgen write <repo-root>        (re)write deploy/crds*, docs/api-reference.md
//   aim-crdgen check <repo-root>        exit 1 when a checked-in file differs from the generator
//   aim-crdgen roundtrip [--defaults]   read YAML/JSON objects on stdin; print each decoded and
//                                       re-encoded object as one JSON line; exit 1 when an object
//                                       fails to decode or (without --defaults) changes
//   aim-crdgen kinds                    list the kinds (group, version, kind, plural, scope)
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "api/crd.h"
#include "api/kinds.h"
#include "api/yaml.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int write_or_check(const std::string& root, bool write) {
  int differing = 0;
  for (const auto& f : aim::api::generated_files()) {
    const std::string path = root + "/" + f.path;
    if (read_file(path) == f.content) continue;
    ++differing;
    if (!write) {
      std::cerr << "out of date: " << f.path << "\n";
      continue;
    }
    const auto slash = path.find_last_of('/');
    std::string mkdir = "mkdir -p '" + path.substr(0, slash) + "'";
    if (std::system(mkdir.c_str()) != 0) {
      std::cerr << "cannot create directory for " << path << "\n";
      return 2;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << f.content;
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
      return 2;
    }
    std::cerr << "wrote " << f.path << "\n";
  }
  if (!write && differing > 0) {
    std::cerr << differing << " generated file(s) differ; run `aim-crdgen write " << root
              << "` (or build the aim_api_generate target)\n";
    return 1;
  }
  return 0;
}

int roundtrip(bool defaults) {
  std::stringstream buf;
  buf << std::cin.rdbuf();
  auto docs = aim::api::parse_yaml(buf.str());
  if (!docs.error.empty()) {
    std::cerr << "parse error: " << docs.error << "\n";
    return 1;
  }
  int failures = 0;
  std::vector<aim::api::Json> objects;
  for (const auto& d : docs.documents) {
    // A kubectl List is unwrapped into its items.
    if (d.is_object() && d.contains("items") && d.value("kind", "").ends_with("List")) {
      for (const auto& item : d["items"]) objects.push_back(item);
    } else {
      objects.push_back(d);
    }
  }
  for (const auto& obj : objects) {
    const auto* kind = aim::api::find_kind(obj.value("apiVersion", ""), obj.value("kind", ""));
    if (kind == nullptr) {
      std::cerr << "unknown kind: " << obj.value("apiVersion", "") << " " << obj.value("kind", "")
                << "\n";
      ++failures;
      continue;
    }
    auto out = defaults ? kind->with_defaults(obj) : kind->roundtrip(obj);
    if (!out) {
      std::cerr << "decode error: " << out.error << "\n";
      ++failures;
      continue;
    }
    if (!defaults && *out.value != obj) {
      std::cerr << "round trip changed " << obj.value("kind", "") << "/"
                << obj["metadata"].value("name", "") << ":\n"
                << aim::api::Json::diff(obj, *out.value).dump(2) << "\n";
      ++failures;
    }
    std::cout << out.value->dump() << "\n";
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: aim-crdgen write <repo-root> | check <repo-root> | roundtrip [--defaults] | kinds\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string cmd = argv[1];
  if ((cmd == "write" || cmd == "check") && argc == 3)
    return write_or_check(argv[2], cmd == "write");
  if (cmd == "roundtrip") return roundtrip(argc == 3 && std::string(argv[2]) == "--defaults");
  if (cmd == "kinds") {
    for (const auto& k : aim::api::all_kinds()) {
      std::cout << k.info->group << " " << k.info->version << " " << k.info->kind << " "
                << k.info->plural << " " << (k.info->namespaced ? "Namespaced" : "Cluster") << "\n";
    }
    return 0;
  }
  std::cerr << usage;
  return 2;
}
