// DeploymentColor -> tree -> YAML (yaml-cpp Emitter, block style) or JSON (nlohmann,
// fields in schema order).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/codec/schema.h"
#include "pkg/codec/tree.h"
#include "yaml-cpp/emitter.h"
#include "yaml-cpp/emittermanip.h"

namespace sy::codec::internal {
namespace {

using Kind = TreeNode::Kind;

std::shared_ptr<TreeNode> Make(Kind kind, std::string scalar = "", bool quoted = false) {
  auto node = std::make_shared<TreeNode>();
  node->kind = kind;
  node->scalar = std::move(scalar);
  node->quoted = quoted;
  return node;
}

template <typename T>
NodePtr Encode(const T& value);

// Writes the fields of one mapping.
class MapEncoder {
 public:
  explicit MapEncoder(TreeNode* map) : map_(*map) {}

  template <typename T>
  void Field(std::string_view key, const T& value, unsigned flags = kOptional) {
    if ((flags & kOmitEmpty) && value == T{}) return;
    Add(key, Encode(value));
  }

  template <typename F>
  void Group(std::string_view key, unsigned /*flags*/, F&& fn) {
    auto group = Make(Kind::kMapping);
    MapEncoder fields(group.get());
    fn(fields);
    Add(key, std::move(group));
  }

 private:
  void Add(std::string_view key, NodePtr value) {
    map_.entries.push_back(Entry{Make(Kind::kScalar, std::string(key), true), std::move(value)});
  }

  TreeNode& map_;
};

template <typename T>
NodePtr Encode(const T& value) {
  if constexpr (IsOptional<T>::value) {
    return value.has_value() ? Encode(*value) : Make(Kind::kNull);
  } else if constexpr (IsVector<T>::value) {
    auto seq = Make(Kind::kSequence);
    for (const auto& item : value) seq->items.push_back(Encode(item));
    return seq;
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    auto map = Make(Kind::kMapping);
    for (const auto& [k, v] : value) map->entries.push_back(Entry{Encode(k), Encode(v)});
    return map;
  } else if constexpr (Described<T>) {
    auto map = Make(Kind::kMapping);
    MapEncoder fields(map.get());
    Describe(fields, value);
    return map;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Make(Kind::kScalar, value, true);
  } else if constexpr (std::is_same_v<T, bool>) {
    return Make(Kind::kScalar, value ? "true" : "false");
  } else if constexpr (std::is_same_v<T, api::Color>) {
    return Make(Kind::kScalar, std::string(api::ColorName(value)), true);
  } else if constexpr (std::is_same_v<T, api::RejoinMethod>) {
    return Make(Kind::kScalar, std::string(api::RejoinMethodName(value)), true);
  } else if constexpr (std::is_same_v<T, api::SynchronousReplication>) {
    return Make(Kind::kScalar, std::string(api::SynchronousReplicationName(value)), true);
  } else {
    static_assert(std::is_integral_v<T>, "no encoder for this type");
    return Make(Kind::kScalar, absl::StrCat(value));
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True when `s` reads as a YAML 1.1 or 1.2 number: an integer in any base, a float, a
// sexagesimal ("1:30") or a timestamp ("2026-11-26..."). Errs on the side of quoting.
bool LooksNumeric(std::string_view s) {
  if (s.size() >= 5 && std::all_of(s.begin(), s.begin() + 4, IsDigit) && s[4] == '-') {
    return true;  // a date or timestamp
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    return s.find_first_not_of("0123456789abcdefABCDEF_", 2) == std::string_view::npos;
  }
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && (IsDigit(s[i]) || s[i] == '_')) ++i;
    return i > start;
  };
  const bool whole = IsDigit(s[0]) && digits();
  if (whole && i < s.size() && s[i] == ':') {  // sexagesimal
    while (i < s.size() && s[i] == ':') {
      ++i;
      if (!digits()) return false;
    }
  }
  bool fraction = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (!whole && !fraction) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// True when a YAML reader would take plain `s` for something other than a string: a YAML
// 1.1 or 1.2 boolean or null, a number or a timestamp. (The Emitter quotes strings that are
// no valid plain scalar by itself, but not these.)
bool NeedsQuotes(const std::string& s) {
  static constexpr std::string_view kWords[] = {
      "y",     "Y",     "yes",   "Yes",   "YES",   "n",     "N",    "no",   "No",   "NO",
      "true",  "True",  "TRUE",  "false", "False", "FALSE", "on",   "On",   "ON",   "off",
      "Off",   "OFF",   "null",  "Null",  "NULL",  "~",     ".inf", ".Inf", ".INF", "-.inf",
      "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan",  ".NaN", ".NAN"};
  return s.empty() || std::find(std::begin(kWords), std::end(kWords), s) != std::end(kWords) ||
         LooksNumeric(s);
}

void EmitYaml(YAML::Emitter& out, const TreeNode& n) {
  switch (n.kind) {
    case Kind::kNull:
      out << YAML::Null;
      return;
    case Kind::kScalar:
      if (n.quoted && NeedsQuotes(n.scalar)) out << YAML::DoubleQuoted;
      out << n.scalar;
      return;
    case Kind::kSequence:
      if (n.items.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const NodePtr& item : n.items) EmitYaml(out, *item);
      out << YAML::EndSeq;
      return;
    case Kind::kMapping:
      if (n.entries.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const Entry& e : n.entries) {
        out << YAML::Key;
        EmitYaml(out, *e.key);
        out << YAML::Value;
        EmitYaml(out, *e.value);
      }
      out << YAML::EndMap;
      return;
  }
}

nlohmann::ordered_json ToJson(const TreeNode& n) {
  switch (n.kind) {
    case Kind::kNull:
      return nullptr;
    case Kind::kScalar: {
      if (n.quoted) return n.scalar;
      if (n.scalar == "true" || n.scalar == "false") return n.scalar == "true";
      int64_t i = 0;
      if (absl::SimpleAtoi(n.scalar, &i)) return i;
      uint64_t u = 0;
      if (absl::SimpleAtoi(n.scalar, &u)) return u;
      return n.scalar;
    }
    case Kind::kSequence: {
      auto seq = nlohmann::ordered_json::array();
      for (const NodePtr& item : n.items) seq.push_back(ToJson(*item));
      return seq;
    }
    case Kind::kMapping: {
      auto map = nlohmann::ordered_json::object();
      for (const Entry& e : n.entries) map[e.key->scalar] = ToJson(*e.value);
      return map;
    }
  }
  return nullptr;
}

}  // namespace

NodePtr EncodeTree(const api::DeploymentColor& dc) { return Encode(dc); }

}  // namespace sy::codec::internal

namespace sy::codec {

std::string EncodeYaml(const api::DeploymentColor& dc) {
  YAML::Emitter out;
  out.SetIndent(2);
  internal::EmitYaml(out, *internal::EncodeTree(dc));
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

std::string EncodeJson(const api::DeploymentColor& dc, int indent) {
  // Invalid UTF-8 (say, a server's error message in a condition) is replaced, not thrown.
  return internal::ToJson(*internal::EncodeTree(dc))
      .dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace sy::codec
