// Errors of the API as Kubernetes Status objects (kind: Status), which kubectl prints as
// "Error from server (Reason): message", and how the store's and the decoder's status codes
// map to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pkg/server/api_handler.h"

namespace sy::server {

// One per-field problem of a 422 answer (details.causes).
struct Cause {
  std::string reason;  // FieldValueInvalid, FieldValueRequired, FieldValueNotSupported
  std::string message;
  std::string field;  // "spec.activeColor"
};

// A Status response: code, reason ("NotFound"), message; `name` (when set) fills details
// with the resource's name, group and kind, and `causes` details.causes.
HttpResponse StatusResponse(int code, std::string_view reason, const std::string& message,
                            const std::string& name = "", const std::vector<Cause>& causes = {});

// The Kubernetes StatusReason of an HTTP status code ("TooManyRequests" for 429).
std::string_view ReasonForCode(int code);

// A Status response for an HTTP error the transport makes itself (413, 404, 400).
HttpResponse StatusForCode(int code);

// Maps a status from the store or the decoder about resource `name`: kNotFound 404
// NotFound, kAlreadyExists 409 AlreadyExists, kAborted 409 Conflict, kPermissionDenied 403
// Forbidden, kInvalidArgument 400 BadRequest, kOutOfRange 410 Expired, kResourceExhausted
// 507, anything else 500 InternalError.
HttpResponse ErrorResponse(const absl::Status& s, const std::string& name);

// The Status object's JSON text for an ERROR watch event.
std::string StatusJson(int code, std::string_view reason, const std::string& message);

}  // namespace sy::server
