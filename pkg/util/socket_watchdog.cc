#include "pkg/util/socket_watchdog.h"

#include <sys/socket.h>

#include <algorithm>

namespace sy::util {

SocketWatchdog::SocketWatchdog() : thread_([this] { Run(); }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t SocketWatchdog::Arm(int fd, std::chrono::steady_clock::time_point deadline) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    id = ++next_id_;
    armed_[id] = Entry{fd, deadline, false};
  }
  cv_.notify_all();
  return id;
}

bool SocketWatchdog::Disarm(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = armed_.find(id);
  if (it == armed_.end()) return false;
  const bool fired = it->second.fired;
  armed_.erase(it);
  return fired;
}

void SocketWatchdog::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    for (auto& [id, e] : armed_) {
      if (e.fired) continue;
      if (e.deadline <= now) {
        // Under mu_: Disarm, which the owner calls before closing fd, cannot run meanwhile,
        // so fd is still the armed socket and not a reused number.
        ::shutdown(e.fd, SHUT_RDWR);
        e.fired = true;
      } else {
        next = std::min(next, e.deadline);
      }
    }
    if (next == std::chrono::steady_clock::time_point::max()) {
      cv_.wait(l);
    } else {
      cv_.wait_until(l, next);
    }
  }
}

}  // namespace sy::util
