// A deadline for blocking socket I/O that has no timeout of its own (libpq waits for a
// statement's reply forever): when the deadline passes, the socket is shut down, which wakes
// the blocked reader with an error. Needed because a server that is frozen (SIGSTOP, a hung
// disk, a paused VM) or cut off by the network keeps an established TCP connection alive for
// many minutes: its kernel, or the lack of any RST, leaves TCP nothing to time out.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace sy::util {

// Thread-safe. One background thread serves every armed socket.
class SocketWatchdog {
 public:
  SocketWatchdog();
  ~SocketWatchdog();  // joins the thread; sockets still armed are left alone
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  // Shuts `fd` down (shutdown(2), both directions; it stays open) if Disarm(id) has not been
  // called by `deadline`. The caller keeps `fd` open until it has disarmed it.
  uint64_t Arm(int fd, std::chrono::steady_clock::time_point deadline);
  // Returns true if the deadline passed and the socket was shut down.
  bool Disarm(uint64_t id);

 private:
  struct Entry {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    bool fired;
  };
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Entry> armed_;  // guarded by mu_
  uint64_t next_id_ = 0;             // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::thread thread_;
};

// Arms `watchdog` for `fd` for its lifetime; `*fired` tells, after destruction, whether the
// deadline passed.
class ScopedSocketDeadline {
 public:
  ScopedSocketDeadline(SocketWatchdog& watchdog, int fd, std::chrono::milliseconds timeout,
                       bool* fired)
      : watchdog_(watchdog),
        id_(watchdog.Arm(fd, std::chrono::steady_clock::now() + timeout)),
        fired_(fired) {}
  ~ScopedSocketDeadline() { *fired_ = watchdog_.Disarm(id_); }
  ScopedSocketDeadline(const ScopedSocketDeadline&) = delete;
  ScopedSocketDeadline& operator=(const ScopedSocketDeadline&) = delete;

 private:
  SocketWatchdog& watchdog_;  // must outlive this object
  const uint64_t id_;
  bool* const fired_;
};

}  // namespace sy::util
