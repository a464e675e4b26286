#include "pkg/server/api_errors.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace sy::server {
namespace {

nlohmann::json StatusObject(int code, std::string_view reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

// Messages quote what a client sent, which need not be UTF-8: such bytes become U+FFFD
// rather than an exception.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string StatusJson(int code, std::string_view reason, const std::string& message) {
  return Dump(StatusObject(code, reason, message));
}

HttpResponse StatusResponse(int code, std::string_view reason, const std::string& message,
                            const std::string& name, const std::vector<Cause>& causes) {
  nlohmann::json j = StatusObject(code, reason, message);
  if (!name.empty() || !causes.empty()) {
    nlohmann::json details = {{"group", "switchyard.dev"}, {"kind", "deploymentcolors"}};
    if (!name.empty()) details["name"] = name;
    if (code == 422) details["kind"] = "DeploymentColor";  // kubectl: 'The DeploymentColor "x"'
    for (const Cause& c : causes) {
      nlohmann::json cause = {{"reason", c.reason}, {"message", c.message}};
      if (!c.field.empty()) cause["field"] = c.field;
      details["causes"].push_back(cause);
    }
    j["details"] = details;
  }
  return HttpResponse{code, "application/json", Dump(j) + "\n"};
}

std::string_view ReasonForCode(int code) {
  switch (code) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 408:
      return "Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    default:
      return code < 500 ? "BadRequest" : "InternalError";
  }
}

HttpResponse StatusForCode(int code) {
  switch (code) {
    case 400:
      return StatusResponse(code, "BadRequest", "the request could not be read");
    case 404:
      return StatusResponse(code, "NotFound", "the server could not find the requested resource");
    case 405:
      return StatusResponse(code, "MethodNotAllowed", "method not allowed");
    case 413:
      return StatusResponse(code, "RequestEntityTooLarge", "the request body is too large");
    case 414:
      return StatusResponse(code, "RequestURITooLong", "the request URI is too long");
    case 415:
      return StatusResponse(code, "UnsupportedMediaType",
                            "the body's content coding or media type is not served");
    default:
      return StatusResponse(code, ReasonForCode(code), absl::StrCat("HTTP ", code));
  }
}

HttpResponse ErrorResponse(const absl::Status& s, const std::string& name) {
  const std::string msg(s.message());
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return StatusResponse(404, "NotFound", msg, name);
    case absl::StatusCode::kAlreadyExists:
      return StatusResponse(409, "AlreadyExists", msg, name);
    case absl::StatusCode::kAborted:
      return StatusResponse(409, "Conflict", msg, name);
    case absl::StatusCode::kPermissionDenied:
      return StatusResponse(403, "Forbidden", msg, name);
    case absl::StatusCode::kInvalidArgument:
      return StatusResponse(400, "BadRequest", msg, name);
    case absl::StatusCode::kFailedPrecondition:  // e.g. servers another resource names
      return StatusResponse(422, "Invalid", msg, name);
    case absl::StatusCode::kOutOfRange:
      return StatusResponse(410, "Expired", msg, name);
    case absl::StatusCode::kResourceExhausted:
      return StatusResponse(507, "InternalError", msg, name);
    default:
      return StatusResponse(500, "InternalError", msg, name);
  }
}

}  // namespace sy::server
