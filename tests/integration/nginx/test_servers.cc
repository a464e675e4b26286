#include "tests/integration/nginx/test_servers.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sy::testing {

ColorServer::ColorServer(std::string color, int status)
    : server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);  // pkg/observe/README.md #26
  server_->Get(".*", [color, status](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    if (!color.empty()) res.set_header("X-Switchyard-Color", color);
    res.set_content(color + "\n", "text/plain");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  // Bound and listening already: connections queue until the thread accepts them.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

ColorServer::~ColorServer() {
  server_->stop();
  thread_.join();
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace sy::testing
