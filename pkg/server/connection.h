// One accepted client connection of the daemon's HTTP endpoint: a non-blocking socket,
// optionally TLS (OpenSSL), with the bytes received but not yet consumed. The acceptor
// (acceptor.h) reads request heads from it without blocking; a worker then reads the body
// and writes the response with the blocking calls below, each bounded by a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace sy::server {

using Deadline = std::chrono::steady_clock::time_point;

// A server-side TLS configuration: the PEM certificate chain and key, TLS 1.2 at least.
// Immutable after Create(); shared by every connection.
class TlsContext {
 public:
  // kInvalidArgument naming the files when they cannot be loaded or do not match.
  // `client_ca_file` set: clients must present a certificate chaining to it (the handshake
  // fails without one, or with another).
  static absl::StatusOr<std::shared_ptr<TlsContext>> Create(const std::string& cert_file,
                                                            const std::string& key_file,
                                                            const std::string& client_ca_file = "");
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* Get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// Thread-compatible: one thread at a time (the acceptor, then one worker, then the acceptor).
// Closes the socket on destruction.
class Connection {
 public:
  // Takes `fd` (made non-blocking here). `tls` non-null: the TLS handshake comes first.
  Connection(int fd, std::string peer_ip, std::shared_ptr<TlsContext> tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // What a non-blocking step needs next.
  enum class Io { kDone, kWantRead, kWantWrite, kClosed };

  // Advances the TLS handshake (kDone at once for plain TCP).
  Io Handshake();
  bool Handshaken() const { return handshaken_; }

  // Appends what can be received now, up to `max` bytes, to Buffer(): kDone when something
  // came, kWantRead/kWantWrite when nothing can be read yet, kClosed at EOF or on error.
  Io ReceiveSome(size_t max);

  // Blocking with a deadline: copies buffered bytes first, then receives. Returns the count,
  // 0 at EOF, -1 on error or when `deadline` passes.
  ssize_t Read(char* out, size_t size, Deadline deadline);
  // Writes everything or fails (false) when the peer is gone or `deadline` passes.
  bool Write(const char* data, size_t size, Deadline deadline);
  // Best effort, never blocks (a refusal the acceptor answers before closing).
  void WriteNow(std::string_view data);
  // Waits until a read would not block (true), or the deadline passes (false).
  bool WaitReadable(Deadline deadline);
  bool WaitWritable(Deadline deadline);

  // The URI names (subjectAltName) of the client's verified certificate, read once the
  // handshake is done; empty without TLS or a client certificate.
  const std::vector<std::string>& PeerUris() const { return peer_uris_; }

  int Fd() const { return fd_; }
  const std::string& PeerIp() const { return peer_ip_; }
  // Bytes received and not consumed yet (the start of a request head, or more).
  std::string& Buffer() { return buffer_; }
  // Whether TLS holds decrypted bytes that a poll on the socket would not announce.
  bool TlsPending() const;
  // Whether the client has sent anything of use yet: a TLS handshake message, or a byte of a
  // request head. A kept-alive plain connection between requests has not; one that completed
  // a TLS handshake (with client certificates: an authenticated client) has.
  bool Started() const;

  // Set by the acceptor: when the connection was accepted, and an ordinal for eviction.
  uint64_t serial = 0;
  Deadline head_deadline{};

 private:
  Io Wait(int ssl_error);
  void ReadPeerUris();
  ssize_t RawRead(char* out, size_t size, Io* io);
  ssize_t RawWrite(const char* data, size_t size, Io* io);

  int fd_;
  std::string peer_ip_;
  std::shared_ptr<TlsContext> tls_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string buffer_;
  std::vector<std::string> peer_uris_;
};

}  // namespace sy::server
