// bench_http_client: the connection-per-request HTTP client of hack/bench.sh. Every
// --interval-ms it opens a new TCP connection, sends `GET PATH` with `Connection: close`,
// reads the whole response and classifies it: 2xx (per X-Switchyard-Color), non-2xx (per
// status), or a socket error (connect, write, read: EOF or reset before a status line,
// timeout). No retries: every failure a user would see is counted. Runs until SIGINT or
// SIGTERM, then prints one JSON line of counters on stdout; with --log FILE, one line per
// failure: "<epoch microseconds> <kind> <detail>".
//
//   bench_http_client --host 127.0.0.1 --port 18080 [--path /] [--interval-ms 10]
//                     [--timeout-ms 5000] [--log FILE]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int /*signal*/) { g_stop = true; }

struct Options {
  std::string host = "127.0.0.1";
  int port = 18080;
  std::string path = "/";
  int interval_ms = 10;
  int timeout_ms = 5000;
  std::string log;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (a == "--host") {
      o->host = v;
    } else if (a == "--port") {
      o->port = std::atoi(v.c_str());
    } else if (a == "--path") {
      o->path = v;
    } else if (a == "--interval-ms") {
      o->interval_ms = std::atoi(v.c_str());
    } else if (a == "--timeout-ms") {
      o->timeout_ms = std::atoi(v.c_str());
    } else if (a == "--log") {
      o->log = v;
    } else {
      return false;
    }
  }
  return o->port > 0;
}

int64_t EpochMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Outcome {
  std::string kind;    // "2xx", "non2xx", "connect", "write", "read", "timeout"
  int status = 0;      // the HTTP status, when one was read
  std::string detail;  // the color (2xx) or the error text
};

// The value of header `name` (lower-case) in a raw response head, or "".
std::string Header(const std::string& head, const std::string& name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t begin = at + 2 + name.size() + 1;
  while (begin < head.size() && head[begin] == ' ') ++begin;
  const size_t end = head.find("\r\n", begin);
  return head.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

Outcome OneRequest(const Options& o, const sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {"connect", 0, std::strerror(errno)};
  timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Outcome out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    out = {errno == EINPROGRESS || errno == EAGAIN ? "timeout" : "connect", 0,
           std::strerror(errno)};
    ::close(fd);
    return out;
  }
  const std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                              std::to_string(o.port) + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    out = {"write", 0, std::strerror(errno)};
    ::close(fd);
    return out;
  }
  std::string response;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
      out = {timeout ? "timeout" : "read", 0, std::strerror(errno)};
    }
    break;
  }
  ::close(fd);
  if (!out.kind.empty() && response.find("\r\n\r\n") == std::string::npos) return out;
  const size_t head_end = response.find("\r\n\r\n");
  if (response.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) {
    return {"read", 0, response.empty() ? "EOF before a response" : "malformed response"};
  }
  const int status = std::atoi(response.c_str() + response.find(' ') + 1);
  const std::string head = response.substr(0, head_end + 2);
  if (status >= 200 && status < 300) return {"2xx", status, Header(head, "x-switchyard-color")};
  return {"non2xx", status, "HTTP " + std::to_string(status)};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::cerr << "usage: bench_http_client [--host H] [--port P] [--path /] [--interval-ms N] "
                 "[--timeout-ms N] [--log FILE]\n";
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) {
    std::cerr << "bench_http_client: --host must be an IPv4 address\n";
    return 2;
  }
  std::ofstream log;
  if (!o.log.empty()) log.open(o.log, std::ios::out | std::ios::trunc);
  std::map<std::string, int64_t> kinds;
  std::map<std::string, int64_t> colors;
  std::map<int, int64_t> statuses;
  int64_t requests = 0;
  const auto interval = std::chrono::milliseconds(o.interval_ms);
  auto next = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    std::this_thread::sleep_until(next);
    next = std::max(next + interval, std::chrono::steady_clock::now());
    const Outcome r = OneRequest(o, addr);
    ++requests;
    ++kinds[r.kind];
    if (r.kind == "2xx") {
      ++colors[r.detail.empty() ? "none" : r.detail];
    } else {
      if (r.status != 0) ++statuses[r.status];
      if (log.is_open()) log << EpochMicros() << ' ' << r.kind << ' ' << r.detail << '\n';
    }
  }
  auto count = [&](const char* k) {
    auto it = kinds.find(k);
    return it == kinds.end() ? int64_t{0} : it->second;
  };
  std::cout << "{\"requests\":" << requests << ",\"ok\":" << count("2xx")
            << ",\"non2xx\":" << count("non2xx") << ",\"connect_errors\":" << count("connect")
            << ",\"write_errors\":" << count("write") << ",\"read_errors\":" << count("read")
            << ",\"timeouts\":" << count("timeout") << ",\"colors\":{";
  bool first = true;
  for (const auto& [c, n] : colors) {
    std::cout << (first ? "" : ",") << '"' << c << "\":" << n;
    first = false;
  }
  std::cout << "},\"statuses\":{";
  first = true;
  for (const auto& [s, n] : statuses) {
    std::cout << (first ? "" : ",") << '"' << s << "\":" << n;
    first = false;
  }
  std::cout << "}}\n";
  return 0;
}
