// Template auto-selection for an AIMService without spec.template.name (seed 001 "Auto-Selection",
// behavior.md §4.5, spec README §3).
//
// Six stages: (1) Ready only; (2) optimized only unless allowUnoptimized; (3) override matching;
// (4) GPU present in the cluster; (5) namespace scope over cluster scope; (6) preference scoring
// (profile type, GPU tier, metric, precision, in the seed's order). A tie at the best score is an
// ambiguity naming the tied templates, never a silent pick.
//
// The result explains itself: every candidate gets an outcome (chosen, or the stage and a short
// reason it lost), bounded for status (selection_to_json) and a one-line summary for events/CLI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aim::engine {

enum class TemplateScope { Namespace, Cluster };
const char* to_string(TemplateScope s);  // "Namespace" / "Cluster"

// One AIMServiceTemplate / AIMClusterServiceTemplate whose spec.modelName is the resolved model.
// Spec and profile values are given separately; the engine applies the fallbacks (spec first for
// the GPU, profile first for metric and precision, as the reference does).
struct TemplateCandidate {
  std::string name;
  TemplateScope scope = TemplateScope::Namespace;
  std::string status;  // status.status ("Ready", "Pending", "NotAvailable", ...)

  bool has_profile = false;  // status.profile present
  std::string profile_type;  // status.profile.metadata.type
  std::string profile_metric;
  std::string profile_precision;
  std::string profile_gpu;
  int32_t profile_gpu_count = 0;

  std::string spec_metric;
  std::string spec_precision;
  std::string spec_gpu_model;  // spec.hardware.gpu.model
  int32_t spec_gpu_count = 0;  // spec.hardware.gpu.requests
};

// The candidate's effective values.
std::string effective_metric(const TemplateCandidate& c);     // profile metric, else spec metric
std::string effective_precision(const TemplateCandidate& c);  // profile precision, else spec
std::string effective_gpu_model(const TemplateCandidate& c);  // spec gpu model, else profile gpu
int32_t effective_gpu_count(const TemplateCandidate& c);      // spec requests, else profile count
// "optimized" / "preview" / "unoptimized" / other; a missing profile counts as "unoptimized".
std::string effective_profile_type(const TemplateCandidate& c);

// spec.overrides of the service; empty strings / 0 mean "not set".
struct SelectionOverrides {
  std::string metric;
  std::string precision;
  std::string gpu_model;
  int32_t gpu_count = 0;
  bool empty() const {
    return metric.empty() && precision.empty() && gpu_model.empty() && gpu_count <= 0;
  }
};

struct SelectionInput {
  std::string model_name;  // for messages
  bool allow_unoptimized = false;
  std::optional<SelectionOverrides> overrides;
  // GPU models present in the cluster (any spelling; normalized by the engine).
  std::set<std::string> cluster_gpus;
  std::vector<TemplateCandidate> candidates;
};

enum class SelectionOutcome {
  Selected,      // exactly one best candidate
  NoCandidates,  // the model has no templates at all
  NoneReady,     // templates exist but none is Ready (stage 1 emptied the list)
  NoMatch,       // stages 2 to 4 emptied the list
  Ambiguous,     // several candidates share the best score
};
const char* to_string(SelectionOutcome o);

struct CandidateVerdict {
  std::string name;
  TemplateScope scope = TemplateScope::Namespace;
  bool chosen = false;
  int stage = 0;       // stage that rejected it (1-6); 0 when chosen
  std::string reason;  // "stage 4: GPU MI355X not present in cluster" (<= 120 characters)
};

struct TemplateSelection {
  SelectionOutcome outcome = SelectionOutcome::NoCandidates;
  std::optional<std::string> chosen;  // set only when Selected
  TemplateScope chosen_scope = TemplateScope::Namespace;
  std::vector<std::string> tied;  // names tied at the best score (Ambiguous), sorted
  // Every candidate, deterministic order: chosen first, then by the stage reached (latest first),
  // then namespace before cluster, then name.
  std::vector<CandidateVerdict> verdicts;
  // Condition reason and message for the Template component when not Selected:
  // TemplateSelectionAmbiguous, TemplateNotReady or TemplateNotFound.
  std::string reason;
  std::string message;
};

TemplateSelection select_template(const SelectionInput& in);

// The status shape (an additive extension, `status.templateSelection`):
//   {outcome, chosen?, chosenScope?, summary, candidates: [{name, scope, status: chosen|rejected,
//    stage?, reason?}], omittedCandidates?}
// At most `max_candidates` entries; the rest are counted in omittedCandidates.
nlohmann::json selection_to_json(const TemplateSelection& s, std::size_t max_candidates = 20);

// One line for events and the CLI, e.g. "selected llama-mi300x-fp8 (Namespace) from 5 candidates;
// rejected: 1 not Ready, 2 GPU not in cluster, 1 lower preference".
std::string selection_summary(const TemplateSelection& s);

// Preference ranks (lower is better), exposed for tests and the CLI.
int profile_type_rank(std::string_view type);
int gpu_tier_rank(std::string_view gpu_model);
int metric_rank(std::string_view metric);
int precision_rank(std::string_view precision);

}  // namespace aim::engine
