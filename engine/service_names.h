// Names of the objects an AIMService creates (behavior.md §4.9) and the small text rules they
// rest on: the reference's "derived name" algorithm (RFC-1123 parts + a SHA-256 hash over
// Go-JSON-encoded inputs, shortened to a maximum length), label-value sanitizing and GPU model
// normalization.
//
// These live in their own namespace so that a catalog-side copy of the generic algorithm cannot
// collide at link time; the two must agree byte for byte (tests pin the worked examples).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aim::engine::service_names {

// One name part made RFC-1123-ish: lowercase, every character outside [a-z0-9-] becomes '-'
// (one for one), '-' trimmed at both ends, cut to 63, trailing '-' trimmed; empty -> "part".
std::string rfc1123_part(std::string_view s);

// The JSON text Go's encoding/json produces for `v` (HTML-safe escaping of < > &, sorted
// object keys, \u00XX for control characters).
std::string go_json(const nlohmann::json& v);

// Derived-name algorithm (behavior.md §4.9): parts joined with '-', then "-<hash>" where the
// hash is the first `hash_len` hex characters of SHA-256 over the Go-JSON encodings of
// `hash_inputs` joined by '|'. No hash when `hash_inputs` is empty or `hash_len` is 0. While
// too long, the longest part (first on ties) loses one character.
std::string derived_name(std::vector<std::string> parts,
                         const std::vector<nlohmann::json>& hash_inputs, std::size_t hash_len = 8,
                         std::size_t max_len = 63);

// Label value sanitizing: lowercase, runs outside [a-z0-9._-] become '_', "_.-" trimmed at both
// ends, cut to 63. An empty result is an error.
Result<std::string, std::string> sanitize_label_value(std::string_view s);

// GPU model normalization ("Instinct-MI325X" -> "MI325X", "mi300x (rev 2)" -> "MI300X").
std::string normalize_gpu_model(std::string_view s);

// InferenceService name: derived_name([service], [namespace], 8, 63 - 11 - len(namespace)).
// Fails when the namespace is longer than 42 characters (the predictor host name would not fit).
Result<std::string, std::string> inference_service_name(std::string_view service,
                                                        std::string_view ns);

// HTTPRoute name: derived_name([service], [namespace]).
std::string http_route_name(std::string_view service, std::string_view ns);

// AIMTemplateCache created by a service. Shared: [template] hashed with the namespace.
// Dedicated: [template, service] hashed with the service UID.
std::string shared_template_cache_name(std::string_view template_name, std::string_view ns);
std::string dedicated_template_cache_name(std::string_view template_name, std::string_view service,
                                          std::string_view service_uid);

// The service-owned PVC used when caching is Never or while Auto waits for its cache
// (extension: the reference always waits for a template cache). [service, "model-cache"]
// hashed with the service UID.
std::string service_pvc_name(std::string_view service, std::string_view service_uid);

}  // namespace aim::engine::service_names
