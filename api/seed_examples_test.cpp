// Every YAML example of the seed documents that declares one of our kinds (copied verbatim into
// testdata/seed-examples/ by testdata/extract_seed_examples.py) decodes and re-encodes without
// losing or changing anything, and takes the schema defaults without error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/kinds.h"
#include "api/yaml.h"

namespace aim::api {
namespace {

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator("api/testdata/seed-examples")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SeedExamples, EveryExampleRoundTrips) {
  const auto files = example_files();
  ASSERT_FALSE(files.empty()) << "run from the repository root";
  std::set<std::string> kinds_seen;
  int documents = 0;
  for (const auto& f : files) {
    const std::string text = read(f);
    EXPECT_EQ(text.rfind("# source: seeds/", 0), 0u) << f << " does not record its origin";
    auto docs = parse_yaml(text);
    ASSERT_EQ(docs.error, "") << f;
    ASSERT_FALSE(docs.documents.empty()) << f;
    for (const auto& doc : docs.documents) {
      ++documents;
      const KindEntry* kind = find_kind(doc.value("apiVersion", ""), doc.value("kind", ""));
      ASSERT_NE(kind, nullptr) << f;
      kinds_seen.insert(std::string(kind->info->kind));
      auto out = kind->roundtrip(doc);
      ASSERT_TRUE(out) << f << ": " << out.error;
      EXPECT_EQ(*out.value, doc) << f << ": " << Json::diff(doc, *out.value).dump();
      auto defaulted = kind->with_defaults(doc);
      ASSERT_TRUE(defaulted) << f << ": " << defaulted.error;
      // Defaulting only adds keys; everything in the example is still there, unchanged.
      for (const auto& op : Json::diff(doc, *defaulted.value)) {
        EXPECT_EQ(op["op"], "add") << f << ": " << op.dump();
      }
    }
  }
  EXPECT_GE(documents, static_cast<int>(files.size()));
  // The seeds show these kinds; losing one means the extraction broke.
  for (const char* k : {"AIMModel", "AIMClusterModel", "AIMService", "AIMServiceTemplate",
                        "AIMClusterServiceTemplate", "AIMClusterRuntimeConfig", "DynamoModel"}) {
    EXPECT_TRUE(kinds_seen.count(k)) << k;
  }
}

TEST(SeedExamples, DynamoModelFieldsDecodeAsTheSeedDescribes) {
  auto docs = parse_yaml(read("api/testdata/seed-examples/003-block04-dynamomodel.yaml"));
  ASSERT_EQ(docs.documents.size(), 1u);
  auto d = decode<DynamoModel>(docs.documents[0]);
  ASSERT_TRUE(d) << d.error;
  const auto& spec = d.value->spec;
  EXPECT_EQ(spec.name, "meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(spec.version, "abcd12345");
  EXPECT_EQ(spec.source_url, "hf://meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(spec.secret_ref, "llama-hf-secret");
  EXPECT_EQ(spec.pvc.create, true);
  EXPECT_EQ(spec.pvc.storage_class, "your-storage-class");
  EXPECT_EQ(spec.pvc.size->str(), "200Gi");
  EXPECT_EQ(spec.pvc.volume_access_mode, "ReadWriteMany");
}

TEST(SeedExamples, SeedTemplateSourcesUseTheAliases) {
  auto docs = parse_yaml(read("api/testdata/seed-examples/002-block02-aimservicetemplate.yaml"));
  ASSERT_EQ(docs.documents.size(), 1u);
  auto d = decode<AIMServiceTemplate>(docs.documents[0]);
  ASSERT_TRUE(d) << d.error;
  const auto& sources = *d.value->spec.model_sources;
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].effective_uri(), "hf://Qwen/Qwen3-32B");
  EXPECT_EQ(sources[0].effective_model_id(), "Qwen/Qwen3-32B");
  EXPECT_EQ(sources[1].name, "tokenizer");
}

}  // namespace
}  // namespace aim::api
