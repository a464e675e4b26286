// shop-app: the demo application of the local blue/green stack (hack/local-up.sh).
//
//   shop-app --color blue|green --listen 127.0.0.1:18081 --db "<libpq conninfo>"
//            [--fail-file PATH]
//
//   GET  /         200 "<color>\n", header X-Switchyard-Color: <color>
//   GET  /healthz  200 "ok\n"
//   POST /orders   inserts into orders(color, note) -> 201 {"id":N,"color":"..."}
//                  (note: the `note` query or form parameter, else the raw body, may be
//                  empty); 503 {"error":"..."} on a database error
//   any            503 {"error":"failing on purpose: ..."} while the --fail-file exists (for
//                  fault tests: an app that answers but is broken)
//
// SIGTERM or SIGINT stops it gracefully (exit 0); a second one exits at once (exit 1).
// One log line per start, stop and error goes to stderr.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <variant>

#include "orders.h"
#include "shop_server.h"

namespace shop {
namespace {

struct Options {
  std::string color;
  std::string host;
  int port = 0;
  std::string db;
  std::string fail_file;  // while it exists, every request is answered 503
};

std::string color_for_log = "?";
std::atomic<bool> stop_requested{false};

// One line per event, prefixed with a UTC timestamp; one fprintf, so lines do not interleave.
__attribute__((format(printf, 1, 2))) void Log(const char* fmt, ...) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  char message[2048];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(message, sizeof(message), fmt, args);
  va_end(args);
  std::fprintf(stderr, "%s.%03dZ shop-app[%s] %s\n", stamp, ms, color_for_log.c_str(), message);
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "shop-app: %s\nusage: shop-app --color blue|green --listen HOST:PORT "
               "--db \"<libpq conninfo>\" [--fail-file PATH]\n",
               why.c_str());
  return 2;
}

// Parses --flag value and --flag=value. Returns 0 on success, else an exit code.
int ParseFlags(int argc, char** argv, Options& opts) {
  std::string listen;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (arg == "--help" || arg == "-h") {
      return Usage("help");
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage("missing value for " + arg);
    }
    if (arg == "--color") {
      opts.color = value;
    } else if (arg == "--listen") {
      listen = value;
    } else if (arg == "--db") {
      opts.db = value;
    } else if (arg == "--fail-file") {
      opts.fail_file = value;
    } else {
      return Usage("unknown flag " + arg);
    }
  }
  if (opts.color != "blue" && opts.color != "green") {
    return Usage("--color must be blue or green");
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Usage("--listen must be HOST:PORT");
  }
  opts.host = listen.substr(0, colon);
  char* end = nullptr;
  const long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535) {
    return Usage("--listen has a bad port: " + listen);
  }
  opts.port = static_cast<int>(port);
  if (opts.db.empty()) {
    return Usage("--db is required");
  }
  return 0;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// libpq messages span lines ("...\n\tIs the server running...\n"): keep log lines and
// JSON to one line, with single spaces.
std::string OneLine(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

// Decodes one application/x-www-form-urlencoded component ('+' is a space).
std::string FormDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The order's note: the `note` query parameter, else the `note` field of a form body,
// else the raw body.
std::string NoteOf(const httplib::Request& req, const std::string& body) {
  if (req.has_param("note")) {
    return req.get_param_value("note");
  }
  if (req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t end = body.find('&', pos);
      if (end == std::string::npos) {
        end = body.size();
      }
      const std::string field = body.substr(pos, end - pos);
      if (field.starts_with("note=")) {
        return FormDecode(field.substr(5));
      }
      pos = end + 1;
    }
    return "";
  }
  return body;
}

void AddRoutes(ShopServer& server, const Options& opts) {
  server.set_default_headers({{"X-Switchyard-Color", opts.color}});
  if (!opts.fail_file.empty()) {
    server.set_pre_routing_handler([&opts](const httplib::Request&, httplib::Response& res) {
      if (access(opts.fail_file.c_str(), F_OK) != 0) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 503;
      res.set_content(
          "{\"error\":" + JsonString("failing on purpose: " + opts.fail_file + " exists") + "}\n",
          "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server.Get("/", [&opts](const httplib::Request&, httplib::Response& res) {
    res.set_content(opts.color + "\n", "text/plain");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  // A content-reader handler, because httplib 0.11.4 reads the body of a POST without
  // Content-Length until the client closes (curl -X POST, or nginx forwarding one, would hang
  // for the read timeout); per RFC 9112 such a request has no body.
  server.Post("/orders", [&opts](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& content_reader) {
    std::string body;
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      content_reader([&body](const char* data, size_t length) {
        body.append(data, length);
        return true;
      });
    }
    const OrderResult result = InsertOrder(opts.db, opts.color, NoteOf(req, body));
    if (const auto* created = std::get_if<OrderCreated>(&result)) {
      res.status = 201;
      res.set_content(
          "{\"id\":" + std::to_string(created->id) + ",\"color\":" + JsonString(opts.color) + "}\n",
          "application/json");
      return;
    }
    const std::string error = OneLine(std::get<OrderFailed>(result).error);
    Log("error POST /orders: %s", error.c_str());
    res.status = 503;
    res.set_content("{\"error\":" + JsonString(error) + "}\n", "application/json");
  });
}

// Waits for SIGTERM/SIGINT (blocked in every thread, so only this one receives them).
void HandleSignals(sigset_t signals, ShopServer& server) {
  int sig = 0;
  sigwait(&signals, &sig);
  Log("received %s, stopping", strsignal(sig));
  stop_requested = true;
  server.Shutdown();
  sigwait(&signals, &sig);
  Log("received %s again, exiting now", strsignal(sig));
  std::_Exit(1);
}

int Run(int argc, char** argv) {
  Options opts;
  if (const int rc = ParseFlags(argc, argv, opts); rc != 0) {
    return rc;
  }
  color_for_log = opts.color;

  // Block the stop signals before any thread starts, so all threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the app

  ShopServer server;
  AddRoutes(server, opts);
  if (!server.Bind(opts.host, opts.port)) {
    Log("error: cannot listen on %s:%d: %s", opts.host.c_str(), opts.port, std::strerror(errno));
    return 1;
  }
  std::thread(HandleSignals, signals, std::ref(server)).detach();
  Log("start color=%s listen=%s:%d pid=%d threads=%d backlog=%d", opts.color.c_str(),
      opts.host.c_str(), opts.port, static_cast<int>(getpid()), ShopServer::kWorkerThreads,
      ShopServer::kListenBacklog);
  server.listen_after_bind();  // returns once Shutdown() has run and the workers finished
  if (!stop_requested) {
    Log("error: the server stopped unexpectedly");
    return 1;
  }
  Log("stopped");
  return 0;
}

}  // namespace
}  // namespace shop

int main(int argc, char** argv) { return shop::Run(argc, argv); }
