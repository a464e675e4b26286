#include "pkg/server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>

namespace sy::server {

struct HttpServer::Impl {
  httplib::Server server;
};

HttpServer::HttpServer(Handler handler)
    : impl_(std::make_unique<Impl>()), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("--listen " + listen + ": expected host:port");
  }
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return absl::InvalidArgumentError("--listen " + listen + ": bad port");
  }
  auto route = [this](const httplib::Request& req, httplib::Response& res) {
    HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string lk = k;
      for (char& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace(lk, v);
    }
    r.body = req.body;
    HttpResponse out = handler_(r);
    res.status = out.status;
    res.set_content(out.body, out.content_type.c_str());
  };
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    const std::string method = m;
    if (method == "GET") impl_->server.Get(".*", route);
    if (method == "POST") impl_->server.Post(".*", route);
    if (method == "PUT") impl_->server.Put(".*", route);
    if (method == "PATCH") impl_->server.Patch(".*", route);
    if (method == "DELETE") impl_->server.Delete(".*", route);
  }
  // httplib's default socket options add SO_REUSEPORT, with which a second daemon binds the
  // same port without error and silently takes a share of its connections. Keep SO_REUSEADDR
  // only (a restart can rebind while old connections linger in TIME_WAIT).
  impl_->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    port_ = impl_->server.bind_to_any_port(host.c_str());
    if (port_ < 0) return absl::UnavailableError("cannot listen on " + listen);
  } else {
    if (!impl_->server.bind_to_port(host.c_str(), port)) {
      return absl::UnavailableError("cannot listen on " + listen +
                                    " (in use? another switchyard?)");
    }
    port_ = port;
  }
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() does nothing until the listen loop runs: without this wait, a Stop()
  // right after Start() left the loop running and the join hanging.
  while (!impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    impl_->server.stop();
    thread_.join();
  }
}

}  // namespace sy::server
