// Connections to the PostgreSQL servers of a resource, kept open across passes and shared
// by the observer and the actuator, so that a switchover's polling loops cost one round trip
// per poll instead of a connection set-up. libpqxx stays behind this header.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/util/socket_watchdog.h"

namespace sy::observe {

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

// Thread-safe: statements to different servers run in parallel, to one server one at a time.
class PgConnections {
 public:
  PgConnections();
  ~PgConnections();
  PgConnections(const PgConnections&) = delete;
  PgConnections& operator=(const PgConnections&) = delete;

  // Runs one statement outside any transaction block (so CHECKPOINT and pg_promote work) on
  // the kept connection to `ep.Address()`, connecting first when there is none (or when the
  // endpoint's user or passfile changed). `params` bind $1, $2, ... as text.
  // A kept connection found broken (the server restarted since) is replaced and the
  // statement sent once more on the new one; every statement Switchyard sends is safe to
  // repeat. Status codes (the connection is dropped on every error but a plain SQL error):
  //   kUnavailable: cannot connect, connection lost, no reply within `timeout` (a frozen
  //     server or a silent network: libpq alone would wait forever), or the server is starting
  //     up, shutting down or in recovery (SQLSTATE classes 08, 57P0x, 53300);
  //   kFailedPrecondition: the server is not in the state the statement needs (class 55,
  //     25006 read-only transaction);
  //   kPermissionDenied: insufficient privilege (42501, class 28);
  //   kAlreadyExists: duplicate object (42710);
  //   kInvalidArgument: other SQL errors in class 42 / 22; kInternal: anything else.
  absl::StatusOr<std::vector<PgRow>> Query(const PgEndpoint& ep, const std::string& sql,
                                           const std::vector<std::string>& params = {},
                                           std::chrono::milliseconds timeout = kStatementTimeout);

  // How long a statement may wait for its reply by default: far above what observing or
  // promoting takes; a CHECKPOINT passes its own.
  static constexpr std::chrono::milliseconds kStatementTimeout{30'000};

  // Closes the kept connection to `ep.Address()`, if any (e.g. after stopping that server).
  void Drop(const PgEndpoint& ep);

 private:
  struct Slot;  // one server's connection and its mutex
  std::shared_ptr<Slot> SlotFor(const std::string& address);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // guarded by mu_
  util::SocketWatchdog watchdog_;
};

}  // namespace sy::observe
