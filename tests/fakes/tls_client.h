// A minimal TLS client for tests of mutual TLS: connects to 127.0.0.1:port, presents a
// client certificate or none, sends one request and reads until the server closes. The
// server's certificate is not verified (the tests are about the server verifying the
// client). Header-only, on OpenSSL's C API.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

namespace sy::fakes {

struct TlsExchange {
  bool handshake = false;  // SSL_connect succeeded
  std::string response;    // everything read before the server closed ("" when nothing)
};

// `cert` and `key` empty: no client certificate. `max_tls12`: TLS 1.2 at most, where a
// refused client certificate fails the handshake itself (with TLS 1.3 the client may finish
// its side first and see the refusal only when it reads).
// `source` set: connect from that address (another client than the tests' own).
inline TlsExchange TlsRequest(int port, const std::string& request, const std::string& cert,
                              const std::string& key, bool max_tls12 = false,
                              const char* source = nullptr) {
  TlsExchange out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return out;
  if (max_tls12) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (!cert.empty() && (SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM) != 1 ||
                        SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    SSL_CTX_free(ctx);
    return out;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (fd >= 0 && source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    SSL_CTX_free(ctx);
    return out;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  out.handshake = SSL_connect(ssl) == 1;
  if (out.handshake && SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
    char buf[4096];
    for (;;) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      out.response.append(buf, static_cast<size_t>(n));
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

}  // namespace sy::fakes
