#include "pkg/server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/server/acceptor.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/worker_pool.h"

namespace sy::server {
namespace {

// What a chunked or compressed body may take on the wire beyond max_body_bytes (chunk
// framing; deflate's worst case on incompressible data is a few bytes per 16 KiB).
constexpr size_t kFramingAllowance = size_t{64} * 1024;

// One request on a worker thread. The hooks cpp-httplib calls during process_request()
// (pre-routing, the handlers, the content provider) find it through t_exchange: they get
// only the httplib::Request, and one worker serves one request at a time.
struct Exchange {
  const RequestHead* head = nullptr;
  const Connection* connection = nullptr;
  bool close = false;        // the body was not (wholly) read: the connection must close
  bool stream = false;       // a streamed response: no overall write deadline
  bool over_budget = false;  // the body took more bytes than allowed on the wire
};
thread_local Exchange* t_exchange = nullptr;

// The connection as cpp-httplib reads and writes it: the request's byte budget and deadline
// enforced on every read, a write timeout on every write.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, Exchange& x, size_t budget, Deadline read_deadline,
                   std::chrono::milliseconds write_timeout)
      : c_(c),
        x_(x),
        budget_(budget),
        read_deadline_(read_deadline),
        write_timeout_(write_timeout) {}

  bool is_readable() const override { return c_.WaitReadable(read_deadline_); }
  bool is_writable() const override { return c_.WaitWritable(WriteDeadline()); }
  ssize_t read(char* ptr, size_t size) override {
    if (consumed_ >= budget_) {
      // The request ends here: a body without framing is empty (not "until EOF"), and a
      // chunked one that goes on is too large.
      if (!x_.head->chunked) return 0;
      x_.over_budget = true;
      return -1;
    }
    const ssize_t n = c_.Read(ptr, std::min(size, budget_ - consumed_), read_deadline_);
    if (n > 0) consumed_ += static_cast<size_t>(n);
    return n;
  }
  ssize_t write(const char* ptr, size_t size) override {
    return c_.Write(ptr, size, WriteDeadline()) ? static_cast<ssize_t>(size) : -1;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.PeerIp();
    port = Port(/*peer=*/true);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = Port(/*peer=*/false);
  }
  // cpp-httplib checks this only to refuse descriptors its select() cannot watch
  // (>= FD_SETSIZE); this stream never uses select().
  socket_t socket() const override { return INVALID_SOCKET; }

  size_t Consumed() const { return consumed_; }
  size_t Budget() const { return budget_; }

 private:
  Deadline WriteDeadline() const {
    const Deadline now_plus = std::chrono::steady_clock::now() + write_timeout_;
    return x_.stream ? now_plus : std::min(now_plus, read_deadline_ + write_timeout_);
  }
  int Port(bool peer) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if ((peer ? ::getpeername(c_.Fd(), sa, &len) : ::getsockname(c_.Fd(), sa, &len)) != 0) {
      return 0;
    }
    return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(sa)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(sa)->sin_port);
  }

  Connection& c_;
  Exchange& x_;
  const size_t budget_;
  const Deadline read_deadline_;
  const std::chrono::milliseconds write_timeout_;
  size_t consumed_ = 0;
};

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

// cpp-httplib's server, used for one request at a time on a stream of ours.
class RequestProcessor final : public httplib::Server {
 public:
  bool ServeOne(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
    return process_request(stream, close_connection, connection_closed, nullptr);
  }
  // cpp-httplib writes streamed bodies only while its listening socket is set (an invalid one
  // means "shutting down"). It never listens here: any other value says "serving".
  void SetServing(bool serving) { svr_sock_ = serving ? 0 : INVALID_SOCKET; }
};

HttpRequest FromHttplib(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  r.remote = req.remote_addr;
  if (t_exchange != nullptr && t_exchange->connection != nullptr) {
    r.peer_uris = t_exchange->connection->PeerUris();
  }
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) {
    std::string lk = k;
    for (char& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lk == "remote_addr" || lk == "remote_port" || lk == "local_addr" || lk == "local_port") {
      continue;  // what cpp-httplib adds itself
    }
    r.headers.emplace(lk, v);
  }
  return r;
}

void Fill(httplib::Response& res, const HttpResponse& out) {
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k.c_str(), v);
  res.set_content(out.body, out.content_type.c_str());
}

// Answers without reading the body that may follow: the connection cannot be reused.
void RefuseBody(httplib::Response& res, const HttpResponse& out) {
  Fill(res, out);
  if (t_exchange != nullptr && t_exchange->head->HasBody()) {
    t_exchange->close = true;
    res.set_header("Connection", "close");
  }
}

const char* Phrase(int code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

// A complete response that refuses a request and closes the connection.
std::string RefusalBytes(int code, const std::string& message) {
  const HttpResponse r = StatusResponse(code, ReasonForCode(code), message);
  return absl::StrCat("HTTP/1.1 ", code, " ", Phrase(code),
                      "\r\nContent-Type: application/json\r\nContent-Length: ", r.body.size(),
                      "\r\nConnection: close\r\n",
                      code == 429 || code == 503 ? "Retry-After: 1\r\n" : "", "\r\n", r.body);
}

}  // namespace

struct HttpServer::Impl {
  Impl(Handler h, HttpServerOptions o, Admission a)
      : handler(std::move(h)), options(std::move(o)), admit(std::move(a)) {}

  void Route();
  void Respond(const HttpRequest& r, httplib::Response& res);
  void Dispatch(std::unique_ptr<Connection> c, RequestHead head);
  void Serve(std::unique_ptr<Connection> c, const RequestHead& head);
  std::optional<HttpResponse> Admit(const httplib::Request& req) const {
    return admit ? admit(FromHttplib(req)) : std::nullopt;
  }

  const Handler handler;
  const HttpServerOptions options;
  const Admission admit;
  std::atomic<bool> stopping{false};
  RequestProcessor processor;
  std::unique_ptr<WorkerPool> health;
  std::unique_ptr<WorkerPool> api;
  std::unique_ptr<WorkerPool> streams;
  std::unique_ptr<Acceptor> acceptor;
};

void HttpServer::Impl::Respond(const HttpRequest& r, httplib::Response& res) {
  HttpResponse out = handler(r);
  if (!out.stream) {
    Fill(res, out);
    return;
  }
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k.c_str(), v);
  if (t_exchange != nullptr) t_exchange->stream = true;
  // Chunked, flushed per chunk. (httplib compresses only exactly "application/json" and
  // text/*: a stream's content type has parameters, so nothing buffers it.)
  res.set_chunked_content_provider(
      out.content_type, [this, stream = std::move(out.stream)](size_t, httplib::DataSink& sink) {
        SinkStream s(sink, stopping);
        stream(s);
        sink.done();
        return true;
      });
}

void HttpServer::Impl::Route() {
  httplib::Server& s = processor;
  s.set_payload_max_length(options.max_body_bytes);
  // The body is read only after this says yes: a refused request costs no body bytes.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (absl::StartsWithIgnoreCase(req.get_header_value("Content-Type"), "multipart/")) {
      // cpp-httplib parses multipart bodies itself, which no handler here reads.
      RefuseBody(res,
                 StatusResponse(415, "UnsupportedMediaType", "multipart bodies are not served"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (auto refused = Admit(req)) {
      RefuseBody(res, *refused);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // A client that asks before sending its body gets the refusal instead of 100 Continue.
  s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    auto refused = Admit(req);
    if (!refused) return 100;
    RefuseBody(res, *refused);
    return refused->status;
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return;
    const HttpResponse status = StatusForCode(res.status);
    res.set_content(status.body, status.content_type.c_str());
  });
  s.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    Respond(FromHttplib(req), res);
  });
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& read) {
    HttpRequest r = FromHttplib(req);
    bool too_large = false;
    const bool ok = read([&](const char* data, size_t n) {
      if (r.body.size() + n > options.max_body_bytes) {  // inflated bytes counted too
        too_large = true;
        return false;
      }
      r.body.append(data, n);
      return true;
    });
    if (!ok) {
      too_large = too_large || (t_exchange != nullptr && t_exchange->over_budget);
      const int code = too_large ? 413 : res.status == 415 ? 415 : 400;
      res.body.clear();
      Fill(res, too_large ? StatusResponse(413, "RequestEntityTooLarge",
                                           absl::StrCat("Request entity too large: limit is ",
                                                        options.max_body_bytes, " bytes"))
                          : StatusForCode(code));
      res.set_header("Connection", "close");
      if (t_exchange != nullptr) t_exchange->close = true;
      return;
    }
    Respond(r, res);
  };
  s.Post(".*", with_body);
  s.Put(".*", with_body);
  s.Patch(".*", with_body);
  s.Delete(".*", with_body);
}

void HttpServer::Impl::Serve(std::unique_ptr<Connection> c, const RequestHead& head) {
  Exchange x;
  x.head = &head;
  x.connection = c.get();
  const size_t body = head.chunked ? options.max_body_bytes + kFramingAllowance
                                   : static_cast<size_t>(head.content_length.value_or(0));
  ConnectionStream stream(*c, x, head.head_bytes + body,
                          std::chrono::steady_clock::now() + options.request_timeout,
                          options.write_timeout);
  bool closed = false;
  t_exchange = &x;
  // A chunked body's end is cpp-httplib's to find: such a connection is not reused.
  const bool ok = processor.ServeOne(stream, stopping.load() || head.chunked, closed);
  t_exchange = nullptr;
  const bool whole = !head.chunked && stream.Consumed() == stream.Budget();
  if (ok && !closed && !x.close && whole && !stopping.load()) acceptor->Resume(std::move(c));
}

void HttpServer::Impl::Dispatch(std::unique_ptr<Connection> c, RequestHead head) {
  const bool get = head.method == "GET" || head.method == "HEAD";
  WorkerPool* pool = api.get();
  int busy = 429;
  std::string why = "the server is busy; try again";
  if (get && std::find(options.health_paths.begin(), options.health_paths.end(), head.path) !=
                 options.health_paths.end()) {
    pool = health.get();
    busy = 503;
  } else if (get) {
    const std::string watch = QueryParam(head.query, "watch").value_or("");
    if (watch == "true" || watch == "1") {
      pool = streams.get();
      why = absl::StrCat("too many watches (", options.stream_threads, "); try again");
    }
  }
  auto conn = std::make_shared<std::unique_ptr<Connection>>(std::move(c));
  auto h = std::make_shared<RequestHead>(std::move(head));
  if (pool->TrySubmit([this, conn, h] { Serve(std::move(*conn), *h); })) return;
  (*conn)->WriteNow(RefusalBytes(busy, why));
}

HttpServer::HttpServer(Handler handler, HttpServerOptions options, Admission admit)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options), std::move(admit))) {}

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
  const HttpServerOptions& o = impl_->options;
  std::shared_ptr<TlsContext> tls;
  if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "client certificates (mutual TLS) need TLS: a certificate and key");
  }
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
    }
    auto ctx = TlsContext::Create(o.tls_cert_file, o.tls_key_file, o.tls_client_ca_file);
    if (!ctx.ok()) return ctx.status();
    tls = *std::move(ctx);
  }
  impl_->Route();
  impl_->processor.SetServing(true);
  impl_->health =
      std::make_unique<WorkerPool>(std::max<size_t>(o.health_threads, 1), o.health_queue);
  impl_->api = std::make_unique<WorkerPool>(std::max<size_t>(o.api_threads, 1), o.api_queue);
  impl_->streams = std::make_unique<WorkerPool>(std::max<size_t>(o.stream_threads, 1), 0);
  AcceptorOptions ao;
  ao.limits = o.head;
  ao.limits.max_body_bytes = o.max_body_bytes;
  ao.head_timeout = o.head_timeout;
  ao.max_connections = o.max_waiting_connections;
  ao.max_per_client = o.max_waiting_per_client;
  Impl* impl = impl_.get();
  impl_->acceptor = std::make_unique<Acceptor>(
      ao, tls,
      [impl](std::unique_ptr<Connection> c, RequestHead head) {
        impl->Dispatch(std::move(c), std::move(head));
      },
      RefusalBytes);
  absl::Status s = impl_->acceptor->Start(host, port);
  if (absl::IsUnavailable(s)) {
    return absl::UnavailableError("cannot listen on " + listen + " (in use? another switchyard?)");
  }
  if (!s.ok()) {
    return absl::InvalidArgumentError("--listen " + listen + ": " + std::string(s.message()));
  }
  port_ = impl_->acceptor->port();
  return absl::OkStatus();
}

void HttpServer::Stop() {
  impl_->stopping = true;  // streams see it within a second and end
  impl_->processor.SetServing(false);
  if (impl_->acceptor) impl_->acceptor->Stop();
  for (auto* pool : {&impl_->health, &impl_->api, &impl_->streams}) {
    if (*pool) (*pool)->Shutdown();
  }
}

}  // namespace sy::server
