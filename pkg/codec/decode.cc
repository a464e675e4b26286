// Tree -> DeploymentColor, strictly: unknown and duplicate fields, wrong types and missing
// required fields are problems with the field's path and position. Then defaults and
// validation, whose field paths are mapped back to positions.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/api/validation.h"
#include "pkg/codec/schema.h"
#include "pkg/codec/tree.h"

namespace sy::codec::internal {
namespace {

using Kind = TreeNode::Kind;

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", std::string(key));
}

// What a node is, for "got ..." in messages. `typed`: say that a scalar was quoted, for
// fields whose value quoting changes (numbers and booleans).
std::string Got(const TreeNode& n, bool typed) {
  switch (n.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kSequence:
      return "a sequence";
    case Kind::kMapping:
      return "a mapping";
    case Kind::kScalar:
      break;
  }
  return n.quoted && typed ? "the string " + api::QuoteValue(n.scalar) : api::QuoteValue(n.scalar);
}

// Problems of one document, and where each field path was found.
class Context {
 public:
  explicit Context(std::string_view file) : file_(file) {}

  void Add(int line, int column, const std::string& field, std::string message) {
    problems_.push_back(Problem{file_, line, column, field, std::move(message)});
    fields_.insert(field);
  }
  void Add(const TreeNode& at, const std::string& field, std::string message) {
    Add(at.line, at.column, field, std::move(message));
  }
  void Expected(const TreeNode& at, const std::string& field, std::string_view want,
                bool typed = false) {
    Add(at, field, absl::StrCat("must be ", std::string(want), ", got ", Got(at, typed)));
  }
  void Found(const std::string& field, const TreeNode& at) {
    if (at.line > 0) positions_[field] = {at.line, at.column};
  }

  // Adds a validation error at the position of its field (or of its nearest ancestor
  // present in the document), unless decoding reported a problem at or above that field
  // already: a value that could not be decoded is not validated again.
  void AddValidation(const api::FieldError& e) {
    if (Climb(e.field, [&](const std::string& f) { return fields_.count(f) > 0; })) return;
    std::pair<int, int> at{0, 0};
    Climb(e.field, [&](const std::string& f) {
      auto it = positions_.find(f);
      if (it != positions_.end()) at = it->second;
      return it != positions_.end();
    });
    problems_.push_back(Problem{file_, at.first, at.second, e.field, e.message});
  }

  std::vector<Problem> TakeProblems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    return std::move(problems_);
  }

 private:
  // Calls `visit` on `field` and then on each ancestor ("a.b[2]", "a.b", "a", "") until it
  // returns true. Map keys in brackets may hold dots.
  template <typename F>
  static bool Climb(std::string field, F&& visit) {
    while (!visit(field)) {
      if (field.empty()) return false;
      const size_t cut = field.back() == ']' ? field.rfind('[') : field.rfind('.');
      field.resize(cut == std::string::npos ? 0 : cut);
    }
    return true;
  }

  std::string file_;
  std::vector<Problem> problems_;
  std::set<std::string> fields_;  // fields with a decoding problem
  std::map<std::string, std::pair<int, int>> positions_;
};

template <typename T>
void Decode(Context& ctx, const TreeNode& n, const std::string& path, T& out);
template <typename F>
void DecodeMapping(Context& ctx, const TreeNode& n, const std::string& path, F&& fields);

// Reads the fields of one mapping, in schema order; reports what is left over.
class MapDecoder {
 public:
  MapDecoder(Context& ctx, const TreeNode& map, std::string path)
      : ctx_(ctx), map_(map), path_(std::move(path)), used_(map.entries.size(), false) {
    std::set<std::string> seen;
    for (size_t i = 0; i < map_.entries.size(); ++i) {
      const TreeNode& key = *map_.entries[i].key;
      if (key.kind != Kind::kScalar) {
        ctx_.Expected(key, path_, "a field name");
        used_[i] = true;
      } else if (!seen.insert(key.scalar).second) {
        ctx_.Add(key, Join(path_, key.scalar),
                 absl::StrCat("duplicate field ", api::QuoteValue(key.scalar)));
        used_[i] = true;
      }
    }
  }

  template <typename T>
  void Field(std::string_view key, T& out, unsigned flags = kOptional) {
    if (const TreeNode* value = Take(key, flags)) Decode(ctx_, *value, Join(path_, key), out);
  }

  template <typename F>
  void Group(std::string_view key, unsigned flags, F&& fields) {
    if (const TreeNode* value = Take(key, flags)) {
      DecodeMapping(ctx_, *value, Join(path_, key), std::forward<F>(fields));
    }
  }

  void Finish() {
    for (size_t i = 0; i < map_.entries.size(); ++i) {
      if (used_[i]) continue;
      const TreeNode& key = *map_.entries[i].key;
      ctx_.Add(key, Join(path_, key.scalar),
               absl::StrCat("unknown field ", api::QuoteValue(key.scalar)));
    }
  }

 private:
  // The value of `key`, or null when absent or null (a problem when required).
  const TreeNode* Take(std::string_view key, unsigned flags) {
    for (size_t i = 0; i < map_.entries.size(); ++i) {
      const Entry& e = map_.entries[i];
      if (used_[i] || e.key->kind != Kind::kScalar || e.key->scalar != key) continue;
      used_[i] = true;
      if (e.value->kind != Kind::kNull) return e.value.get();
      ctx_.Found(Join(path_, key), *e.key);  // null is absent, but has a place
      break;
    }
    if (flags & kRequired) ctx_.Add(map_, Join(path_, key), "required field missing");
    return nullptr;
  }

  Context& ctx_;
  const TreeNode& map_;
  std::string path_;
  std::vector<bool> used_;
};

// Decodes mapping `n` by calling `fields` with a MapDecoder on it.
template <typename F>
void DecodeMapping(Context& ctx, const TreeNode& n, const std::string& path, F&& fields) {
  if (n.kind != Kind::kMapping) return ctx.Expected(n, path, "a mapping");
  MapDecoder decoder(ctx, n, path);
  fields(decoder);
  decoder.Finish();
}

// What a scalar field of type T must be, for messages.
template <typename T>
std::string Want() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "a string";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else if constexpr (std::is_same_v<T, api::Color>) {
    return "\"blue\" or \"green\"";
  } else if constexpr (std::is_same_v<T, api::RejoinMethod>) {
    return "\"auto\" or \"basebackup\"";
  } else if constexpr (std::is_same_v<T, api::SynchronousReplication>) {
    return "\"unmanaged\", \"preferred\" or \"required\"";
  } else {
    static_assert(std::is_integral_v<T>, "no decoder for this type");
    return "an integer";
  }
}

// Reads scalar `n` into `out`; returns what it must be instead when it is not a valid T.
template <typename T>
std::optional<std::string> Scalar(const TreeNode& n, T& out) {
  const std::string& s = n.scalar;
  if constexpr (std::is_same_v<T, std::string>) {
    out = s;
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, bool>) {
    // YAML 1.2 core schema: "yes", "on" and friends are not booleans.
    const bool yes = s == "true" || s == "True" || s == "TRUE";
    if (n.quoted || !(yes || s == "false" || s == "False" || s == "FALSE")) return Want<T>();
    out = yes;
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, api::Color>) {
    const auto c = api::ParseColor(s);
    if (!c) return Want<T>();
    out = *c;
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, api::RejoinMethod>) {
    const auto m = api::ParseRejoinMethod(s);
    if (!m) return Want<T>();
    out = *m;
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, api::SynchronousReplication>) {
    const auto m = api::ParseSynchronousReplication(s);
    if (!m) return Want<T>();
    out = *m;
    return std::nullopt;
  } else {
    const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (n.quoted || s.size() == sign ||
        !std::all_of(s.begin() + sign, s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Want<T>();
    }
    if (!absl::SimpleAtoi(s, &out)) {
      return absl::StrCat("an integer in ", std::numeric_limits<T>::min(), "..",
                          std::numeric_limits<T>::max());
    }
    return std::nullopt;
  }
}

template <typename T>
void Decode(Context& ctx, const TreeNode& n, const std::string& path, T& out) {
  ctx.Found(path, n);
  if (!n.bad_tag.empty()) {
    ctx.Add(n, path, absl::StrCat("unsupported YAML tag ", api::QuoteValue(n.bad_tag)));
    return;
  }
  if constexpr (IsOptional<T>::value) {
    Decode(ctx, n, path, out.emplace());
  } else if constexpr (IsVector<T>::value) {
    if (n.kind != Kind::kSequence) return ctx.Expected(n, path, "a sequence");
    out.resize(n.items.size());
    for (size_t i = 0; i < n.items.size(); ++i) {
      Decode(ctx, *n.items[i], absl::StrCat(path, "[", i, "]"), out[i]);
    }
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    if (n.kind != Kind::kMapping) return ctx.Expected(n, path, "a mapping");
    for (const Entry& e : n.entries) {
      if (e.key->kind != Kind::kScalar) {
        ctx.Expected(*e.key, path, "a string key");
        continue;
      }
      if (!ValidUtf8(e.key->scalar)) {
        ctx.Add(*e.key, path, "keys must be valid UTF-8 text");
        continue;
      }
      const std::string at = absl::StrCat(path, "[", e.key->scalar, "]");
      if (out.count(e.key->scalar) > 0) {
        ctx.Add(*e.key, at, absl::StrCat("duplicate key ", api::QuoteValue(e.key->scalar)));
        continue;
      }
      Decode(ctx, *e.value, at, out[e.key->scalar]);
    }
  } else if constexpr (Described<T>) {
    DecodeMapping(ctx, n, path, [&](MapDecoder& fields) { Describe(fields, out); });
  } else {
    if (n.kind != Kind::kScalar) return ctx.Expected(n, path, Want<T>());
    // (Not quoted back: the bytes are not text.)
    if (!ValidUtf8(n.scalar)) return ctx.Add(n, path, "must be valid UTF-8 text");
    if (auto want = Scalar(n, out)) ctx.Expected(n, path, *want, std::is_arithmetic_v<T>);
  }
}

}  // namespace

DecodedDocument DecodeDocument(const ParsedDocument& parsed, std::string_view file) {
  DecodedDocument doc;
  doc.index = parsed.index;
  doc.line = parsed.line;
  if (!parsed.problems.empty()) {
    doc.problems = parsed.problems;
    return doc;
  }
  const TreeNode null_node;  // an empty document: "must be a mapping, got null"
  Context ctx(file);
  Decode(ctx, parsed.root != nullptr ? *parsed.root : null_node, "", doc.object);
  api::ApplyDefaults(&doc.object);
  for (const api::FieldError& e : api::Validate(doc.object)) ctx.AddValidation(e);
  doc.problems = ctx.TakeProblems();
  return doc;
}

}  // namespace sy::codec::internal
