// The shop app's HTTP server: cpp-httplib tuned to sit behind nginx, plus graceful stop.
//
// Why a subclass: Debian's cpp-httplib is a compiled library, so the compile-time knobs
// CPPHTTPLIB_TCP_NODELAY and CPPHTTPLIB_LISTEN_BACKLOG in the header do not reach the code
// that creates sockets (it was built with Nagle on and a backlog of 5, which costs a proxied
// request ~40 ms, pkg/observe/README.md #26). Here TCP_NODELAY is set at run time on the listening
// socket (Linux copies it to every accepted socket), and listen() is re-issued on the bound
// socket with a real backlog (Linux updates the backlog of a listening socket in place).
#pragma once

#include <httplib.h>

#include <string>

namespace shop {

class ShopServer : public httplib::Server {
 public:
  // Worker threads: each holds one nginx keep-alive connection while it is open, so this
  // bounds the concurrent upstream connections served without queueing.
  static constexpr int kWorkerThreads = 64;
  static constexpr int kListenBacklog = 1024;

  ShopServer();

  // Binds host:port with SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which
  // would let a second copy of the app bind the same port silently. Returns false (errno
  // set) when the port cannot be bound.
  bool Bind(const std::string& host, int port);

  // Stops accepting, lets requests in progress finish, and closes idle keep-alive
  // connections at once (httplib alone waits out their keep-alive timeout). Thread-safe;
  // meant to be called from a signal-handling thread while listen_after_bind() runs.
  void Shutdown();

 private:
  int port_ = 0;
};

}  // namespace shop
