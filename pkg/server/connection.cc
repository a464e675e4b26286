#include "pkg/server/connection.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sy::server {
namespace {

// Milliseconds until `deadline` for poll(), rounded up, at least 0.
int PollMs(Deadline deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

bool PollFor(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, PollMs(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(const std::string& cert_file,
                                                               const std::string& key_file,
                                                               const std::string& client_ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("OpenSSL: cannot create a TLS context");
  std::shared_ptr<TlsContext> out(new TlsContext(ctx));
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); kubectl and curl speak 1.2 and 1.3.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Non-blocking writes are retried with what is left of the buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the TLS certificate ", cert_file, " and key ", key_file,
                     " (PEM files, the key matching the certificate)"));
  }
  if (!client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx, client_ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("cannot load the client CA certificates ",
                                                     client_ca_file, " (a PEM bundle)"));
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes `names`
    // No certificate, or one that does not chain to the CA: the handshake fails, before any
    // byte of a request is read.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(ctx, 4);
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Connection::Connection(int fd, std::string peer_ip, std::shared_ptr<TlsContext> tls)
    : fd_(fd), peer_ip_(std::move(peer_ip)), tls_(std::move(tls)) {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL, 0) | O_NONBLOCK);
  if (tls_) {
    ssl_ = SSL_new(tls_->Get());
    if (ssl_ != nullptr) {
      SSL_set_fd(ssl_, fd_);
      SSL_set_accept_state(ssl_);
    }
  } else {
    handshaken_ = true;
  }
}

Connection::~Connection() {
  if (ssl_ != nullptr) {
    if (handshaken_) SSL_shutdown(ssl_);  // one close_notify, not waiting for the peer's
    SSL_free(ssl_);
  }
  ::close(fd_);
}

Connection::Io Connection::Wait(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    default:
      ERR_clear_error();
      return Io::kClosed;
  }
}

Connection::Io Connection::Handshake() {
  if (handshaken_) return Io::kDone;
  if (ssl_ == nullptr) return Io::kClosed;
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshaken_ = true;
    ReadPeerUris();
    return Io::kDone;
  }
  return Wait(SSL_get_error(ssl_, r));
}

void Connection::ReadPeerUris() {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
    peer_uris_.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                            static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
}

bool Connection::TlsPending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

bool Connection::Started() const {
  if (!buffer_.empty()) return true;
  return ssl_ != nullptr && (handshaken_ || SSL_in_before(ssl_) == 0);
}

ssize_t Connection::RawRead(char* out, size_t size, Io* io) {
  if (ssl_ != nullptr) {
    const int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) {
      *io = Io::kDone;
      return n;
    }
    *io = Wait(SSL_get_error(ssl_, n));
    return -1;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, out, size, 0);
    if (n > 0) {
      *io = Io::kDone;
      return n;
    }
    if (n < 0 && errno == EINTR) continue;
    *io = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::kWantRead : Io::kClosed;
    return -1;
  }
}

ssize_t Connection::RawWrite(const char* data, size_t size, Io* io) {
  if (ssl_ != nullptr) {
    const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) {
      *io = Io::kDone;
      return n;
    }
    *io = Wait(SSL_get_error(ssl_, n));
    return -1;
  }
  for (;;) {
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n >= 0) {
      *io = Io::kDone;
      return n;
    }
    if (errno == EINTR) continue;
    *io = errno == EAGAIN || errno == EWOULDBLOCK ? Io::kWantWrite : Io::kClosed;
    return -1;
  }
}

Connection::Io Connection::ReceiveSome(size_t max) {
  char chunk[4096];
  bool got = false;
  while (buffer_.size() < max) {
    Io io = Io::kDone;
    const ssize_t n = RawRead(chunk, std::min(sizeof chunk, max - buffer_.size()), &io);
    if (n <= 0) return got ? Io::kDone : io;
    buffer_.append(chunk, static_cast<size_t>(n));
    got = true;
  }
  return Io::kDone;
}

ssize_t Connection::Read(char* out, size_t size, Deadline deadline) {
  if (!buffer_.empty()) {
    const size_t n = std::min(size, buffer_.size());
    std::memcpy(out, buffer_.data(), n);
    buffer_.erase(0, n);
    return static_cast<ssize_t>(n);
  }
  for (;;) {
    Io io = Io::kDone;
    const ssize_t n = RawRead(out, size, &io);
    if (n > 0) return n;
    if (io == Io::kClosed) return 0;
    const bool ready =
        io == Io::kWantWrite ? PollFor(fd_, POLLOUT, deadline) : PollFor(fd_, POLLIN, deadline);
    if (!ready) return -1;
  }
}

bool Connection::Write(const char* data, size_t size, Deadline deadline) {
  while (size > 0) {
    Io io = Io::kDone;
    const ssize_t n = RawWrite(data, size, &io);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (io == Io::kClosed) return false;
    const bool ready =
        io == Io::kWantRead ? PollFor(fd_, POLLIN, deadline) : PollFor(fd_, POLLOUT, deadline);
    if (!ready) return false;
  }
  return true;
}

void Connection::WriteNow(std::string_view data) {
  Io io = Io::kDone;
  while (!data.empty()) {
    const ssize_t n = RawWrite(data.data(), data.size(), &io);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

bool Connection::WaitReadable(Deadline deadline) {
  return !buffer_.empty() || TlsPending() || PollFor(fd_, POLLIN, deadline);
}

bool Connection::WaitWritable(Deadline deadline) { return PollFor(fd_, POLLOUT, deadline); }

}  // namespace sy::server
