// Whether a database host is this machine: without an agent every data-directory action
// (fence, start, rewind, basebackup, pg_controldata) is local, so a server elsewhere needs
// one.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace sy::observe {

// OK when `host` is this machine: "localhost", an address in 127.0.0.0/8, ::1, the machine's
// own host name, an address assigned to one of its interfaces (getifaddrs), or a name every
// address of which (getaddrinfo) is one of those. Literal addresses and "localhost" never
// touch the resolver. Otherwise kInvalidArgument "<host> is not this machine: without an
// agent Switchyard acts on data directories locally; PostgreSQL on another machine needs an
// agent there (database.agent)";
// kUnavailable when the resolver fails for now (EAI_AGAIN). Thread-safe.
absl::Status CheckLocalHost(std::string_view host);

}  // namespace sy::observe
