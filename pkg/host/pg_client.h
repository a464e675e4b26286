// The statements Switchyard sends to PostgreSQL servers, behind an interface: the observer
// and the database steps run them through a PgClient, so each step can be tested over a fake
// (tests/fakes/fake_pg_client.h). The real one keeps libpqxx connections: pqxx_pg_client.h.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"

namespace sy::host {

// Where and as whom to connect.
struct PgEndpoint {
  std::string host;
  int port = 0;
  std::string user;
  std::string password_file;  // libpq passfile; "" = libpq's default (PGPASSFILE, ~/.pgpass)

  std::string Address() const;  // "127.0.0.1:15434", the key of the kept connection
  // `host=H port=P user=U dbname=postgres connect_timeout=2 application_name=switchyard`
  // [+ `passfile=F`], values quoted as libpq wants. Holds no password, still not for logs.
  std::string Conninfo() const;
};

// The endpoint of `color`'s server, as spec.database.user.
PgEndpoint EndpointFor(const api::DeploymentColorSpec& spec, api::Color color);

// One result row as text; NULL is nullopt.
using PgRow = std::vector<std::optional<std::string>>;

// Runs single statements on PostgreSQL servers. Thread-safe: statements to different servers
// may run in parallel, to one server they run one at a time.
class PgClient {
 public:
  virtual ~PgClient() = default;

  // How long a statement may wait for its reply by default: far above what observing or
  // promoting takes; a CHECKPOINT passes its own.
  static constexpr std::chrono::milliseconds kStatementTimeout{30'000};

  // Runs one statement outside any transaction block (so CHECKPOINT and pg_promote work) on
  // the server at `ep`. `params` bind $1, $2, ... as text. Every statement Switchyard sends
  // is safe to repeat, so an implementation may send it once more after a lost connection.
  // Status codes:
  //   kUnavailable: cannot connect, connection lost, no reply within `timeout` (a frozen
  //     server or a silent network), or the server is starting up, shutting down or in
  //     recovery (SQLSTATE classes 08, 57P0x, 53300): retry later;
  //   kFailedPrecondition: the server is not in the state the statement needs (class 55,
  //     25006 read-only transaction);
  //   kPermissionDenied: insufficient privilege (42501, class 28);
  //   kAlreadyExists: duplicate object (42710);
  //   kInvalidArgument: other SQL errors in class 42 / 22; kInternal: anything else.
  absl::StatusOr<std::vector<PgRow>> Query(const PgEndpoint& ep, const std::string& sql,
                                           const std::vector<std::string>& params = {},
                                           std::chrono::milliseconds timeout = kStatementTimeout) {
    return RunStatement(ep, sql, params, timeout);
  }

  // Forgets any connection kept to `ep.Address()` (e.g. after stopping that server).
  virtual void Drop(const PgEndpoint& ep) = 0;

 private:
  // What Query() does (defaults stay on the non-virtual method).
  virtual absl::StatusOr<std::vector<PgRow>> RunStatement(const PgEndpoint& ep,
                                                          const std::string& sql,
                                                          const std::vector<std::string>& params,
                                                          std::chrono::milliseconds timeout) = 0;
};

}  // namespace sy::host
