// ClusterLease: two controller tests never hold one cluster at once, and a test takes a free one.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ClusterLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aim-lease-" + random_suffix());
    fs::create_directories(dir_);
    a_ = (dir_ / "a.kubeconfig").string();
    b_ = (dir_ / "b.kubeconfig").string();
    if (const char* kc = std::getenv("KUBECONFIG"); kc != nullptr) saved_kubeconfig_ = kc;
  }
  void TearDown() override {
    ::unsetenv("AIM_IT_KUBECONFIGS");
    if (saved_kubeconfig_)
      ::setenv("KUBECONFIG", saved_kubeconfig_->c_str(), 1);
    else
      ::unsetenv("KUBECONFIG");
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::string a_, b_;
  std::optional<std::string> saved_kubeconfig_;
};

TEST_F(ClusterLeaseTest, EachHolderGetsItsOwnClusterAndAThirdWaitsForARelease) {
  ::setenv("AIM_IT_KUBECONFIGS", (a_ + ":" + b_).c_str(), 1);
  auto first = std::make_unique<ClusterLease>();
  ClusterLease second;
  EXPECT_EQ(first->kubeconfig(), a_);
  EXPECT_EQ(second.kubeconfig(), b_);

  std::atomic<bool> got{false};
  std::string third_kc;
  std::thread third([&] {
    ClusterLease third_lease;
    third_kc = third_lease.kubeconfig();
    got = true;
  });
  std::this_thread::sleep_for(400ms);
  EXPECT_FALSE(got) << "a third lease was granted while both clusters were held";
  first.reset();  // releases a
  third.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(third_kc, a_);
}

TEST_F(ClusterLeaseTest, WithoutAListTheKubeconfigItselfIsHeldExclusively) {
  ::setenv("KUBECONFIG", a_.c_str(), 1);
  auto first = std::make_unique<ClusterLease>();
  EXPECT_EQ(first->kubeconfig(), a_);
  std::atomic<bool> got{false};
  std::thread second([&] {
    ClusterLease l;
    got = true;
  });
  std::this_thread::sleep_for(400ms);
  EXPECT_FALSE(got);
  first.reset();
  second.join();
  EXPECT_TRUE(got);
}

TEST_F(ClusterLeaseTest, NoClusterMeansAnEmptyLease) {
  ::unsetenv("KUBECONFIG");
  ClusterLease lease;
  EXPECT_TRUE(lease.kubeconfig().empty());
}

}  // namespace
}  // namespace aim::testing
