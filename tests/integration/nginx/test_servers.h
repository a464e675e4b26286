// Small real servers for the nginx integration tests: an app server answering with its
// color, and a free loopback port.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace sy::testing {

// An HTTP server on 127.0.0.1 (a free port) answering every GET with `status` and, unless
// `color` is empty, the header X-Switchyard-Color: <color>. Listens when constructed;
// stops when destroyed.
class ColorServer {
 public:
  explicit ColorServer(std::string color, int status = 200);
  ~ColorServer();
  ColorServer(const ColorServer&) = delete;
  ColorServer& operator=(const ColorServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// A loopback TCP port nothing listens on right now.
int FreePort();

}  // namespace sy::testing
