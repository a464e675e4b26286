// YAML documents that are no DeploymentColor (a request body, a kubeconfig) as JSON text, so
// that code outside pkg/codec reads them with a JSON library and never sees yaml-cpp.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sy::codec {

// Converts one YAML document (JSON is YAML too) to compact JSON. Unquoted scalars are read
// as the YAML 1.2 core schema says (null, ~ and empty: null; true/false; integers; floats);
// everything else, and every mapping key, is a string. kInvalidArgument naming
// file:line:column for a syntax error, a stream of more than one document, an empty one, a
// non-scalar mapping key, or aliases that would expand past 100000 nodes.
absl::StatusOr<std::string> YamlToJson(std::string_view content, std::string_view file);

}  // namespace sy::codec
