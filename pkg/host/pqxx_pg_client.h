// The real PgClient: connections to the PostgreSQL servers of a resource, kept open across
// passes and shared by the observer and the actuator, so that a switchover's polling loops
// cost one round trip per poll instead of a connection set-up. libpqxx stays behind this
// header.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/host/pg_client.h"
#include "pkg/util/socket_watchdog.h"

namespace sy::host {

// Thread-safe: statements to different servers run in parallel, to one server one at a time.
class PqxxPgClient final : public PgClient {
 public:
  PqxxPgClient();
  ~PqxxPgClient() override;
  PqxxPgClient(const PqxxPgClient&) = delete;
  PqxxPgClient& operator=(const PqxxPgClient&) = delete;

  // Closes the kept connection to `ep.Address()`, if any.
  void Drop(const PgEndpoint& ep) override;

 private:
  // As PgClient::Query, on the kept connection to `ep.Address()`, connecting first when there
  // is none (or when the endpoint's user or passfile changed). A kept connection found broken
  // (the server restarted since) is replaced and the statement sent once more on the new one.
  // The connection is dropped on every error but a plain SQL error; no reply within
  // `timeout` (libpq alone would wait forever) shuts its socket down.
  absl::StatusOr<std::vector<PgRow>> RunStatement(const PgEndpoint& ep, const std::string& sql,
                                                  const std::vector<std::string>& params,
                                                  std::chrono::milliseconds timeout) override;

  struct Slot;  // one server's connection and its mutex
  std::shared_ptr<Slot> SlotFor(const std::string& address);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // guarded by mu_
  util::SocketWatchdog watchdog_;
};

}  // namespace sy::host
