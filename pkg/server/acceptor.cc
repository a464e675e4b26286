#include "pkg/server/acceptor.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"

namespace sy::server {
namespace {

// How long a connection may have sent nothing before it counts as idle for eviction.
constexpr std::chrono::milliseconds kIdleGrace{200};

constexpr uint64_t kListenKey = ~uint64_t{0};
constexpr uint64_t kWakeKey = ~uint64_t{0} - 1;
// After accept() failed for want of file descriptors with nothing to evict, new connections
// wait in the kernel's backlog this long instead of spinning the loop.
constexpr std::chrono::milliseconds kAcceptPause{100};
// Connections accepted (and read) at once before the caps are enforced.
constexpr int kAcceptBatch = 256;

std::string AddressOf(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf, sizeof buf);
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

int Bind(const std::string& host, int port, int* bound_port, absl::Status* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0) {
    *error = absl::InvalidArgumentError(absl::StrCat("cannot resolve ", host));
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: with SO_REUSEPORT a second daemon would bind the same port without
    // error and silently take a share of the connections.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    *error = absl::UnavailableError("cannot bind");
    return -1;
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port =
      ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(addr).sin6_port
                                       : reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  return fd;
}

}  // namespace

Acceptor::Acceptor(AcceptorOptions options, std::shared_ptr<TlsContext> tls, Dispatch dispatch,
                   Refusal refusal)
    : options_(options),
      tls_(std::move(tls)),
      dispatch_(std::move(dispatch)),
      refusal_(std::move(refusal)) {}

Acceptor::~Acceptor() { Stop(); }

absl::Status Acceptor::Start(const std::string& host, int port) {
  absl::Status error;
  listen_fd_ = Bind(host, port, &port_, &error);
  if (listen_fd_ < 0) return error;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll/eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenKey;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kWakeKey;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void Acceptor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof one);
    }
  }
  if (thread_.joinable()) thread_.join();
  conns_.clear();
  by_client_.clear();
  std::lock_guard<std::mutex> l(mu_);  // Resume() writes wake_fd_ under it
  resumed_.clear();
  for (int* fd : {&listen_fd_, &epoll_fd_, &wake_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

AcceptorStats Acceptor::Stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void Acceptor::Resume(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_ || wake_fd_ < 0) return;  // c closes here
  resumed_.push_back(std::move(c));
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void Acceptor::Loop() {
  epoll_event events[64];
  while (!stopping_) {
    int timeout_ms = 1000;
    if (!conns_.empty()) {
      const auto left = conns_.begin()->second->head_deadline - std::chrono::steady_clock::now();
      timeout_ms = static_cast<int>(
          std::clamp<int64_t>(std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0, 1000));
    }
    if (accept_paused_) timeout_ms = std::min(timeout_ms, static_cast<int>(kAcceptPause.count()));
    const int n = ::epoll_wait(epoll_fd_, events, 64, timeout_ms);
    for (int i = 0; i < n && !stopping_; ++i) {
      const uint64_t key = events[i].data.u64;
      if (key == kListenKey) {
        AcceptAll();
      } else if (key == kWakeKey) {
        uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
        TakeResumed();
      } else if (conns_.count(key) > 0) {
        Advance(key);
      }
    }
    if (accept_paused_ && std::chrono::steady_clock::now() >= accept_resume_at_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenKey;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
      accept_paused_ = false;
    }
    ExpireHeads();
  }
}

void Acceptor::AcceptAll() {
  // A batch is accepted and read before any cap is enforced, so that a client whose head
  // came with its connection is served before a burst of others can evict it.
  for (int batch = 0; batch < kAcceptBatch; ++batch) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
          EvictOldest(nullptr)) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_ = true;
        accept_resume_at_ = std::chrono::steady_clock::now() + kAcceptPause;
      }
      break;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.accepted;
    }
    // A response goes out in more than one write (TLS records, head and body): without it
    // each later write waits for the client's delayed ACK, about 40 ms per request on a kept
    // connection. A Unix socket has no such option: the failure is harmless.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Add(std::make_unique<Connection>(fd, AddressOf(addr), tls_));
  }
  EnforceCaps();
}

void Acceptor::Add(std::unique_ptr<Connection> c) {
  const uint64_t serial = next_serial_++;
  c->serial = serial;
  c->head_deadline = std::chrono::steady_clock::now() + options_.head_timeout;
  by_client_[c->PeerIp()].insert(serial);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = serial;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->Fd(), &ev);
  conns_.emplace(serial, std::move(c));
  Advance(serial);  // a head that came with the connection (or is still buffered) goes on now
}

void Acceptor::EnforceCaps() {
  while (conns_.size() > options_.max_connections && EvictOldest(nullptr)) {
  }
  for (auto it = by_client_.begin(); it != by_client_.end();) {
    const std::string client = it->first;
    while (it->second.size() > options_.max_per_client) {
      EvictOldest(&it->second);
      it = by_client_.find(client);
      if (it == by_client_.end()) break;
    }
    it = it == by_client_.end() ? by_client_.upper_bound(client) : std::next(it);
  }
}

void Acceptor::Watch(uint64_t serial, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = serial;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conns_.at(serial)->Fd(), &ev);
}

std::unique_ptr<Connection> Acceptor::Release(uint64_t serial) {
  auto it = conns_.find(serial);
  std::unique_ptr<Connection> c = std::move(it->second);
  conns_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->Fd(), nullptr);
  auto client = by_client_.find(c->PeerIp());
  client->second.erase(serial);
  if (client->second.empty()) by_client_.erase(client);
  return c;
}

void Acceptor::Drop(uint64_t serial, int status, const std::string& message) {
  std::unique_ptr<Connection> c = Release(serial);
  if (status != 0 && c->Handshaken()) c->WriteNow(refusal_(status, message));
}

bool Acceptor::EvictOldest(const std::set<uint64_t>* among) {
  if (among != nullptr ? among->empty() : conns_.empty()) return false;
  uint64_t oldest = among != nullptr ? *among->begin() : conns_.begin()->first;
  // The oldest connection that has sent nothing of use for a while goes first: idle
  // connections are the cheapest to open in numbers, and a client in the middle of a TLS
  // handshake (several round trips) or of its head must not be pushed out by a stream of
  // them. "For a while": a client that has just connected (a health probe during a flood of
  // slow heads) has not had the time to send anything yet and is not idle.
  const auto now = std::chrono::steady_clock::now();
  auto idle = [&](uint64_t serial) {
    const Connection& c = *conns_.at(serial);
    return !c.Started() && now - (c.head_deadline - options_.head_timeout) >= kIdleGrace;
  };
  if (among != nullptr) {
    if (auto it = std::find_if(among->begin(), among->end(), idle); it != among->end()) {
      oldest = *it;
    }
  } else if (auto it = std::find_if(conns_.begin(), conns_.end(),
                                    [&](const auto& c) { return idle(c.first); });
             it != conns_.end()) {
    oldest = it->first;
  }
  Drop(oldest, 0, "");
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.evicted;
  return true;
}

void Acceptor::Advance(uint64_t serial) {
  Connection& c = *conns_.at(serial);
  for (;;) {
    Connection::Io io = c.Handshake();
    if (io == Connection::Io::kDone) {
      HeadParse parse = ParseRequestHead(c.Buffer(), options_.limits);
      if (parse.state == HeadParse::State::kComplete) {
        dispatch_(Release(serial), std::move(parse.head));
        return;
      }
      if (parse.state == HeadParse::State::kRefused) {
        {
          std::lock_guard<std::mutex> l(mu_);
          ++stats_.refused;
        }
        Drop(serial, parse.status, parse.message);
        return;
      }
      io = c.ReceiveSome(options_.limits.max_head_bytes);
      if (io == Connection::Io::kDone) continue;
    }
    switch (io) {
      case Connection::Io::kWantRead:
        Watch(serial, EPOLLIN);
        return;
      case Connection::Io::kWantWrite:
        Watch(serial, EPOLLOUT);
        return;
      default:
        Drop(serial, 0, "");  // the client went away
        return;
    }
  }
}

void Acceptor::ExpireHeads() {
  const auto now = std::chrono::steady_clock::now();
  while (!conns_.empty() && conns_.begin()->second->head_deadline <= now) {
    const uint64_t serial = conns_.begin()->first;
    // A connection that never sent a byte of this request (an idle kept-alive one) just
    // closes; one that started a head gets 408.
    const bool started = !conns_.begin()->second->Buffer().empty();
    Drop(serial, started ? 408 : 0, "the request head did not arrive in time");
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.timed_out;
  }
}

void Acceptor::TakeResumed() {
  std::vector<std::unique_ptr<Connection>> back;
  {
    std::lock_guard<std::mutex> l(mu_);
    back.swap(resumed_);
  }
  for (auto& c : back) Add(std::move(c));
  EnforceCaps();
}

}  // namespace sy::server
