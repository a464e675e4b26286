// A YAML document that is no DeploymentColor (switchyard-agent's configuration file) as a
// tree that keeps every node's line and column, so that its reader can name the line of an
// unknown key or a wrong type without seeing yaml-cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sy::codec {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  std::string scalar;   // kScalar: the text
  bool quoted = false;  // a quoted scalar: a string, never a number or a boolean
  int line = 0;         // 1-based
  int column = 0;
  std::vector<YamlNode> items;     // kSequence
  std::vector<YamlEntry> entries;  // kMapping, in document order
};

struct YamlEntry {
  std::string key;
  int key_line = 0;
  YamlNode value;
};

// Parses exactly one YAML document. kInvalidArgument naming file:line:column for a syntax
// error, an empty stream or more than one document, a non-scalar or repeated mapping key,
// text that is not UTF-8, or aliases that would expand past 100000 nodes.
absl::StatusOr<YamlNode> ParseYamlTree(std::string_view content, std::string_view file);

}  // namespace sy::codec
