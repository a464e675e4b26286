// Internal to pkg/server: request bodies to DeploymentColors with the Kubernetes rules of the
// API (fieldValidation, server-set fields ignored, the name and namespace of the URL), and
// objects to JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/server/api_handler.h"

namespace sy::server::internal {

// ?fieldValidation=: what to do with fields the schema does not know. The default is Warn.
enum class FieldValidation { kIgnore, kWarn, kStrict };
absl::StatusOr<FieldValidation> ParseFieldValidation(std::string_view value);

// The body as JSON: JSON, or YAML (application/yaml, application/apply-patch+yaml or a body
// that is no JSON) converted. kInvalidArgument saying why it cannot be read.
absl::StatusOr<nlohmann::json> ParseBody(std::string_view body, std::string_view content_type);

struct DecodedObject {
  api::DeploymentColor object;
  std::vector<std::string> warnings;  // fields dropped under Warn, for Warning headers
};

// Decodes an object a client sent (or a patch made) for namespace `ns` and, when not empty,
// the name of the URL. status and the metadata the server owns are ignored. Returns the
// object, or the error response: 400 for a name or namespace that differs from the URL's or
// for unknown fields under Strict, 422 Invalid with one cause per problem otherwise.
std::variant<DecodedObject, HttpResponse> DecodeObject(nlohmann::json j, const std::string& ns,
                                                       const std::string& url_name,
                                                       FieldValidation validation);

// The JSON of an object as the API shows it.
nlohmann::json ObjectJson(const api::DeploymentColor& dc);

// A JSON response; `warnings` become Warning headers ("299 - \"...\"").
HttpResponse JsonResponse(int code, const nlohmann::json& body,
                          const std::vector<std::string>& warnings = {});

}  // namespace sy::server::internal
