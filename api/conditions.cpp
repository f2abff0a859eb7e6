#include "api/conditions.h"

#include <algorithm>
#include <ctime>

namespace aim::api {

bool set_condition(std::vector<Condition>& conditions, Condition c, std::string_view now) {
  Condition* existing = find_condition(conditions, c.type);
  if (existing == nullptr) {
    c.last_transition_time = std::string(now);
    conditions.push_back(std::move(c));
    return true;
  }
  bool changed = false;
  if (existing->status != c.status) {
    existing->status = c.status;
    existing->last_transition_time = std::string(now);
    changed = true;
  }
  if (existing->reason != c.reason) {
    existing->reason = c.reason;
    changed = true;
  }
  if (existing->message != c.message) {
    existing->message = c.message;
    changed = true;
  }
  if (existing->observed_generation != c.observed_generation) {
    existing->observed_generation = c.observed_generation;
    changed = true;
  }
  return changed;
}

bool set_condition(std::vector<Condition>& conditions, std::string_view type,
                   std::string_view status, std::string_view reason, std::string_view message,
                   std::optional<int64_t> observed_generation, std::string_view now) {
  Condition c;
  c.type = std::string(type);
  c.status = std::string(status);
  c.reason = std::string(reason);
  c.message = std::string(message);
  c.observed_generation = observed_generation;
  return set_condition(conditions, std::move(c), now);
}

const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == type; });
  return it == conditions.end() ? nullptr : &*it;
}

Condition* find_condition(std::vector<Condition>& conditions, std::string_view type) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == type; });
  return it == conditions.end() ? nullptr : &*it;
}

bool remove_condition(std::vector<Condition>& conditions, std::string_view type) {
  const auto before = conditions.size();
  std::erase_if(conditions, [&](const Condition& c) { return c.type == type; });
  return conditions.size() != before;
}

bool is_condition_true(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = find_condition(conditions, type);
  return c != nullptr && c->status == "True";
}

}  // namespace aim::api
