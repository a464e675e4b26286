// Writes: create (POST), replace (PUT, with resourceVersion), patch (merge patch, JSON patch,
// and server-side apply: create-or-merge that removes what the same manager applied before
// and applies no more, api_apply.cc) and delete. Every write honours ?dryRun=All (all
// checks run, nothing is stored, nothing acted on) and ?fieldValidation=; objects a manifest
// file gives are refused by the store (403 naming the file).
#include <optional>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pkg/server/api_body.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/api_internal.h"

namespace sy::server::internal {
namespace {

using Exists = source::WriteOptions::Exists;

constexpr int kPatchAttempts = 5;  // a controller's status write between read and write
// The field manager of an apply that names none (Kubernetes requires one; kubectl and yardctl
// always send theirs).
constexpr std::string_view kUnnamedManager = "unnamed";

struct WriteParams {
  bool dry_run = false;
  FieldValidation validation = FieldValidation::kWarn;
};

std::variant<WriteParams, HttpResponse> ParseWriteParams(const HttpRequest& req) {
  WriteParams p;
  auto [from, to] = req.query.equal_range("dryRun");
  for (auto it = from; it != to; ++it) {
    if (it->second != "All") {
      return StatusResponse(400, "BadRequest",
                            absl::StrCat("dryRun \"", it->second, "\": only All is supported"));
    }
    p.dry_run = true;
  }
  auto validation = ParseFieldValidation(req.Param("fieldValidation"));
  if (!validation.ok()) return ErrorResponse(validation.status(), "");
  p.validation = *validation;
  return p;
}

// The media type of a Content-Type header, lower case, without parameters.
std::string MediaType(const HttpRequest& req) {
  std::string t = req.Header("content-type");
  t = t.substr(0, t.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(t));
}

HttpResponse UnsupportedMediaType(const std::string& type, const std::string& accepted) {
  return StatusResponse(415, "UnsupportedMediaType",
                        absl::StrCat("the body of the request was in an unknown format (",
                                     type.empty() ? "no Content-Type" : type,
                                     ") - accepted media types include: ", accepted));
}

// j.metadata.<key> when it is a string (nothing otherwise).
std::optional<std::string> MetaString(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto meta = j.find("metadata");
  if (meta == j.end() || !meta->is_object()) return std::nullopt;
  const auto v = meta->find(key);
  if (v == meta->end() || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

source::WriteOptions Options(Exists exists, const WriteParams& p, std::string rv = "") {
  source::WriteOptions o;
  o.exists = exists;
  o.resource_version = std::move(rv);
  o.from_api = true;
  o.dry_run = p.dry_run;
  return o;
}

// Decodes `j` and stores it with `options`; `created` answers 201.
HttpResponse Store(const Call& c, nlohmann::json j, const std::string& url_name,
                   const WriteParams& p, const source::WriteOptions& options, bool created) {
  auto decoded = DecodeObject(std::move(j), c.ns, url_name, p.validation);
  if (auto* error = std::get_if<HttpResponse>(&decoded)) return std::move(*error);
  DecodedObject& d = std::get<DecodedObject>(decoded);
  auto out = c.store.Apply(d.object, std::string(source::kApiSource), options);
  if (!out.ok()) return ErrorResponse(out.status(), d.object.metadata.name);
  return JsonResponse(created ? 201 : 200, ObjectJson(*out), d.warnings);
}

struct ObjectRequest {
  WriteParams params;
  nlohmann::json body;
};

// The parameters and the object of a POST or PUT.
std::variant<ObjectRequest, HttpResponse> ReadObjectRequest(const Call& c) {
  auto params = ParseWriteParams(c.req);
  if (auto* error = std::get_if<HttpResponse>(&params)) return std::move(*error);
  const std::string type = MediaType(c.req);
  if (type != "application/json" && type != "application/yaml") {
    return UnsupportedMediaType(type, "application/json, application/yaml");
  }
  auto body = ParseBody(c.req.body, type);
  if (!body.ok()) return ErrorResponse(body.status(), c.name);
  return ObjectRequest{std::get<WriteParams>(params), *std::move(body)};
}

}  // namespace

HttpResponse CreateObject(const Call& c) {
  auto req = ReadObjectRequest(c);
  if (auto* error = std::get_if<HttpResponse>(&req)) return std::move(*error);
  ObjectRequest& r = std::get<ObjectRequest>(req);
  return Store(c, std::move(r.body), "", r.params, Options(Exists::kMustNotExist, r.params),
               /*created=*/true);
}

HttpResponse ReplaceObject(const Call& c) {
  auto req = ReadObjectRequest(c);
  if (auto* error = std::get_if<HttpResponse>(&req)) return std::move(*error);
  ObjectRequest& r = std::get<ObjectRequest>(req);
  const std::string rv = MetaString(r.body, "resourceVersion").value_or("");
  if (rv.empty()) {
    return StatusResponse(
        422, "Invalid",
        absl::StrCat("DeploymentColor.switchyard.dev \"", c.name,
                     "\" is invalid: metadata.resourceVersion: must be "
                     "specified for an update"),
        c.name,
        {{"FieldValueInvalid", "must be specified for an update", "metadata.resourceVersion"}});
  }
  return Store(c, std::move(r.body), c.name, r.params, Options(Exists::kMustExist, r.params, rv),
               /*created=*/false);
}

HttpResponse PatchObject(const Call& c) {
  auto params = ParseWriteParams(c.req);
  if (auto* error = std::get_if<HttpResponse>(&params)) return std::move(*error);
  const WriteParams& p = std::get<WriteParams>(params);
  const std::string type = MediaType(c.req);
  const bool apply = type == "application/apply-patch+yaml";
  const bool json_patch = type == "application/json-patch+json";
  if (!apply && !json_patch && type != "application/merge-patch+json") {
    return UnsupportedMediaType(type,
                                "application/merge-patch+json, application/json-patch+json, "
                                "application/apply-patch+yaml (a DeploymentColor has no "
                                "strategic merge patch: use --type=merge)");
  }
  nlohmann::json patch = nlohmann::json::parse(c.req.body, nullptr, false);
  if (!json_patch) {
    auto body = ParseBody(c.req.body, type);
    if (!body.ok()) return ErrorResponse(body.status(), c.name);
    patch = *std::move(body);
  } else if (!patch.is_array()) {
    return StatusResponse(400, "BadRequest", "a JSON patch must be a JSON array of operations");
  }
  // A resourceVersion in the patch is a precondition; otherwise the patch applies to the
  // object as it is, read again when the controller wrote in between.
  const bool explicit_rv = MetaString(patch, "resourceVersion").has_value();
  const std::string key = c.ns + "/" + c.name;
  const std::string manager = c.req.Param("fieldManager").empty() ? std::string(kUnnamedManager)
                                                                  : c.req.Param("fieldManager");
  for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
    auto cur = c.store.Get(key);
    if (!cur && !apply) return NotFound(c.name);
    if (!cur) {  // server-side apply creates
      HttpResponse r = Store(c, ServerSideApply(nullptr, patch, manager), c.name, p,
                             Options(Exists::kMustNotExist, p), true);
      if (r.status == 409 && r.body.find("AlreadyExists") != std::string::npos) continue;
      return r;
    }
    nlohmann::json merged = ObjectJson(*cur);
    if (apply) {
      merged = ServerSideApply(merged, patch, manager);
    } else if (json_patch) {
      try {
        merged = merged.patch(patch);
      } catch (const nlohmann::json::exception& e) {
        return StatusResponse(422, "Invalid",
                              absl::StrCat("the JSON patch cannot be applied: ", e.what()), c.name);
      }
    } else {
      merged.merge_patch(patch);
    }
    const std::string want = explicit_rv ? MetaString(merged, "resourceVersion").value_or("")
                                         : cur->metadata.resource_version;
    HttpResponse r = Store(c, std::move(merged), c.name, p, Options(Exists::kMustExist, p, want),
                           /*created=*/false);
    if (r.status == 409 && !explicit_rv && r.body.find("\"Conflict\"") != std::string::npos) {
      continue;
    }
    return r;
  }
  return StatusResponse(
      409, "Conflict",
      absl::StrCat("deploymentcolors.switchyard.dev \"", c.name, "\" keeps changing; try again"),
      c.name);
}

HttpResponse DeleteObject(const Call& c) {
  auto params = ParseWriteParams(c.req);
  if (auto* error = std::get_if<HttpResponse>(&params)) return std::move(*error);
  WriteParams p = std::get<WriteParams>(params);
  std::string rv;
  std::string uid;
  if (!absl::StripAsciiWhitespace(c.req.body).empty()) {  // DeleteOptions
    const nlohmann::json o = nlohmann::json::parse(c.req.body, nullptr, false);
    if (!o.is_object()) return StatusResponse(400, "BadRequest", "DeleteOptions must be JSON");
    const auto dry = o.find("dryRun");
    if (dry != o.end() && dry->is_array() && !dry->empty()) p.dry_run = true;
    const nlohmann::json pre = {{"metadata", o.value("preconditions", nlohmann::json())}};
    rv = MetaString(pre, "resourceVersion").value_or("");
    uid = MetaString(pre, "uid").value_or("");
  }
  const std::string key = c.ns + "/" + c.name;
  if (!uid.empty()) {
    auto cur = c.store.Get(key);
    if (!cur) return NotFound(c.name);
    if (cur->metadata.uid != uid) {
      return StatusResponse(409, "Conflict",
                            absl::StrCat("Precondition failed: UID in precondition: ", uid,
                                         ", UID in object meta: ", cur->metadata.uid),
                            c.name);
    }
  }
  auto gone = c.store.Delete(key, Options(Exists::kMustExist, p, rv));
  if (!gone.ok()) return ErrorResponse(gone.status(), c.name);
  return JsonResponse(200, ObjectJson(*gone));
}

}  // namespace sy::server::internal
