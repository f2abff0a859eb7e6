#include "engine/selection.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <tuple>

#include "core/strings.h"
#include "engine/service_names.h"

namespace aim::engine {
namespace {

constexpr std::size_t kMaxReason = 120;

std::string clip(std::string s) {
  if (s.size() > kMaxReason) {
    s.resize(kMaxReason - 3);
    s += "...";
  }
  return s;
}

std::string or_unset(const std::string& s) {
  return s.empty() ? "(unset)" : s;
}

using Score = std::array<int, 4>;

Score score_of(const TemplateCandidate& c) {
  return {profile_type_rank(effective_profile_type(c)), gpu_tier_rank(effective_gpu_model(c)),
          metric_rank(effective_metric(c)), precision_rank(effective_precision(c))};
}

// Why `loser` ranks below `winner`: the first criterion where they differ.
std::string preference_gap(const TemplateCandidate& loser, const TemplateCandidate& winner) {
  Score l = score_of(loser);
  Score w = score_of(winner);
  if (l[0] != w[0]) {
    return "profile " + effective_profile_type(loser) + " vs " + effective_profile_type(winner);
  }
  if (l[1] != w[1]) {
    return "GPU tier " + or_unset(effective_gpu_model(loser)) + " vs " +
           or_unset(effective_gpu_model(winner));
  }
  if (l[2] != w[2]) {
    return "metric " + or_unset(effective_metric(loser)) + " vs " +
           or_unset(effective_metric(winner));
  }
  return "precision " + or_unset(effective_precision(loser)) + " vs " +
         or_unset(effective_precision(winner));
}

// The reason a candidate fails stage 3, or empty when it passes.
std::string override_mismatch(const TemplateCandidate& c, const SelectionOverrides& o) {
  if (!o.metric.empty() && !iequals(effective_metric(c), o.metric)) {
    return "metric " + or_unset(effective_metric(c)) + " does not match override " + o.metric;
  }
  if (!o.precision.empty() && !iequals(effective_precision(c), o.precision)) {
    return "precision " + or_unset(effective_precision(c)) + " does not match override " +
           o.precision;
  }
  std::string gpu = effective_gpu_model(c);
  if (!o.gpu_model.empty() && !gpu.empty() &&
      service_names::normalize_gpu_model(gpu) != service_names::normalize_gpu_model(o.gpu_model)) {
    return "GPU " + gpu + " does not match override " + o.gpu_model;
  }
  int32_t count = effective_gpu_count(c);
  if (o.gpu_count > 0 && count > 0 && count != o.gpu_count) {
    return std::to_string(count) + " GPUs do not match override " + std::to_string(o.gpu_count);
  }
  return "";
}

const char* stage_label(int stage) {
  switch (stage) {
    case 1:
      return "not Ready";
    case 2:
      return "not optimized";
    case 3:
      return "override mismatch";
    case 4:
      return "GPU not in cluster";
    case 5:
      return "cluster scope superseded";
    case 6:
      return "lower preference";
    default:
      return "other";
  }
}

// "2 not Ready, 1 GPU not in cluster" over the rejected verdicts, in stage order.
std::string rejection_counts(const std::vector<CandidateVerdict>& verdicts) {
  std::map<std::pair<int, bool>, int> by_stage;  // (stage, tied) -> count
  for (const auto& v : verdicts) {
    if (!v.chosen) ++by_stage[{v.stage, v.reason.rfind("stage 6: tied", 0) == 0}];
  }
  std::vector<std::string> parts;
  for (const auto& [key, n] : by_stage) {
    parts.push_back(std::to_string(n) + " " + (key.second ? "tied" : stage_label(key.first)));
  }
  return join(parts, ", ");
}

}  // namespace

const char* to_string(TemplateScope s) {
  return s == TemplateScope::Cluster ? "Cluster" : "Namespace";
}

const char* to_string(SelectionOutcome o) {
  switch (o) {
    case SelectionOutcome::Selected:
      return "Selected";
    case SelectionOutcome::NoCandidates:
      return "NoCandidates";
    case SelectionOutcome::NoneReady:
      return "NoneReady";
    case SelectionOutcome::NoMatch:
      return "NoMatch";
    case SelectionOutcome::Ambiguous:
      return "Ambiguous";
  }
  return "Unknown";
}

std::string effective_metric(const TemplateCandidate& c) {
  return c.has_profile && !c.profile_metric.empty() ? c.profile_metric : c.spec_metric;
}
std::string effective_precision(const TemplateCandidate& c) {
  return c.has_profile && !c.profile_precision.empty() ? c.profile_precision : c.spec_precision;
}
std::string effective_gpu_model(const TemplateCandidate& c) {
  if (!c.spec_gpu_model.empty()) return c.spec_gpu_model;
  return c.has_profile ? c.profile_gpu : "";
}
int32_t effective_gpu_count(const TemplateCandidate& c) {
  if (c.spec_gpu_count > 0) return c.spec_gpu_count;
  return c.has_profile ? c.profile_gpu_count : 0;
}
std::string effective_profile_type(const TemplateCandidate& c) {
  if (!c.has_profile || c.profile_type.empty()) return "unoptimized";
  return ascii_lower(c.profile_type);
}

int profile_type_rank(std::string_view type) {
  std::string t = ascii_lower(type);
  if (t == "optimized") return 0;
  if (t == "preview") return 1;
  if (t == "unoptimized" || t.empty()) return 2;
  return 3;
}

int gpu_tier_rank(std::string_view gpu_model) {
  // Seed 001: MI325X > MI300X > MI250X > MI210 > A100 > H100, then everything else.
  static constexpr std::array<std::string_view, 6> kTiers = {"MI325X", "MI300X", "MI250X",
                                                             "MI210",  "A100",   "H100"};
  if (gpu_model.empty()) return static_cast<int>(kTiers.size());
  std::string g = service_names::normalize_gpu_model(gpu_model);
  for (std::size_t i = 0; i < kTiers.size(); ++i) {
    if (g == kTiers[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kTiers.size());
}

int metric_rank(std::string_view metric) {
  std::string m = ascii_lower(metric);
  if (m == "latency") return 0;
  if (m == "throughput") return 1;
  return 2;
}

int precision_rank(std::string_view precision) {
  // Seed 001 (spec README §3): fp4 > fp8 > fp16 > fp32 > bf16 > int4 > int8, then others.
  static constexpr std::array<std::string_view, 7> kOrder = {"fp4",  "fp8",  "fp16", "fp32",
                                                             "bf16", "int4", "int8"};
  std::string p = ascii_lower(precision);
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (p == kOrder[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kOrder.size());
}

TemplateSelection select_template(const SelectionInput& in) {
  TemplateSelection out;
  const auto& cands = in.candidates;
  std::vector<CandidateVerdict> verdicts(cands.size());
  for (std::size_t i = 0; i < cands.size(); ++i) {
    verdicts[i].name = cands[i].name;
    verdicts[i].scope = cands[i].scope;
  }
  auto reject = [&](std::size_t i, int stage, const std::string& why) {
    verdicts[i].stage = stage;
    verdicts[i].reason = clip("stage " + std::to_string(stage) + ": " + why);
  };

  std::set<std::string> cluster_gpus;
  for (const auto& g : in.cluster_gpus) cluster_gpus.insert(service_names::normalize_gpu_model(g));

  std::vector<std::size_t> alive;
  // Stage 1: Ready only.
  for (std::size_t i = 0; i < cands.size(); ++i) {
    if (cands[i].status == "Ready") {
      alive.push_back(i);
    } else if (cands[i].status.empty() || cands[i].status == "Pending" ||
               cands[i].status == "Progressing") {
      // One reason for every step on the way to Ready: a template's progress through discovery
      // does not rewrite the status of every service of its model (issue 25: status writes).
      reject(i, 1, "not Ready yet (Pending or Progressing)");
    } else {
      reject(i, 1, "status " + cands[i].status + ", not Ready");
    }
  }
  bool none_ready = !cands.empty() && alive.empty();

  auto filter = [&](int stage, auto keep_or_reason) {
    std::vector<std::size_t> next;
    for (std::size_t i : alive) {
      std::string why = keep_or_reason(cands[i]);
      if (why.empty()) {
        next.push_back(i);
      } else {
        reject(i, stage, why);
      }
    }
    alive = std::move(next);
  };

  // Stage 2: optimized only unless allowUnoptimized.
  if (!in.allow_unoptimized) {
    filter(2, [](const TemplateCandidate& c) -> std::string {
      std::string t = effective_profile_type(c);
      if (t == "optimized") return "";
      return "profile type " + t + " (allowUnoptimized is not set)";
    });
  }
  // Stage 3: override matching.
  if (in.overrides && !in.overrides->empty()) {
    filter(3, [&](const TemplateCandidate& c) { return override_mismatch(c, *in.overrides); });
  }
  // Stage 4: the template's GPU must be present in the cluster (no GPU model passes).
  filter(4, [&](const TemplateCandidate& c) -> std::string {
    std::string gpu = effective_gpu_model(c);
    if (gpu.empty()) return "";
    if (cluster_gpus.count(service_names::normalize_gpu_model(gpu)) > 0) return "";
    return "GPU " + gpu + " not present in cluster";
  });
  // Stage 5: namespace templates win over cluster templates.
  bool any_namespace = std::any_of(alive.begin(), alive.end(), [&](std::size_t i) {
    return cands[i].scope == TemplateScope::Namespace;
  });
  if (any_namespace) {
    filter(5, [](const TemplateCandidate& c) -> std::string {
      if (c.scope == TemplateScope::Namespace) return "";
      return "cluster template superseded by namespace templates";
    });
  }

  // Stage 6: preference scoring.
  std::vector<std::size_t> best;
  if (!alive.empty()) {
    Score best_score = score_of(cands[alive.front()]);
    for (std::size_t i : alive) best_score = std::min(best_score, score_of(cands[i]));
    for (std::size_t i : alive) {
      if (score_of(cands[i]) == best_score) best.push_back(i);
    }
    std::vector<std::string> tied_names;
    for (std::size_t i : best) tied_names.push_back(cands[i].name);
    std::sort(tied_names.begin(), tied_names.end());
    for (std::size_t i : alive) {
      if (score_of(cands[i]) != best_score) {
        const auto& ref = cands[best.front()];
        std::string who = best.size() == 1 ? ref.name : "the tied best";
        reject(i, 6, "lower preference than " + who + " (" + preference_gap(cands[i], ref) + ")");
      } else if (best.size() > 1) {
        std::vector<std::string> others;
        for (const auto& n : tied_names) {
          if (n != cands[i].name) others.push_back(n);
        }
        reject(i, 6, "tied at the best score with " + join(others, ", "));
      } else {
        verdicts[i].chosen = true;
        out.chosen = cands[i].name;
        out.chosen_scope = cands[i].scope;
      }
    }
    if (best.size() > 1) out.tied = tied_names;
  }

  std::set<std::string> tied_set(out.tied.begin(), out.tied.end());
  std::sort(verdicts.begin(), verdicts.end(), [&](const auto& a, const auto& b) {
    auto key = [&](const CandidateVerdict& v) {
      return std::make_tuple(v.chosen ? 0 : 1, -v.stage, tied_set.count(v.name) > 0 ? 0 : 1,
                             v.scope == TemplateScope::Namespace ? 0 : 1, v.name);
    };
    return key(a) < key(b);
  });
  out.verdicts = std::move(verdicts);

  const std::string model = "\"" + in.model_name + "\"";
  if (cands.empty()) {
    out.outcome = SelectionOutcome::NoCandidates;
    out.reason = "TemplateNotFound";
    out.message = "No templates found for model " + model;
  } else if (none_ready) {
    out.outcome = SelectionOutcome::NoneReady;
    out.reason = "TemplateNotReady";
    out.message = std::to_string(cands.size()) + " template(s) for model " + model +
                  " exist but none is Ready";
  } else if (alive.empty()) {
    out.outcome = SelectionOutcome::NoMatch;
    out.reason = "TemplateNotFound";
    out.message = "No template for model " + model +
                  " passed selection (rejected: " + rejection_counts(out.verdicts) + ")";
  } else if (best.size() > 1) {
    out.outcome = SelectionOutcome::Ambiguous;
    out.reason = "TemplateSelectionAmbiguous";
    out.message = "Multiple templates (" + std::to_string(best.size()) + ") satisfy model " +
                  model + " with equal preference: " + join(out.tied, ", ") +
                  "; set spec.template.name or add overrides";
  } else {
    out.outcome = SelectionOutcome::Selected;
  }
  return out;
}

nlohmann::json selection_to_json(const TemplateSelection& s, std::size_t max_candidates) {
  nlohmann::json j = nlohmann::json::object();
  j["outcome"] = to_string(s.outcome);
  if (s.chosen) {
    j["chosen"] = *s.chosen;
    j["chosenScope"] = to_string(s.chosen_scope);
  }
  j["summary"] = selection_summary(s);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < s.verdicts.size() && i < max_candidates; ++i) {
    const auto& v = s.verdicts[i];
    nlohmann::json e = {{"name", v.name},
                        {"scope", to_string(v.scope)},
                        {"status", v.chosen ? "chosen" : "rejected"}};
    if (!v.chosen) {
      e["stage"] = v.stage;
      e["reason"] = v.reason;
    }
    list.push_back(std::move(e));
  }
  j["candidates"] = std::move(list);
  if (s.verdicts.size() > max_candidates) {
    j["omittedCandidates"] = s.verdicts.size() - max_candidates;
  }
  return j;
}

std::string selection_summary(const TemplateSelection& s) {
  std::size_t n = s.verdicts.size();
  std::string of = " from " + std::to_string(n) + " candidate" + (n == 1 ? "" : "s");
  std::string counts = rejection_counts(s.verdicts);
  std::string rejected = counts.empty() ? "" : "; rejected: " + counts;
  switch (s.outcome) {
    case SelectionOutcome::Selected:
      return "selected " + s.chosen.value_or("") + " (" + to_string(s.chosen_scope) + ")" + of +
             rejected;
    case SelectionOutcome::Ambiguous:
      return "ambiguous: " + std::to_string(s.tied.size()) + " templates tie at the best score (" +
             join(s.tied, ", ") + ")" + of;
    case SelectionOutcome::NoCandidates:
      return "no templates for this model";
    case SelectionOutcome::NoneReady:
      return "no template selected" + of + ": none is Ready";
    case SelectionOutcome::NoMatch:
      return "no template selected" + of + rejected;
  }
  return "";
}

}  // namespace aim::engine
