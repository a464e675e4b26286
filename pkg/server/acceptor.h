// The front of the daemon's HTTP endpoint: one thread that accepts connections, completes
// TLS handshakes and reads request heads, all without blocking, so that a client that is
// slow (or never finishes) holds no worker thread and no more than one head's worth of
// memory. Only a complete, checked head (request_head.h) is handed on, with its connection,
// to a worker; a kept-alive connection comes back here for its next head.
//
// Limits: a head must be complete within head_timeout of the connection's arrival (or of
// its return after a response); at most max_connections connections wait here, at most
// max_per_client of them from one IP address. New connections are accepted and read in
// batches; then, over either cap, the connections that have waited longest (of that client,
// or of all) are closed, those that sent nothing yet (no head byte, no TLS handshake message)
// first, so that a flood of idle or slow connections delays nobody for longer than it takes
// to send a head, or to complete a TLS handshake.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "pkg/server/connection.h"
#include "pkg/server/request_head.h"

namespace sy::server {

struct AcceptorOptions {
  HeadLimits limits;
  std::chrono::milliseconds head_timeout{10000};
  size_t max_connections = 512;
  size_t max_per_client = 64;
};

// Counters since Start(), for tests and logs.
struct AcceptorStats {
  uint64_t accepted = 0;
  uint64_t evicted = 0;    // closed to make room for a newer connection
  uint64_t timed_out = 0;  // no complete head within head_timeout (408)
  uint64_t refused = 0;    // a head refused by ParseRequestHead
};

class Acceptor {
 public:
  // Called on the acceptor's thread with a connection whose Buffer() starts with `head`.
  // Must not block: it hands the connection to a worker, or answers and drops it.
  using Dispatch = std::function<void(std::unique_ptr<Connection>, RequestHead)>;
  // The bytes of a complete response refusing a request with `status` and `message`.
  using Refusal = std::function<std::string(int status, const std::string& message)>;

  // `tls` null: plain HTTP.
  Acceptor(AcceptorOptions options, std::shared_ptr<TlsContext> tls, Dispatch dispatch,
           Refusal refusal);
  // Stop().
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Binds host:port (port 0: any free one) and starts the thread. kUnavailable when the
  // address cannot be bound, kInvalidArgument when it does not resolve.
  absl::Status Start(const std::string& host, int port);
  int port() const { return port_; }

  // Thread-safe: takes back a connection after a response, to read its next head (which its
  // buffer may already hold). Dropped when the acceptor is stopping.
  void Resume(std::unique_ptr<Connection> c);

  // Closes the listening socket and every connection waiting here; joins the thread.
  // Idempotent.
  void Stop();

  AcceptorStats Stats() const;

 private:
  void Loop();
  void AcceptAll();
  void Add(std::unique_ptr<Connection> c);
  // Closes the connections that waited longest until both caps hold.
  void EnforceCaps();
  // Handshakes, reads and parses what `serial`'s connection has; dispatches a complete head.
  void Advance(uint64_t serial);
  void Watch(uint64_t serial, uint32_t events);
  // Takes the connection out of the acceptor's books (and epoll).
  std::unique_ptr<Connection> Release(uint64_t serial);
  void Drop(uint64_t serial, int status, const std::string& message);
  // Closes the connection that has waited longest among `among` (all when null), one that
  // sent nothing yet (Connection::Started) before any other.
  bool EvictOldest(const std::set<uint64_t>* among);
  void ExpireHeads();
  void TakeResumed();

  const AcceptorOptions options_;
  const std::shared_ptr<TlsContext> tls_;
  const Dispatch dispatch_;
  const Refusal refusal_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool accept_paused_ = false;
  Deadline accept_resume_at_{};

  // The acceptor thread's own books.
  uint64_t next_serial_ = 0;
  std::map<uint64_t, std::unique_ptr<Connection>> conns_;  // by serial: oldest first
  std::map<std::string, std::set<uint64_t>> by_client_;

  mutable std::mutex mu_;  // guards resumed_ and stats_
  std::vector<std::unique_ptr<Connection>> resumed_;
  AcceptorStats stats_;
};

}  // namespace sy::server
