#include "pkg/server/api_body.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/codec/codec.h"
#include "pkg/codec/yaml_json.h"
#include "pkg/server/api_errors.h"

namespace sy::server::internal {
namespace {

constexpr absl::string_view kUnknownField = "unknown field ";

// Metadata the server owns or does not implement: accepted and ignored, as Kubernetes does.
constexpr std::string_view kIgnoredMetadata[] = {"managedFields",
                                                 "selfLink",
                                                 "finalizers",
                                                 "ownerReferences",
                                                 "generateName",
                                                 "deletionTimestamp",
                                                 "deletionGracePeriodSeconds"};

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Removes the field at `path` ("spec.colors.blue.x", "a.b[2].c") from `j`.
void Erase(nlohmann::json& j, const std::string& path) {
  nlohmann::json* at = &j;
  std::string_view rest = path;
  while (at != nullptr && !rest.empty()) {
    const size_t cut = rest.find_first_of(".[");
    const std::string key(rest.substr(0, cut));
    const bool last = cut == std::string_view::npos;
    if (!at->is_object() || !at->contains(key)) return;
    if (last) {
      at->erase(key);
      return;
    }
    at = &(*at)[key];
    rest.remove_prefix(cut);
    while (!rest.empty() && rest[0] == '[') {  // list indexes
      const size_t close = rest.find(']');
      size_t i = 0;
      if (close == std::string_view::npos ||
          !absl::SimpleAtoi(std::string(rest.substr(1, close - 1)), &i) || !at->is_array() ||
          i >= at->size()) {
        return;
      }
      at = &(*at)[i];
      rest.remove_prefix(close + 1);
    }
    if (!rest.empty() && rest[0] == '.') rest.remove_prefix(1);
  }
}

}  // namespace

absl::StatusOr<FieldValidation> ParseFieldValidation(std::string_view value) {
  if (value.empty() || value == "Warn") return FieldValidation::kWarn;
  if (value == "Strict") return FieldValidation::kStrict;
  if (value == "Ignore") return FieldValidation::kIgnore;
  return absl::InvalidArgumentError(
      absl::StrCat("fieldValidation \"", std::string(value), "\": must be Ignore, Warn or Strict"));
}

absl::StatusOr<nlohmann::json> ParseBody(std::string_view body, std::string_view content_type) {
  const bool yaml = content_type.find("yaml") != std::string_view::npos;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    if (!yaml) {
      return absl::InvalidArgumentError("the request body is not valid JSON");
    }
    auto json = codec::YamlToJson(body, "request body");
    if (!json.ok()) return json.status();
    j = nlohmann::json::parse(*json, nullptr, false);
  }
  if (!j.is_object()) {
    return absl::InvalidArgumentError("the request body must be an object (a mapping)");
  }
  return j;
}

std::variant<DecodedObject, HttpResponse> DecodeObject(nlohmann::json j, const std::string& ns,
                                                       const std::string& url_name,
                                                       FieldValidation validation) {
  if (!j.is_object()) return StatusResponse(400, "BadRequest", "the object must be a mapping");
  j.erase("status");  // the controller's
  nlohmann::json& meta = j["metadata"];
  if (meta.is_null()) meta = nlohmann::json::object();
  if (meta.is_object()) {
    for (std::string_view k : kIgnoredMetadata) meta.erase(std::string(k));
    for (auto it = meta.begin(); it != meta.end();) {
      it = it.value().is_null() ? meta.erase(it) : std::next(it);  // creationTimestamp: null
    }
    const auto body_ns = meta.find("namespace");
    if (body_ns == meta.end()) {
      meta["namespace"] = ns;
    } else if (!body_ns->is_string() || *body_ns != ns) {
      return StatusResponse(400, "BadRequest",
                            absl::StrCat("the namespace of the object (", Dump(*body_ns),
                                         ") does not match the namespace of the URL (", ns, ")"));
    }
    const auto body_name = meta.find("name");
    if (body_name == meta.end() && !url_name.empty()) {
      meta["name"] = url_name;
    } else if (body_name != meta.end() && !url_name.empty() &&
               (!body_name->is_string() || *body_name != url_name)) {
      return StatusResponse(400, "BadRequest",
                            absl::StrCat("the name of the object (", Dump(*body_name),
                                         ") does not match the name on the URL (", url_name, ")"));
    }
  }
  const std::string name = meta.is_object() && meta.value("name", nlohmann::json()).is_string()
                               ? meta["name"].get<std::string>()
                               : url_name;
  DecodedObject out;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<codec::DecodedDocument> docs = codec::DecodeYamlStream(Dump(j), "");
    if (docs.size() != 1) return StatusResponse(400, "BadRequest", "the object cannot be read");
    std::vector<codec::Problem> unknown;
    std::vector<Cause> causes;
    std::vector<std::string> lines;
    for (const codec::Problem& p : docs[0].problems) {
      if (absl::StartsWith(p.message, kUnknownField)) {
        unknown.push_back(p);
        continue;
      }
      const bool required = p.message == "required field missing";
      causes.push_back({required ? "FieldValueRequired" : "FieldValueInvalid", p.message, p.field});
      lines.push_back(p.field.empty() ? p.message : absl::StrCat(p.field, ": ", p.message));
    }
    if (!unknown.empty() && validation == FieldValidation::kStrict) {
      std::vector<std::string> fields;
      fields.reserve(unknown.size());
      for (const auto& p : unknown) {
        fields.push_back(absl::StrCat("unknown field \"", p.field, "\""));
      }
      return StatusResponse(400, "BadRequest",
                            "strict decoding error: " + absl::StrJoin(fields, ", "), name);
    }
    if (!unknown.empty()) {
      for (const auto& p : unknown) {
        Erase(j, p.field);
        if (validation == FieldValidation::kWarn) {
          out.warnings.push_back(absl::StrCat("unknown field \"", p.field, "\""));
        }
      }
      continue;  // decode again without them
    }
    if (!causes.empty()) {
      return StatusResponse(422, "Invalid",
                            absl::StrCat("DeploymentColor.switchyard.dev \"", name,
                                         "\" is invalid: ", absl::StrJoin(lines, ", ")),
                            name, causes);
    }
    out.object = std::move(docs[0].object);
    return out;
  }
  return StatusResponse(400, "BadRequest", "the object cannot be read");
}

nlohmann::json ObjectJson(const api::DeploymentColor& dc) {
  return nlohmann::json::parse(codec::EncodeJson(dc));
}

HttpResponse JsonResponse(int code, const nlohmann::json& body,
                          const std::vector<std::string>& warnings) {
  HttpResponse r{code, "application/json", Dump(body) + "\n"};
  for (const std::string& w : warnings) {
    r.headers.emplace_back("Warning", absl::StrCat("299 - ", nlohmann::json(w).dump()));
  }
  return r;
}

}  // namespace sy::server::internal
