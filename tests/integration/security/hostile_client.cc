// hostile_client: attacks the daemon's HTTP endpoint on 127.0.0.1 as a hostile client would,
// for a bounded time and a bounded number of connections, while a prober asks for /healthz on
// a fresh connection every 50 ms. Prints one line of key=value figures:
//   attack=chunked-bomb requests=12 statuses=401:6,413:6 max_sent_bytes=1114112 ...
//   healthz_n=160 healthz_failed=0 healthz_p50_ms=0.4 healthz_p99_ms=1.8 healthz_max_ms=3.1
// and exits 0 (the checks are the caller's).
//
//   hostile_client --port P --attack NAME [--connections N] [--seconds S] [--token-file F]
//                  [--body-file F]
// Attacks (N at once, each repeated until --seconds pass): slow-headers (connections sending
// a head one byte per 500 ms, reopened when closed), slow-body (anonymous POSTs declaring
// 1 MB and sending a byte per 500 ms), chunked-bomb (POSTs, half with the token, streaming up
// to 300 MB of chunks), gzip-bomb (POSTs of --body-file, gzip, half with the token),
// header-flood (requests of up to 100,000 header lines), watchers (watches held open),
// reconnect-storm (connect, ask /healthz, close, as fast as possible, at most 100,000 in
// all).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/server/raw_client.h"

namespace {

using sy::server::testing::RawClient;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  int port = 0;
  std::string attack;
  int connections = 100;
  int seconds = 10;
  std::string token;
  std::string body;
};

struct Figures {
  std::mutex mu;
  std::map<int, int> statuses;  // 0: no answer
  int requests = 0;
  int closed_by_server = 0;
  size_t max_sent = 0;
  double longest_held_s = 0;
  void Record(int status, size_t sent = 0) {
    std::lock_guard<std::mutex> l(mu);
    ++statuses[status];
    ++requests;
    max_sent = std::max(max_sent, sent);
  }
};

std::string Auth(const Options& o, bool with_token) {
  return with_token && !o.token.empty() ? "Authorization: Bearer " + o.token + "\r\n" : "";
}

std::string PostHead(const Options& o, bool token, const std::string& framing) {
  return "POST /apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors HTTP/1.1\r\n"
         "Host: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         Auth(o, token) + framing + "\r\n";
}

// Sends `piece` until `limit` bytes went or the server stops taking them; the count sent.
size_t Stream(RawClient& c, const std::string& piece, size_t limit) {
  size_t sent = 0;
  while (sent < limit && c.Send(piece)) sent += piece.size();
  return sent;
}

// The prober: /healthz on a new connection every 50 ms until `stop`.
struct Prober {
  std::vector<double> ms;
  int failed = 0;
  void Run(int port, const std::atomic<bool>& stop) {
    while (!stop.load()) {
      const auto t0 = Clock::now();
      RawClient c(port);
      int status = 0;
      if (c.ok() &&
          c.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
        c.ReadResponse(milliseconds(2000));
        status = c.Status();
      }
      const double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (status == 200) {
        ms.push_back(took);
      } else {
        ++failed;
      }
      std::this_thread::sleep_until(t0 + milliseconds(50));
    }
  }
  std::string Summary() {
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) {
      return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
    };
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "healthz_n=%zu healthz_failed=%d healthz_p50_ms=%.1f healthz_p99_ms=%.1f "
                  "healthz_max_ms=%.1f",
                  ms.size() + failed, failed, at(0.5), at(0.99), ms.empty() ? 0.0 : ms.back());
    return buf;
  }
};

// N connections, each sending `head` one byte per 500 ms; reopened when the server closes.
void SlowSend(const Options& o, const std::string& head, Figures& f, Clock::time_point end) {
  struct Slow {
    std::unique_ptr<RawClient> c;
    size_t at = 0;
    Clock::time_point opened;
  };
  std::vector<Slow> conns(static_cast<size_t>(o.connections));
  while (Clock::now() < end) {
    for (Slow& s : conns) {
      if (!s.c) {
        s.c = std::make_unique<RawClient>(o.port);
        s.at = 0;
        s.opened = Clock::now();
      }
      // What the server said (408, or nothing when it closed the connection for a newer one)
      // is read before the next byte goes.
      const bool alive = s.c->ok() && !s.c->ClosedWithin(milliseconds(0)) &&
                         s.c->Send(std::string(1, head[s.at % head.size()]));
      ++s.at;
      if (!alive) {
        f.Record(s.c->Status());
        std::lock_guard<std::mutex> l(f.mu);
        ++f.closed_by_server;
        f.longest_held_s = std::max(f.longest_held_s,
                                    std::chrono::duration<double>(Clock::now() - s.opened).count());
        s.c.reset();
      }
    }
    std::this_thread::sleep_for(milliseconds(500));
  }
  for (Slow& s : conns) {  // still open at the end: how long they were held
    if (!s.c) continue;
    std::lock_guard<std::mutex> l(f.mu);
    f.longest_held_s =
        std::max(f.longest_held_s, std::chrono::duration<double>(Clock::now() - s.opened).count());
  }
}

// `n` threads each running `body(i)`.
template <typename F>
void Parallel(int n, F body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { body(i); });
  for (auto& t : threads) t.join();
}

// `n` threads each running `one(i)` again and again until `end` (at most 1,000 times each).
template <typename F>
void Repeat(int n, Clock::time_point end, F one) {
  Parallel(n, [&](int i) {
    for (int k = 0; k < 1000 && Clock::now() < end; ++k) one(i);
  });
}

void Attack(const Options& o, Figures& f) {
  const auto end = Clock::now() + std::chrono::seconds(o.seconds);
  const std::string& a = o.attack;
  if (a == "slow-headers") {
    SlowSend(o, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(4096, 's'), f,
             end);
  } else if (a == "slow-body") {
    // Anonymous: refused (401) as soon as the head is in, whatever the body does.
    Repeat(o.connections, end, [&](int) {
      RawClient c(o.port);
      c.Send(PostHead(o, false, "Content-Length: 1000000\r\n"));
      size_t sent = 0;
      while (Clock::now() < end && c.Send("x") && !c.ClosedWithin(milliseconds(500))) ++sent;
      c.ReadResponse(milliseconds(100));
      f.Record(c.Status(), sent);
    });
  } else if (a == "chunked-bomb") {
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    Repeat(o.connections, end, [&](int i) {
      RawClient c(o.port);
      c.Send(PostHead(o, i % 2 == 1, "Transfer-Encoding: chunked\r\n"));
      const size_t sent = Stream(c, chunk, size_t{300} << 20);
      c.ReadResponse(milliseconds(2000));
      f.Record(c.Status(), sent);
    });
  } else if (a == "gzip-bomb") {
    Repeat(o.connections, end, [&](int i) {
      RawClient c(o.port);
      c.Send(PostHead(
          o, i % 2 == 1,
          "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(o.body.size()) + "\r\n"));
      const size_t sent = c.Send(o.body) ? o.body.size() : 0;
      c.ReadResponse(milliseconds(5000));
      f.Record(c.Status(), sent);
    });
  } else if (a == "header-flood") {
    Repeat(o.connections, end, [&](int i) {
      RawClient c(o.port);
      std::string lines = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      for (int h = 0; h < 1000; ++h) {
        lines += "X-Flood-" + std::to_string(h) + ": " + std::to_string(i) + "\r\n";
      }
      size_t sent = 0;
      for (int round = 0; round < 100 && c.Send(lines); ++round) sent += lines.size();
      c.ReadResponse(milliseconds(2000));
      f.Record(c.Status(), sent);
    });
  } else if (a == "watchers") {
    std::vector<std::unique_ptr<RawClient>> watches;
    for (int i = 0; i < o.connections; ++i) {
      watches.push_back(std::make_unique<RawClient>(o.port));
      watches.back()->Send(
          "GET /apis/switchyard.dev/v1alpha1/deploymentcolors?watch=true HTTP/1.1\r\n"
          "Host: 127.0.0.1\r\n\r\n");
    }
    for (auto& w : watches) {
      w->ReadFor(milliseconds(20));
      if (w->Status() == 0) w->ReadFor(milliseconds(1000));
      f.Record(w->Status());
    }
    std::this_thread::sleep_until(end);  // held open
  } else if (a == "reconnect-storm") {
    std::atomic<int> left{100000};
    Parallel(o.connections, [&](int) {
      while (Clock::now() < end && left.fetch_sub(1) > 0) {
        RawClient c(o.port);
        if (!c.ok()) {
          f.Record(-1);
          continue;
        }
        c.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        c.ReadResponse(milliseconds(2000));
        f.Record(c.Status());
      }
    });
  } else {
    std::fprintf(stderr, "hostile_client: unknown attack %s\n", a.c_str());
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--port") {
      o.port = std::atoi(v.c_str());
    } else if (k == "--attack") {
      o.attack = v;
    } else if (k == "--connections") {
      o.connections = std::clamp(std::atoi(v.c_str()), 1, 2000);
    } else if (k == "--seconds") {
      o.seconds = std::clamp(std::atoi(v.c_str()), 1, 60);
    } else if (k == "--token-file" || k == "--body-file") {
      std::ifstream in(v, std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      std::string content = s.str();
      if (k == "--token-file") {
        content = content.substr(0, content.find('\n'));
        o.token = content;
      } else {
        o.body = content;
      }
    }
  }
  if (o.port <= 0 || o.attack.empty()) {
    std::fprintf(stderr, "usage: hostile_client --port P --attack NAME [--connections N] ...\n");
    return 2;
  }
  std::atomic<bool> stop{false};
  Prober prober;
  std::thread probe([&] { prober.Run(o.port, stop); });
  Figures f;
  const auto t0 = Clock::now();
  Attack(o, f);
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  probe.join();
  std::string statuses;
  for (const auto& [code, n] : f.statuses) {
    statuses += (statuses.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(n);
  }
  std::printf(
      "attack=%s seconds=%.1f requests=%d statuses=%s closed_by_server=%d max_sent_bytes=%zu "
      "longest_held_s=%.1f %s\n",
      o.attack.c_str(), took, f.requests, statuses.empty() ? "-" : statuses.c_str(),
      f.closed_by_server, f.max_sent, f.longest_held_s, prober.Summary().c_str());
  return 0;
}
