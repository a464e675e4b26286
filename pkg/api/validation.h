// Defaults and validation of a DeploymentColor. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pkg/api/types.h"

namespace sy::api {

// One problem with one field. `field` is a dotted path as written in manifests, with list
// indexes and map keys in brackets: "spec.colors.blue.upstreams[1]", "metadata.name",
// "metadata.annotations[switchyard.dev/allow-discard-diverged-writes]".
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

// Fills what a manifest may leave out: metadata.namespace ("default"),
// spec.nginx.upstreamName (metadata.name). Every other default is the member initializer in
// types.h. Idempotent.
void ApplyDefaults(DeploymentColor* dc);

// Returns every problem of an already-decoded, defaulted resource (empty when valid):
// DNS-1123 name and namespace, ports in 1..65535, absolute paths without ".." components,
// upstreams as host:port, two colors sharing a database (host and port) or, on one machine, a
// data directory, agents ("host:port"; both databases with one or neither; a loopback
// database host only with an agent on loopback), probe URL and header, positive timeouts,
// non-negative lag, user names.
// Messages read "must be X, got \"Y\"" where possible. Paths must be absolute, have no ".."
// component and only [A-Za-z0-9._/+-]: pg_ctl runs its arguments through a shell. Messages
// never quote a value that may be a secret: spec.database.passwordFile is not shown, and the
// user information of spec.nginx.probe.url ("user:password@") is shown as "***@".
std::vector<FieldError> Validate(const DeploymentColor& dc);

// The fields of `dc` naming a database server (host:port), a data directory (the same, or
// one nested in the other, on the same machine: the same agent or none) or an nginx upstream
// file (on the same machine) that `other`, another resource, names too; each message names
// `other` and its field: "\"/srv/pg/blue\" is also spec.colors.green.database.dataDirectory
// of default/shop". Two resources sharing servers would act on them at once and undo each
// other's steps forever. Empty when they share nothing or are the same resource (same key).
std::vector<FieldError> SharedWith(const DeploymentColor& dc, const DeploymentColor& other);

// True when `s` is a DNS-1123 label: 1-63 of [a-z0-9-], starting and ending alphanumeric.
bool IsDns1123Label(const std::string& s);

// `value` for an error message: double-quoted; quotes, backslashes and control characters
// escaped (UTF-8 kept as is); cut after 80 bytes, marked "...".
std::string QuoteValue(std::string_view value);

}  // namespace sy::api
