#include "api/conditions.h"

#include <gtest/gtest.h>

namespace aim::api {
namespace {

TEST(Conditions, AddSetsTransitionTimeAndGeneration) {
  std::vector<Condition> cs;
  EXPECT_TRUE(set_condition(cs, "Ready", "False", "Progressing", "waiting", 1, "T1"));
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].last_transition_time, "T1");
  EXPECT_EQ(cs[0].observed_generation, 1);
}

TEST(Conditions, TransitionTimeStableWhenStatusUnchanged) {
  std::vector<Condition> cs;
  set_condition(cs, "Ready", "False", "Progressing", "waiting", 1, "T1");
  // Same everything: no change at all.
  EXPECT_FALSE(set_condition(cs, "Ready", "False", "Progressing", "waiting", 1, "T2"));
  EXPECT_EQ(cs[0].last_transition_time, "T1");
  // Reason, message and generation change, status does not: time stays.
  EXPECT_TRUE(set_condition(cs, "Ready", "False", "ModelNotFound", "no model", 2, "T3"));
  EXPECT_EQ(cs[0].last_transition_time, "T1");
  EXPECT_EQ(cs[0].reason, "ModelNotFound");
  EXPECT_EQ(cs[0].message, "no model");
  EXPECT_EQ(cs[0].observed_generation, 2);
}

TEST(Conditions, TransitionTimeChangesWhenStatusChanges) {
  std::vector<Condition> cs;
  set_condition(cs, "Ready", "False", "Progressing", "waiting", 1, "T1");
  EXPECT_TRUE(set_condition(cs, "Ready", "True", "AllComponentsReady", "ok", 1, "T2"));
  EXPECT_EQ(cs[0].last_transition_time, "T2");
  EXPECT_EQ(cs[0].status, "True");
}

TEST(Conditions, FindRemoveAndTruth) {
  std::vector<Condition> cs;
  set_condition(cs, "Ready", "True", "AllComponentsReady", "", 1, "T1");
  set_condition(cs, "CacheReady", "False", "CacheCreating", "", 1, "T1");
  EXPECT_TRUE(is_condition_true(cs, "Ready"));
  EXPECT_FALSE(is_condition_true(cs, "CacheReady"));
  EXPECT_FALSE(is_condition_true(cs, "Missing"));
  ASSERT_NE(find_condition(cs, "CacheReady"), nullptr);
  EXPECT_TRUE(remove_condition(cs, "CacheReady"));
  EXPECT_FALSE(remove_condition(cs, "CacheReady"));
  EXPECT_EQ(find_condition(cs, "CacheReady"), nullptr);
  EXPECT_EQ(cs.size(), 1u);
}

}  // namespace
}  // namespace aim::api
