// DeploymentColor <-> YAML and JSON. Decoding is strict: unknown fields, wrong types and
// missing required fields are errors that carry the file, line and column (1-based) and the
// field path. A YAML stream may hold several documents ("---"); JSON is accepted wherever
// YAML is. Never throws: yaml-cpp and nlohmann exceptions are caught and converted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"

namespace sy::codec {

// One problem found while decoding or validating. ToString():
//   "shop.yaml:12:18: spec.activeColor: must be \"blue\" or \"green\", got \"purple\""
// (line and column omitted when unknown, e.g. for JSON field errors; field omitted for
// syntax errors).
struct Problem {
  std::string file;
  int line = 0;
  int column = 0;
  std::string field;
  std::string message;
  std::string ToString() const;
  bool operator==(const Problem&) const = default;
};

// One document of a stream. `object` is decoded, defaulted (api::ApplyDefaults) and
// validated (api::Validate); it is usable only when `problems` is empty.
struct DecodedDocument {
  int index = 0;  // 0-based position in the stream
  int line = 0;   // 1-based line where the document starts (its "---" or first token)
  api::DeploymentColor object;
  std::vector<Problem> problems;
  bool ok() const { return problems.empty(); }
};

// Decodes every non-empty document of a YAML stream. A syntax error yields one document
// holding that problem (decoding stops there; the documents before it are kept). `file`
// names the source in messages. Problems are ordered by position; a value that cannot be
// decoded is not validated as well. Aliases are resolved; nesting deeper than 64 levels is
// a problem.
std::vector<DecodedDocument> DecodeYamlStream(std::string_view content, std::string_view file);

// Like DecodeYamlStream, but every document must be valid: otherwise kInvalidArgument whose
// message lists every problem, one ToString() per line. An empty stream is an error too, and
// so are two documents with the same namespace/name.
absl::StatusOr<std::vector<api::DeploymentColor>> DecodeManifests(std::string_view content,
                                                                  std::string_view file);

// Reads and decodes a manifest file (kNotFound / kPermissionDenied name the path).
absl::StatusOr<std::vector<api::DeploymentColor>> ReadManifestFile(const std::string& path);

// YAML of the whole object (apiVersion, kind, metadata, spec, and status when it has any
// field set), in the field order of schema.h; round-trips through DecodeYamlStream.
std::string EncodeYaml(const api::DeploymentColor& dc);

// JSON of the whole object, same shape as EncodeYaml. indent < 0: compact one line.
std::string EncodeJson(const api::DeploymentColor& dc, int indent = -1);

// Decodes one JSON object (strict JSON) with the same strictness, defaults and validation:
// kInvalidArgument lists every problem. Field problems have no line/column (nlohmann keeps
// no positions); a syntax error carries its line and column.
absl::StatusOr<api::DeploymentColor> DecodeJson(std::string_view content, std::string_view source);

}  // namespace sy::codec
