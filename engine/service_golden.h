// Test-only: compare a rendered object with a golden JSON file under engine/testdata/service/.
// Comparison is structural (parsed JSON, key order irrelevant); a mismatch prints a JSON patch.
// A human regenerates the files deliberately with AIM_UPDATE_GOLDEN=1 (never set in CI), then
// reviews the diff before committing. Paths are relative to the repository root, which is the
// working directory of every registered test.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace aim::engine::testing {

inline void expect_golden(const nlohmann::json& got, const std::string& file) {
  const std::string path = "engine/testdata/service/" + file;
  const char* update = std::getenv("AIM_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(path);
    out << got.dump(2) << "\n";
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    std::cerr << "updated golden file " << path << "\n";
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (run from the repository root; AIM_UPDATE_GOLDEN=1 creates it)";
  std::stringstream ss;
  ss << in.rdbuf();
  auto want = nlohmann::json::parse(ss.str(), nullptr, false);
  ASSERT_FALSE(want.is_discarded()) << path << " is not valid JSON";
  EXPECT_EQ(got, want) << "differs from " << path << "; patch from golden to rendered:\n"
                       << nlohmann::json::diff(want, got).dump(2);
}

}  // namespace aim::engine::testing
