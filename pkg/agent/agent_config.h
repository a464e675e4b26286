// switchyard-agent's configuration file (YAML), and the allowlist it defines: the data
// directories and nginx programs this agent may act on. A request names the resource (its
// whole spec) and the machine; the agent acts only when the spec's paths, programs and port
// for that machine are exactly those of one configured entry, so that a compromised or buggy
// controller cannot point it at other directories or programs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/agent/protocol.h"
#include "pkg/api/types.h"

namespace sy::agent {

struct AgentTls {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // The client certificate's URI name must start with it.
  std::string controller_prefix = "switchyard://";
};

// One PostgreSQL server this agent may act on.
struct PostgresEntry {
  std::string data_directory;
  std::string bin_directory;
  std::string os_user;
  int port = 0;
  std::string config_file;  // "" when the server's postgresql.conf is in its data directory
};

// One nginx whose upstream file this agent may write.
struct NginxEntry {
  std::string binary;
  std::string config_file;
  std::string upstream_file;
};

struct AgentConfig {
  std::string id;  // names the agent in logs and audits
  std::string listen;
  std::string state_directory;
  AgentTls tls;
  bool insecure_http = false;  // plain HTTP, for tests only
  std::vector<PostgresEntry> postgres;
  std::vector<NginxEntry> nginx;
};

// Parses the configuration. Strict: an unknown key, a wrong type, a missing required key
// (id, listen, stateDirectory, tls unless insecureHttp, every entry's paths) or a relative
// path is kInvalidArgument naming the file, the line and the key.
absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml, std::string_view file);
// Reads and parses `path` (kNotFound / kPermissionDenied naming it).
absl::StatusOr<AgentConfig> ReadAgentConfig(const std::string& path);

// Where a request may act: the managed object (the unit of serialization: a data directory,
// or an upstream file) when `dc`'s spec for `machine` equals one configured entry.
// Otherwise kPermissionDenied (answered as NOT_MANAGED) naming the spec's field that differs,
// e.g. "spec.colors.green.database.port 5433 is not 5432, the port this agent has for
// /srv/pg/shop". A database machine's spec.colors.<c>.database.host must also be this
// machine (`check_local_host`, observe::CheckLocalHost in production): the agent connects to
// that address, and must never send a promotion elsewhere.
using LocalHostCheck = absl::Status (*)(std::string_view host);
absl::StatusOr<std::string> ManagedObject(const AgentConfig& config, const api::DeploymentColor& dc,
                                          const Machine& machine, LocalHostCheck check_local_host);

// Every managed object of the configuration, for logs and GET /v1/info.
std::vector<std::string> ManagedObjects(const AgentConfig& config);

}  // namespace sy::agent
