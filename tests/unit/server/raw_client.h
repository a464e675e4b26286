// A raw TCP client for tests of the transport: sends exactly the bytes a test (or a hostile
// client) chooses, reads what comes back with a timeout, and tells whether the server closed
// the connection. Header-only; used by the unit tests and the hostile-client tool.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace sy::server::testing {

class RawClient {
 public:
  // Connects to 127.0.0.1:port (ok() false when it cannot), from address `source` when set
  // (e.g. 127.0.0.2: another client than the tests' own).
  explicit RawClient(int port, const char* host = "127.0.0.1", const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 && source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host, &addr.sin_addr);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&& o) noexcept : fd_(o.fd_), received_(std::move(o.received_)) { o.fd_ = -1; }

  bool ok() const { return fd_ >= 0; }

  // Sends all of `data`; false when the server closed or reset the connection.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until a whole response has arrived (its head, and a Content-Length body or the end
  // of a chunked one), the server closes, or `timeout` passes; returns what arrived (and
  // keeps it in received()).
  std::string ReadResponse(std::chrono::milliseconds timeout) {
    Receive(timeout, /*until_complete=*/true);
    return received_;
  }

  // Reads whatever comes until `timeout` passes or the server closes; returns all received.
  std::string ReadFor(std::chrono::milliseconds timeout) {
    Receive(timeout, /*until_complete=*/false);
    return received_;
  }

  // The status code of the response received, 0 when none.
  int Status() const {
    if (received_.size() < 12 || received_.compare(0, 5, "HTTP/") != 0) return 0;
    return std::atoi(received_.c_str() + 9);
  }

  // Whether the server closes the connection within `timeout` (what it sends meanwhile is
  // kept in received()).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    ReadFor(timeout);
    return closed_;
  }

  const std::string& received() const { return received_; }
  void Clear() { received_.clear(); }
  int fd() const { return fd_; }

 private:
  void Receive(std::chrono::milliseconds timeout, bool until_complete) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!(until_complete && Complete()) && !closed_ && Wait(deadline)) {
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
  }

  // Whether something can be read before `deadline` (a deadline already past: right now).
  bool Wait(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) > 0;
  }

  bool Complete() const {
    const size_t end = received_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const std::string head = received_.substr(0, end);
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      return received_.find("\r\n0\r\n\r\n", end) != std::string::npos;
    }
    const size_t cl = lower.find("content-length: ");
    if (cl == std::string::npos) return true;
    return received_.size() >= end + 4 + std::strtoull(lower.c_str() + cl + 16, nullptr, 10);
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

}  // namespace sy::server::testing
