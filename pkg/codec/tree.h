// Internal to pkg/codec: a small document tree that both parsers (yaml-cpp events, nlohmann
// SAX) build and that the encoder writes, so decoding and encoding are each written once,
// whatever the syntax. Not part of the package's interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/codec/codec.h"

namespace sy::codec::internal {

struct TreeNode;
// Nodes are shared, not copied, by YAML aliases: an alias bomb costs no memory, and the
// decoder, which follows only the schema, never walks more than the schema's depth.
using NodePtr = std::shared_ptr<const TreeNode>;

struct Entry {
  NodePtr key;
  NodePtr value;
};

struct TreeNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  // kScalar: the text. `quoted` is true for a quoted (or !!str) YAML scalar or a JSON string:
  // it is a string and must not be read as a number or a boolean. The encoder sets it on
  // every string and clears it on numbers and booleans.
  std::string scalar;
  bool quoted = false;
  std::string bad_tag;  // a YAML tag other than the core schema's, reported when decoded
  int line = 0;         // 1-based; 0 when unknown (JSON)
  int column = 0;
  std::vector<NodePtr> items;  // kSequence
  std::vector<Entry> entries;  // kMapping, in document order, duplicates kept
};

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF). YAML and JSON text is Unicode; bytes that are not would come back from JSON
// (the API, the status) as U+FFFD, another value than the one stored.
bool ValidUtf8(std::string_view s);

// Collections nested deeper than this make the document a problem (a DeploymentColor needs
// 5 levels).
inline constexpr int kMaxDepth = 64;
inline constexpr std::string_view kTooDeep = "nested deeper than 64 levels";

// Builds a tree from begin/end and leaf events. Shared by both parsers. Whatever is nested
// deeper than kMaxDepth is dropped (and TooDeep() set), so no tree is deep enough to
// exhaust the stack when it is destroyed.
class TreeAssembler {
 public:
  // Returns false when the collection is too deep to keep.
  bool BeginCollection(TreeNode::Kind kind, int line, int column, std::string bad_tag = "");
  // Ends the innermost collection and returns it (to register a YAML anchor); null when it
  // was dropped.
  NodePtr EndCollection();
  void Leaf(NodePtr node);
  // The whole tree once the outermost node is complete; null for an empty document.
  NodePtr Root() const { return root_; }
  bool TooDeep() const { return too_deep_; }

 private:
  struct Frame {
    std::shared_ptr<TreeNode> node;
    NodePtr pending_key;  // mappings: the key waiting for its value
  };
  void Attach(NodePtr node);

  std::vector<Frame> stack_;
  NodePtr root_;
  bool too_deep_ = false;
  int skipped_ = 0;  // open collections dropped for depth
};

// One document of a stream, parsed but not decoded.
struct ParsedDocument {
  int index = 0;
  int line = 0;
  NodePtr root;                   // null for an empty document
  std::vector<Problem> problems;  // syntax or structure: the tree must not be decoded
};

// Parses every document of a YAML stream; a syntax error ends the list with a document
// holding only that problem.
std::vector<ParsedDocument> ParseYaml(std::string_view content, std::string_view file);

// The root of a YAML stream that must hold exactly one document: kInvalidArgument naming
// file:line:column for a syntax error, an empty stream or a second document.
absl::StatusOr<NodePtr> ParseOneYamlDocument(std::string_view content, std::string_view file);

// Parses one JSON text (strict JSON, unlike ParseYaml).
ParsedDocument ParseJson(std::string_view content, std::string_view file);

// Decodes, defaults and validates one parsed document.
DecodedDocument DecodeDocument(const ParsedDocument& parsed, std::string_view file);

// The tree of a resource, in the field order of schema.h.
NodePtr EncodeTree(const api::DeploymentColor& dc);

}  // namespace sy::codec::internal
