#include "pkg/codec/yaml_tree.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "pkg/codec/tree.h"

namespace sy::codec {
namespace {

using internal::TreeNode;

constexpr int kMaxNodes = 100000;  // aliases share nodes: copying them must stay bounded

class Copier {
 public:
  explicit Copier(std::string_view file) : file_(file) {}

  absl::Status Copy(const TreeNode& n, YamlNode* out) {
    if (++nodes_ > kMaxNodes) return Error(n, "more than 100000 nodes (aliases?)");
    out->line = n.line;
    out->column = n.column;
    switch (n.kind) {
      case TreeNode::Kind::kNull:
        out->kind = YamlNode::Kind::kNull;
        return absl::OkStatus();
      case TreeNode::Kind::kScalar:
        if (!internal::ValidUtf8(n.scalar)) return Error(n, "not valid UTF-8 text");
        out->kind = YamlNode::Kind::kScalar;
        out->scalar = n.scalar;
        out->quoted = n.quoted;
        return absl::OkStatus();
      case TreeNode::Kind::kSequence:
        out->kind = YamlNode::Kind::kSequence;
        for (const auto& item : n.items) {
          if (absl::Status s = Copy(*item, &out->items.emplace_back()); !s.ok()) return s;
        }
        return absl::OkStatus();
      case TreeNode::Kind::kMapping: {
        out->kind = YamlNode::Kind::kMapping;
        std::set<std::string> seen;
        for (const auto& e : n.entries) {
          if (e.key->kind != TreeNode::Kind::kScalar) return Error(*e.key, "keys must be scalars");
          if (!seen.insert(e.key->scalar).second) {
            return Error(*e.key, absl::StrCat("key \"", e.key->scalar, "\" given twice"));
          }
          YamlEntry& entry = out->entries.emplace_back();
          entry.key = e.key->scalar;
          entry.key_line = e.key->line;
          if (absl::Status s = Copy(*e.value, &entry.value); !s.ok()) return s;
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
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

namespace internal {

absl::StatusOr<NodePtr> ParseOneYamlDocument(std::string_view content, std::string_view file) {
  std::vector<ParsedDocument> docs = ParseYaml(content, file);
  std::erase_if(docs,
                [](const ParsedDocument& d) { return d.problems.empty() && d.root == nullptr; });
  if (docs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(file), ": no document found"));
  }
  for (const ParsedDocument& d : docs) {
    if (!d.problems.empty()) return absl::InvalidArgumentError(d.problems[0].ToString());
  }
  if (docs.size() > 1) {
    return absl::InvalidArgumentError(
        Problem{std::string(file), docs[1].line, 0, "", "expected one document, found more"}
            .ToString());
  }
  return docs[0].root;
}

}  // namespace internal

absl::StatusOr<YamlNode> ParseYamlTree(std::string_view content, std::string_view file) {
  absl::StatusOr<internal::NodePtr> root = internal::ParseOneYamlDocument(content, file);
  if (!root.ok()) return root.status();
  YamlNode out;
  if (absl::Status s = Copier(file).Copy(**root, &out); !s.ok()) return s;
  return out;
}

}  // namespace sy::codec
