// Condition helpers (meta/v1 Condition semantics): set, find, remove. lastTransitionTime only
// changes when the status changes, so re-asserting a condition never churns the object.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/k8s.h"

namespace aim::api {

// Sets (adds or updates) the condition of type `c.type`.
// - lastTransitionTime: kept when the status is unchanged; otherwise `now` (RFC 3339).
// - reason, message, observedGeneration: copied from `c`.
// Returns true when anything observable changed (callers skip the status write otherwise).
bool set_condition(std::vector<Condition>& conditions, Condition c, std::string_view now);

// Convenience form.
bool set_condition(std::vector<Condition>& conditions, std::string_view type,
                   std::string_view status, std::string_view reason, std::string_view message,
                   std::optional<int64_t> observed_generation, std::string_view now);

const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type);
Condition* find_condition(std::vector<Condition>& conditions, std::string_view type);

// Removes the condition of that type; returns true when one was removed.
bool remove_condition(std::vector<Condition>& conditions, std::string_view type);

bool is_condition_true(const std::vector<Condition>& conditions, std::string_view type);

}  // namespace aim::api
