// See shop_server.h.
#include "shop_server.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <vector>

namespace shop {
namespace {

void SetReuseAddr(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// The file descriptors of this process's TCP connections accepted on `port` (not the
// listening socket, not outgoing connections such as those to PostgreSQL).
std::vector<int> AcceptedSockets(int port) {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return fds;
  }
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) {
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      continue;  // not a socket
    }
    int local_port = -1;
    if (addr.ss_family == AF_INET) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      local_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    int listening = 0;
    socklen_t optlen = sizeof(listening);
    getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen);
    if (local_port == port && listening == 0) {
      fds.push_back(static_cast<int>(fd));
    }
  }
  closedir(dir);
  return fds;
}

}  // namespace

ShopServer::ShopServer() {
  set_tcp_nodelay(true);
  set_socket_options(SetReuseAddr);
  // nginx keeps idle upstream connections for 60 s by default; keeping ours open longer
  // means nginx, not the app, closes them, so nginx never sends a request on a connection
  // the app is closing at that moment (a 502 for a POST, which nginx does not retry).
  set_keep_alive_timeout(75);
  set_keep_alive_max_count(1000000);
  new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
}

bool ShopServer::Bind(const std::string& host, int port) {
  if (!bind_to_port(host, port)) {
    return false;
  }
  port_ = port;
  return ::listen(svr_sock_, kListenBacklog) == 0;
}

void ShopServer::Shutdown() {
  stop();
  // SHUT_RD: an idle keep-alive connection reads EOF and its worker exits now; a request
  // being handled still writes its response, after which the worker sees the server stopped.
  for (int fd : AcceptedSockets(port_)) {
    ::shutdown(fd, SHUT_RD);
  }
}

}  // namespace shop
