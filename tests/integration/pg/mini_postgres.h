// A throw-away blue/green pair of real PostgreSQL 15 servers for integration tests, in the
// spirit of Apache Kudu's MiniPostgres: a temporary directory owned by the `postgres` OS
// user, free loopback ports, blue initdb'ed as a primary (green is made by the tests with
// the actuator's own steps), and everything stopped and removed on destruction, even when
// a test failed half way.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"

namespace sy::testing {

class MiniPostgres {
 public:
  // Makes the temporary directory and initdb's blue's data directory (not started), with
  // wal_log_hints, a Unix socket in the temporary directory, and trust authentication on
  // 127.0.0.1. The spec names both colors (green's directory does not exist yet), the
  // bootstrap superuser `switchyard` and the replication role `replicator` (which the caller
  // creates once blue runs: CreateRolesSql()). kFailedPrecondition when not root or
  // PostgreSQL 15 is missing; kInternal when initdb fails (with its output).
  static absl::StatusOr<std::unique_ptr<MiniPostgres>> Create();
  // Stops every server still running from the two data directories (immediate shutdown,
  // SIGKILL as a last resort) and removes the temporary directory (kept, and its path
  // printed, when SY_PG_TEST_KEEP is set).
  ~MiniPostgres();

  const api::DeploymentColorSpec& spec() const { return spec_; }
  const std::string& root() const { return root_; }

  static constexpr char kCreateRolesSql[] = "CREATE ROLE replicator WITH REPLICATION LOGIN";

 private:
  MiniPostgres() = default;

  std::string root_;
  api::DeploymentColorSpec spec_;
};

}  // namespace sy::testing
