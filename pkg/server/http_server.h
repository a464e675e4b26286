// The HTTP transport of the daemon: serves a handler function over plain HTTP or TLS, and
// streams the responses that ask for it (watches), with every resource a client can hold
// bounded.
//
// Shape: an acceptor thread (acceptor.h) takes connections and reads request heads without
// blocking; a complete head goes to one of three worker pools, so that one kind of request
// never takes the threads of another: health (GET of `health_paths`: /healthz, /livez,
// /readyz, /metrics), streams (GET ...?watch=true, one thread each for as long as the stream
// lasts) and everything else. A full pool answers at once (503 for health, 429 otherwise).
// On its worker, cpp-httplib parses the head again, routes, reads and inflates the body and
// writes the response, but reads through a stream of ours that enforces the deadline and the
// byte budget of the request. `admit` runs on the head before any byte of the body is read.
//
// Why not cpp-httplib's own listener: Server::listen() reads the request line and header
// lines of any length and number before any hook runs, reads chunked and length-less bodies
// whole (payload_max_length applies to Content-Length only) and inflates compressed ones
// without bound before a handler runs, and holds a thread of its fixed pool for every
// connection for as long as a slow client keeps sending a byte before each 5 s read timeout.
// Its protected process_request(), which serves one request from a Stream, is what is used.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pkg/server/api_handler.h"
#include "pkg/server/request_head.h"

namespace sy::server {

using Handler = std::function<HttpResponse(const HttpRequest&)>;
// Looks at a request before its body is read (HttpRequest::body is empty): a response to send
// instead (e.g. 401), or nullopt to go on. Called on worker threads.
using Admission = std::function<std::optional<HttpResponse>(const HttpRequest& head)>;

struct HttpServerOptions {
  // Both set: serve HTTPS (TLS 1.2 at least) with this PEM certificate (chain) and key. Both
  // empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Set (with TLS): mutual TLS. A client must present a certificate that chains to this PEM
  // CA bundle, or its handshake fails; its URI names reach the handler and the admission as
  // HttpRequest::peer_uris.
  std::string tls_client_ca_file;
  // Request bodies larger than this, as sent (Content-Length) or once inflated
  // (Content-Encoding), get 413; keep it at least the handler's own limit
  // (ApiOptions::max_body_bytes) so the handler answers first. A chunked or compressed body
  // may take at most max_body_bytes + 64 KiB on the wire.
  size_t max_body_bytes = (1 << 20) + 1;
  // The request head: size, line length, number of fields (431 / 414 above them).
  HeadLimits head;
  // A request head must be complete this long after the connection came (or came back after
  // a response); otherwise 408 and the connection is closed. An idle kept-alive connection
  // is closed after it too.
  std::chrono::milliseconds head_timeout{10000};
  // Reading the body and answering (streams excepted) must end this long after the head.
  std::chrono::milliseconds request_timeout{30000};
  // The longest one write may wait for the client (streams too).
  std::chrono::milliseconds write_timeout{5000};
  // Connections waiting for a head, in all and from one IP address (acceptor.h).
  size_t max_waiting_connections = 512;
  size_t max_waiting_per_client = 64;
  // The pools: threads, and requests that may wait for one.
  size_t api_threads = 4;
  size_t api_queue = 32;
  size_t health_threads = 2;
  size_t health_queue = 32;
  size_t stream_threads = 32;  // keep it ApiOptions::max_watches
  std::vector<std::string> health_paths = {"/healthz", "/livez", "/readyz", "/metrics"};
};

// Start() returns once the server accepts connections (kUnavailable naming the address when
// it cannot bind, kInvalidArgument for a bad address or TLS files); Stop() ends open streams
// (within about a second), waits for requests in flight and is idempotent. The process
// ignores SIGPIPE once a server exists (a client that goes away must not kill it).
class HttpServer {
 public:
  explicit HttpServer(Handler handler, HttpServerOptions options = {}, Admission admit = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  absl::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace sy::server
