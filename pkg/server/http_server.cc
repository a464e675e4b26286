#include "pkg/server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>

#include "pkg/server/api_errors.h"

namespace sy::server {
namespace {

// A streamed response's body, written as HTTP chunks.
class SinkStream final : public ResponseStream {
 public:
  SinkStream(httplib::DataSink& sink, const std::atomic<bool>& stopping)
      : sink_(sink), stopping_(stopping) {}
  bool Write(std::string_view chunk) override {
    return Open() && sink_.write(chunk.data(), chunk.size());
  }
  bool Open() const override { return !stopping_.load(); }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& stopping_;
};

HttpRequest FromHttplib(const httplib::Request& req) {
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
  return r;
}

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> server;
};

HttpServer::HttpServer(Handler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()), handler_(std::move(handler)), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("--listen " + listen + ": expected host:port");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:9753
  }
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return absl::InvalidArgumentError("--listen " + listen + ": bad port");
  }
  const bool tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (tls) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(
          "cannot load the TLS certificate " + options_.tls_cert_file + " and key " +
          options_.tls_key_file + " (PEM files, the key matching the certificate)");
    }
    impl_->server = std::move(ssl);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl_->server;
  const size_t threads = static_cast<size_t>(std::max(options_.threads, 2));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options_.max_body_bytes);
  // Errors the transport makes itself (413, 404 of an unknown method) get a Status body too.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return;
    const HttpResponse status = StatusForCode(res.status);
    res.set_content(status.body, status.content_type.c_str());
  });
  auto route = [this](const httplib::Request& req, httplib::Response& res) {
    HttpResponse out = handler_(FromHttplib(req));
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k.c_str(), v);
    if (!out.stream) {
      res.set_content(out.body, out.content_type.c_str());
      return;
    }
    // Chunked, flushed per chunk. (httplib compresses only exactly "application/json" and
    // text/*: a stream's content type has parameters, so nothing buffers it.)
    res.set_chunked_content_provider(
        out.content_type, [this, stream = std::move(out.stream)](size_t, httplib::DataSink& sink) {
          SinkStream s(sink, stopping_);
          stream(s);
          sink.done();
          return true;
        });
  };
  server.Get(".*", route);
  server.Post(".*", route);
  server.Put(".*", route);
  server.Patch(".*", route);
  server.Delete(".*", route);
  // httplib's default socket options add SO_REUSEPORT, with which a second daemon binds the
  // same port without error and silently takes a share of the connections. Keep SO_REUSEADDR
  // only (a restart can rebind while old connections linger in TIME_WAIT).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    port_ = server.bind_to_any_port(host.c_str());
    if (port_ < 0) return absl::UnavailableError("cannot listen on " + listen);
  } else {
    if (!server.bind_to_port(host.c_str(), port)) {
      return absl::UnavailableError("cannot listen on " + listen +
                                    " (in use? another switchyard?)");
    }
    port_ = port;
  }
  stopping_ = false;
  thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the listening loop runs: wait for it, so that Stop() never hangs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  stopping_ = true;  // streams see it within a second and end
  if (thread_.joinable()) {
    impl_->server->stop();
    thread_.join();
  }
}

}  // namespace sy::server
