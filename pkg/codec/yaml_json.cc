#include "pkg/codec/yaml_json.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/codec/tree.h"

namespace sy::codec {
namespace {

using internal::TreeNode;
using internal::ValidUtf8;

constexpr int kMaxNodes = 100000;  // aliases share nodes: expanding them must stay bounded

nlohmann::json Scalar(const TreeNode& n) {
  const std::string& s = n.scalar;
  if (n.quoted) return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  int64_t i = 0;
  if (std::regex_match(s, kInt) && absl::SimpleAtoi(s, &i)) return i;
  double d = 0;
  if (std::regex_match(s, kFloat) && absl::SimpleAtod(s, &d) && std::isfinite(d)) return d;
  return s;
}

class Converter {
 public:
  explicit Converter(std::string_view file) : file_(file) {}

  absl::StatusOr<nlohmann::json> Convert(const TreeNode& n) {
    if (++nodes_ > kMaxNodes) return Error(n, "more than 100000 nodes (aliases?)");
    switch (n.kind) {
      case TreeNode::Kind::kNull:
        return nullptr;
      case TreeNode::Kind::kScalar:
        if (!ValidUtf8(n.scalar)) return Error(n, "not valid UTF-8 text");
        return Scalar(n);
      case TreeNode::Kind::kSequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : n.items) {
          auto v = Convert(*item);
          if (!v.ok()) return v.status();
          out.push_back(*std::move(v));
        }
        return out;
      }
      case TreeNode::Kind::kMapping: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& e : n.entries) {
          if (e.key->kind != TreeNode::Kind::kScalar) return Error(*e.key, "keys must be scalars");
          if (!ValidUtf8(e.key->scalar)) return Error(*e.key, "keys must be valid UTF-8 text");
          auto v = Convert(*e.value);
          if (!v.ok()) return v.status();
          out[e.key->scalar] = *std::move(v);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  absl::Status Error(const TreeNode& at, std::string_view what) const {
    return absl::InvalidArgumentError(
        Problem{file_, at.line, at.column, "", std::string(what)}.ToString());
  }

  std::string file_;
  int nodes_ = 0;
};

}  // namespace

absl::StatusOr<std::string> YamlToJson(std::string_view content, std::string_view file) {
  absl::StatusOr<internal::NodePtr> root = internal::ParseOneYamlDocument(content, file);
  if (!root.ok()) return root.status();
  auto json = Converter(file).Convert(**root);
  if (!json.ok()) return json.status();
  return json->dump();
}

}  // namespace sy::codec
