// The reflection DSL that drives the whole AIM API layer.
//
// Every API struct declares its fields once, in `static void describe(Fields<T>&)`:
//
//   static void describe(Fields<GpuRequirements>& f) {
//     f.doc("GPU needs of one replica.");
//     f.cel("!(has(self.model) && ...)", "model and minVram are mutually exclusive; ...");
//     f.field("requests", &GpuRequirements::requests, "GPUs per replica.").minimum(0);
//     f.field("resourceName", &GpuRequirements::resource_name, "...").default_value("amd.com/gpu");
//   }
//
// Generic code walks that table for JSON decoding and encoding (nlohmann::json), defaulting and
// OpenAPI v3 schema emission; the CRD generator and the docs generator walk the schemas. A struct
// also declares `nlohmann::json extra;` which keeps every key the table does not know, so decoding
// and re-encoding never loses data written by a newer client.
//
// Member types and their wire meaning:
//   std::optional<X>            optional key; presence is kept ("false" differs from "absent")
//   std::string/bool/int32_t/int64_t (plain)  required scalar, always emitted
//   plain described struct, std::vector, std::map  emitted only when non-empty (Go omitempty)
//   Quantity                     int-or-string with the Kubernetes quantity pattern
//   nlohmann::json               free-form JSON (x-kubernetes-preserve-unknown-fields)
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace aim::api {

using Json = nlohmann::json;

// A validation rule (CEL `x-kubernetes-validations` entry).
struct CelRule {
  std::string rule;
  std::string message;
};

// Everything a field declaration can say beyond its C++ type.
struct FieldOptions {
  std::string description;
  bool required = false;
  std::optional<Json> default_value;
  std::vector<std::string> enum_values;
  bool enum_all_of = false;  // emit as allOf: [{enum}, {enum}] like controller-gen does
  std::optional<std::string> pattern;
  std::optional<std::string> format;  // overrides the type's format; "" removes it
  std::optional<int64_t> min_length, max_length, minimum, maximum, min_items, max_items;
  std::optional<std::string> list_type;  // "map", "set", "atomic"
  std::vector<std::string> list_map_keys;
  std::optional<std::string> map_type;  // "atomic", "granular"
  std::vector<CelRule> rules;
  std::optional<std::string> immutable_message;  // set by immutable()
  std::string extension;  // non-empty: an aim-engine extension, with the reason
  bool deprecated = false;
};

// An immutable field below a type, as the JSON keys leading to it ({"overrides", "metric"}).
struct ImmutablePath {
  std::vector<std::string> keys;
  std::string message;
};

// The CEL rule that keeps the presence of `keys` (below self) as it was: a transition rule on the
// enclosing object, so removing the field, adding it back or adding it for the first time is
// rejected with `message`. A `self == oldSelf` rule on the field itself only runs while the field
// exists both before and after the update, so it cannot see any of these three.
std::string presence_rule(const std::vector<std::string>& keys);
// True for the rules presence_rule() writes.
inline bool is_presence_rule(std::string_view rule) {
  return rule.find("has(oldSelf.") != std::string_view::npos;
}

struct DecodeContext {
  std::string error;  // first error; empty when decoding succeeded
  void fail(const std::string& path, const std::string& what) {
    if (error.empty()) error = (path.empty() ? std::string("<root>") : path) + ": " + what;
  }
};

// Marker prefix used in descriptions of fields and kinds that extend the reference API.
inline constexpr std::string_view kExtensionMarker = "[aim-engine extension]";

template <class T>
class Fields;

template <class T>
concept Described = requires(Fields<T>& f) {
  T::describe(f);
  { std::declval<T&>().extra } -> std::convertible_to<Json&>;
};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};

// Kubernetes resource quantity: kept verbatim (number or string) so it round-trips exactly.
struct Quantity {
  Json value;  // a JSON string or number
  Quantity() = default;
  Quantity(std::string s) : value(std::move(s)) {}    // NOLINT(google-explicit-constructor)
  Quantity(const char* s) : value(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Quantity(int64_t n) : value(n) {}                   // NOLINT(google-explicit-constructor)
  std::string str() const { return value.is_string() ? value.get<std::string>() : value.dump(); }
  bool operator==(const Quantity& o) const { return value == o.value; }
};

inline constexpr std::string_view kQuantityPattern =
    R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";

template <class M>
struct Codec;  // decode / encode / schema / defaults / emptiness for one member type

namespace detail {
Json apply_field_options(Json schema, const FieldOptions& o);
}  // namespace detail

// One declared field, type-erased over the member type.
template <class T>
struct FieldEntry {
  std::string name;
  FieldOptions opts;
  std::function<void(const Json&, T&, DecodeContext&, const std::string&)> decode;
  std::function<void(const T&, Json&, const FieldOptions&)> encode;
  std::function<Json()> schema;  // schema of the member type, before field options
  std::function<void(T&, const FieldOptions&)> apply_defaults;
  std::function<std::vector<ImmutablePath>()> immutable_paths;  // below the member type
};

template <class M>
std::vector<ImmutablePath> immutable_paths_of() {
  if constexpr (requires { Codec<M>::immutable_paths(); })
    return Codec<M>::immutable_paths();
  else
    return {};
}

// Fluent handle returned by Fields<T>::field(); every call edits the field's options.
class FieldBuilder {
 public:
  explicit FieldBuilder(FieldOptions& o) : o_(o) {}
  FieldBuilder& required() {
    o_.required = true;
    return *this;
  }
  FieldBuilder& default_value(Json v) {
    o_.default_value = std::move(v);
    return *this;
  }
  FieldBuilder& enums(std::vector<std::string> v) {
    o_.enum_values = std::move(v);
    return *this;
  }
  FieldBuilder& enums_all_of(std::vector<std::string> v) {
    o_.enum_values = std::move(v);
    o_.enum_all_of = true;
    return *this;
  }
  FieldBuilder& pattern(std::string p) {
    o_.pattern = std::move(p);
    return *this;
  }
  FieldBuilder& format(std::string f) {
    o_.format = std::move(f);
    return *this;
  }
  FieldBuilder& min_length(int64_t v) {
    o_.min_length = v;
    return *this;
  }
  FieldBuilder& max_length(int64_t v) {
    o_.max_length = v;
    return *this;
  }
  FieldBuilder& minimum(int64_t v) {
    o_.minimum = v;
    return *this;
  }
  FieldBuilder& maximum(int64_t v) {
    o_.maximum = v;
    return *this;
  }
  FieldBuilder& min_items(int64_t v) {
    o_.min_items = v;
    return *this;
  }
  FieldBuilder& max_items(int64_t v) {
    o_.max_items = v;
    return *this;
  }
  FieldBuilder& list_map(std::vector<std::string> keys) {
    o_.list_type = "map";
    o_.list_map_keys = std::move(keys);
    return *this;
  }
  FieldBuilder& list_type(std::string t) {
    o_.list_type = std::move(t);
    return *this;
  }
  FieldBuilder& map_type(std::string t) {
    o_.map_type = std::move(t);
    return *this;
  }
  FieldBuilder& cel(std::string rule, std::string message) {
    o_.rules.push_back({std::move(rule), std::move(message)});
    return *this;
  }
  // Immutable once the object exists: the value never changes (the CEL transition rule
  // `self == oldSelf` on the field), and it is never added or removed (presence rules the
  // enclosing types emit, see presence_rule()).
  FieldBuilder& immutable(std::string message) {
    o_.immutable_message = message;
    return cel("self == oldSelf", std::move(message));
  }
  // Marks the field as an aim-engine extension of the reference API (documented as such).
  FieldBuilder& extension(std::string why) {
    o_.extension = std::move(why);
    return *this;
  }
  FieldBuilder& deprecated() {
    o_.deprecated = true;
    return *this;
  }

 private:
  FieldOptions& o_;
};

template <class T>
class Fields {
 public:
  // Declares one JSON key bound to a data member.
  template <class M>
  FieldBuilder field(std::string_view json_name, M T::*member, std::string_view description) {
    FieldEntry<T> e;
    e.name = std::string(json_name);
    e.opts.description = std::string(description);
    e.decode = [member](const Json& j, T& obj, DecodeContext& ctx, const std::string& path) {
      Codec<M>::decode(j, obj.*member, ctx, path);
    };
    e.encode = [member, name = e.name](const T& obj, Json& out, const FieldOptions& opts) {
      // Plain (non-optional) containers and structs follow Go's omitempty, unless required.
      if (Codec<M>::omit(obj.*member) && (is_optional<M>::value || !opts.required)) return;
      out[name] = Codec<M>::encode(obj.*member);
    };
    e.schema = [] { return Codec<M>::schema(); };
    e.immutable_paths = [] { return immutable_paths_of<M>(); };
    e.apply_defaults = [member](T& obj, const FieldOptions& opts) {
      if constexpr (is_optional<M>::value) {
        if (!(obj.*member) && opts.default_value) {
          DecodeContext ignored;
          typename M::value_type v{};
          Codec<typename M::value_type>::decode(*opts.default_value, v, ignored, "");
          obj.*member = std::move(v);
        }
      }
      Codec<M>::apply_defaults(obj.*member);
    };
    entries_.push_back(std::move(e));
    return FieldBuilder(entries_.back().opts);
  }

  // Type-level documentation, CEL rules and map type (applied wherever the type is used).
  void doc(std::string_view d) { description_ = std::string(d); }
  void cel(std::string rule, std::string message) {
    rules_.push_back({std::move(rule), std::move(message)});
  }
  void map_type(std::string t) { map_type_ = std::move(t); }

  const std::vector<FieldEntry<T>>& entries() const { return entries_; }
  std::vector<FieldEntry<T>>& entries() { return entries_; }
  const std::string& description() const { return description_; }
  const std::vector<CelRule>& rules() const { return rules_; }
  const std::optional<std::string>& type_map_type() const { return map_type_; }

  Fields() = default;
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

 private:
  std::vector<FieldEntry<T>> entries_;
  std::string description_;
  std::vector<CelRule> rules_;
  std::optional<std::string> map_type_;
};

// The field table of a described type, built once.
template <Described T>
const Fields<T>& fields_of() {
  static const Fields<T>* table = [] {
    auto* f = new Fields<T>();  // intentionally immortal: used from static destructors too
    T::describe(*f);
    return f;
  }();
  return *table;
}

// ---- codecs -------------------------------------------------------------------------------

template <>
struct Codec<std::string> {
  static void decode(const Json& j, std::string& out, DecodeContext& ctx, const std::string& p) {
    if (j.is_string())
      out = j.get<std::string>();
    else if (!j.is_null())
      ctx.fail(p, "expected a string");
  }
  static Json encode(const std::string& v) { return v; }
  static bool omit(const std::string&) { return false; }
  static Json schema() { return {{"type", "string"}}; }
  static void apply_defaults(std::string&) {}
};

template <>
struct Codec<bool> {
  static void decode(const Json& j, bool& out, DecodeContext& ctx, const std::string& p) {
    if (j.is_boolean())
      out = j.get<bool>();
    else if (!j.is_null())
      ctx.fail(p, "expected a boolean");
  }
  static Json encode(bool v) { return v; }
  static bool omit(bool) { return false; }
  static Json schema() { return {{"type", "boolean"}}; }
  static void apply_defaults(bool&) {}
};

template <class I>
requires(std::is_same_v<I, int32_t> || std::is_same_v<I, int64_t>) struct Codec<I> {
  static void decode(const Json& j, I& out, DecodeContext& ctx, const std::string& p) {
    if (j.is_number_unsigned() &&
        j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<I>::max())) {
      ctx.fail(p, "integer out of range");
    } else if (j.is_number_integer()) {
      const int64_t v = j.get<int64_t>();
      if (v < std::numeric_limits<I>::min() || v > std::numeric_limits<I>::max()) {
        ctx.fail(p, "integer out of range");
      } else {
        out = static_cast<I>(v);
      }
    } else if (j.is_number_float()) {
      // Some clients write 2.0 for 2; accept exact integral values in range.
      const double d = j.get<double>();
      if (d >= static_cast<double>(std::numeric_limits<I>::min()) &&
          d < static_cast<double>(std::numeric_limits<I>::max()) &&
          d == static_cast<double>(static_cast<I>(d))) {
        out = static_cast<I>(d);
      } else {
        ctx.fail(p, "expected an integer");
      }
    } else if (!j.is_null()) {
      ctx.fail(p, "expected an integer");
    }
  }
  static Json encode(I v) { return v; }
  static bool omit(I) { return false; }
  static Json schema() {
    return {{"type", "integer"}, {"format", std::is_same_v<I, int32_t> ? "int32" : "int64"}};
  }
  static void apply_defaults(I&) {}
};

template <>
struct Codec<Quantity> {
  static void decode(const Json& j, Quantity& out, DecodeContext& ctx, const std::string& p) {
    if (j.is_string() || j.is_number())
      out.value = j;
    else if (!j.is_null())
      ctx.fail(p, "expected a quantity (integer or string)");
  }
  static Json encode(const Quantity& v) { return v.value; }
  static bool omit(const Quantity&) { return false; }
  static Json schema() {
    return {{"anyOf", Json::array({{{"type", "integer"}}, {{"type", "string"}}})},
            {"pattern", std::string(kQuantityPattern)},
            {"x-kubernetes-int-or-string", true}};
  }
  static void apply_defaults(Quantity&) {}
};

template <>
struct Codec<Json> {  // free-form JSON
  static void decode(const Json& j, Json& out, DecodeContext&, const std::string&) { out = j; }
  static Json encode(const Json& v) { return v; }
  static bool omit(const Json& v) { return v.is_null(); }
  static Json schema() { return {{"x-kubernetes-preserve-unknown-fields", true}}; }
  static void apply_defaults(Json&) {}
};

template <class X>
struct Codec<std::optional<X>> {
  static void decode(const Json& j, std::optional<X>& out, DecodeContext& ctx,
                     const std::string& p) {
    if (j.is_null()) {
      out.reset();
      return;
    }
    X v{};
    Codec<X>::decode(j, v, ctx, p);
    out = std::move(v);
  }
  static Json encode(const std::optional<X>& v) { return Codec<X>::encode(*v); }
  static bool omit(const std::optional<X>& v) { return !v.has_value(); }
  static Json schema() { return Codec<X>::schema(); }
  static std::vector<ImmutablePath> immutable_paths() { return immutable_paths_of<X>(); }
  static void apply_defaults(std::optional<X>& v) {
    if (v) Codec<X>::apply_defaults(*v);
  }
};

template <class X, class A>
struct Codec<std::vector<X, A>> {
  static void decode(const Json& j, std::vector<X, A>& out, DecodeContext& ctx,
                     const std::string& p) {
    out.clear();
    if (j.is_null()) return;
    if (!j.is_array()) {
      ctx.fail(p, "expected an array");
      return;
    }
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      X v{};
      Codec<X>::decode(j[i], v, ctx, p + "[" + std::to_string(i) + "]");
      out.push_back(std::move(v));
    }
  }
  static Json encode(const std::vector<X, A>& v) {
    Json a = Json::array();
    for (const auto& x : v) a.push_back(Codec<X>::encode(x));
    return a;
  }
  static bool omit(const std::vector<X, A>& v) { return v.empty(); }
  static Json schema() { return {{"type", "array"}, {"items", Codec<X>::schema()}}; }
  static void apply_defaults(std::vector<X, A>& v) {
    for (auto& x : v) Codec<X>::apply_defaults(x);
  }
};

template <class X, class C, class A>
struct Codec<std::map<std::string, X, C, A>> {
  using Map = std::map<std::string, X, C, A>;
  static void decode(const Json& j, Map& out, DecodeContext& ctx, const std::string& p) {
    out.clear();
    if (j.is_null()) return;
    if (!j.is_object()) {
      ctx.fail(p, "expected an object");
      return;
    }
    for (const auto& [k, v] : j.items()) {
      X x{};
      Codec<X>::decode(v, x, ctx, p + "." + k);
      out.emplace(k, std::move(x));
    }
  }
  static Json encode(const Map& m) {
    Json o = Json::object();
    for (const auto& [k, v] : m) o[k] = Codec<X>::encode(v);
    return o;
  }
  static bool omit(const Map& m) { return m.empty(); }
  static Json schema() {
    return {{"type", "object"}, {"additionalProperties", Codec<X>::schema()}};
  }
  static void apply_defaults(Map& m) {
    for (auto& [k, v] : m) Codec<X>::apply_defaults(v);
  }
};

template <Described T>
struct Codec<T> {
  static void decode(const Json& j, T& out, DecodeContext& ctx, const std::string& p) {
    if (j.is_null()) return;
    if (!j.is_object()) {
      ctx.fail(p, "expected an object");
      return;
    }
    const auto& fields = fields_of<T>();
    out.extra = Json::object();
    for (const auto& [k, v] : j.items()) {
      bool known = false;
      for (const auto& f : fields.entries()) {
        if (f.name == k) {
          f.decode(v, out, ctx, p.empty() ? k : p + "." + k);
          known = true;
          break;
        }
      }
      if (!known) out.extra[k] = v;  // unknown keys are kept verbatim
    }
  }
  static Json encode(const T& v) {
    Json o = Json::object();
    if (v.extra.is_object()) o = v.extra;
    for (const auto& f : fields_of<T>().entries()) f.encode(v, o, f.opts);
    return o;
  }
  static bool omit(const T& v) { return encode(v).empty(); }
  static Json schema() {
    const auto& fields = fields_of<T>();
    Json s = {{"type", "object"}};
    if (!fields.description().empty()) s["description"] = fields.description();
    Json props = Json::object();
    Json required = Json::array();
    for (const auto& f : fields.entries()) {
      props[f.name] = detail::apply_field_options(f.schema(), f.opts);
      if (f.opts.required) required.push_back(f.name);
    }
    if (!props.empty()) s["properties"] = props;
    if (!required.empty()) {
      std::vector<std::string> r = required.get<std::vector<std::string>>();
      std::sort(r.begin(), r.end());
      s["required"] = r;
    }
    if (fields.type_map_type()) s["x-kubernetes-map-type"] = *fields.type_map_type();
    Json rules = Json::array();
    for (const auto& r : fields.rules())
      rules.push_back({{"rule", r.rule}, {"message", r.message}});
    // A required field is always present; below an optional one, presence is what can change.
    for (const auto& f : fields.entries()) {
      if (f.opts.required) continue;
      for (const auto& p : paths_through(f))
        rules.push_back({{"rule", presence_rule(p.keys)}, {"message", p.message}});
    }
    if (!rules.empty()) s["x-kubernetes-validations"] = rules;
    return s;
  }
  // Every immutable field at or below this type, as paths from it.
  static std::vector<ImmutablePath> immutable_paths() {
    std::vector<ImmutablePath> out;
    for (const auto& f : fields_of<T>().entries()) {
      auto p = paths_through(f);
      out.insert(out.end(), p.begin(), p.end());
    }
    return out;
  }
  // The immutable paths that start with field f: f itself, then those below it.
  static std::vector<ImmutablePath> paths_through(const FieldEntry<T>& f) {
    std::vector<ImmutablePath> out;
    if (f.opts.immutable_message) out.push_back({{f.name}, *f.opts.immutable_message});
    for (auto p : f.immutable_paths()) {
      p.keys.insert(p.keys.begin(), f.name);
      out.push_back(std::move(p));
    }
    return out;
  }
  static void apply_defaults(T& v) {
    for (const auto& f : fields_of<T>().entries()) f.apply_defaults(v, f.opts);
  }
};

// ---- public entry points ------------------------------------------------------------------

template <class T>
struct Decoded {
  std::optional<T> value;
  std::string error;  // "<path>: <what>" when value is empty
  explicit operator bool() const { return value.has_value(); }
};

// Decodes a JSON value. Unknown keys are preserved; a type mismatch on a known key is an error.
template <class T>
Decoded<T> decode(const Json& j) {
  Decoded<T> out;
  T v{};
  DecodeContext ctx;
  Codec<T>::decode(j, v, ctx, "");
  if (!ctx.error.empty()) {
    out.error = ctx.error;
    return out;
  }
  out.value = std::move(v);
  return out;
}

template <class T>
Json encode(const T& v) {
  return Codec<T>::encode(v);
}

// Applies the schema defaults the API server would apply (structural defaulting).
template <class T>
void apply_defaults(T& v) {
  Codec<T>::apply_defaults(v);
}

// The OpenAPI v3 schema of a type.
template <class T>
Json schema_of() {
  return Codec<T>::schema();
}

}  // namespace aim::api
