#include "tests/integration/agent/agent_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "tests/unit/server/raw_client.h"

#ifndef SY_AGENT_BINARY
#define SY_AGENT_BINARY "switchyard-agent"
#endif

namespace sy::testing {

std::string AgentBinary() { return SY_AGENT_BINARY; }

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<AgentProcess>> AgentProcess::Start(const std::string& dir,
                                                                  const std::string& config_tail) {
  std::unique_ptr<AgentProcess> p(new AgentProcess());
  p->dir_ = dir;
  p->port_ = FreePort();
  const std::string config = dir + "/agent.yaml";
  absl::Status s =
      util::WriteFileAtomically(config,
                                absl::StrCat("id: test-agent\nlisten: 127.0.0.1:", p->port_,
                                             "\nstateDirectory: ", dir, "/state\n", config_tail),
                                0600);
  if (!s.ok()) return s;
  util::ExecCommandRunner runner;
  util::Command pin;
  pin.argv = {AgentBinary(), "pin-epoch", "--config", config, "--era", "e1", "--epoch", "5"};
  absl::StatusOr<util::CommandResult> pinned = runner.Run(pin);
  if (!pinned.ok()) return pinned.status();
  if (pinned->exit_code != 0) return absl::InternalError("pin-epoch: " + pinned->output);
  util::Command serve;
  serve.argv = {AgentBinary(), "--config", config};
  absl::StatusOr<int> pid = runner.Spawn(serve, dir + "/agent.log");
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  for (int i = 0; i < 200; ++i) {
    server::testing::RawClient c(p->port_);
    if (c.ok()) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  absl::StatusOr<std::string> log = util::ReadFile(dir + "/agent.log");
  return absl::UnavailableError("the agent did not listen within 5 s: " + log.value_or(""));
}

AgentProcess::~AgentProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 400 && ::kill(pid_, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (::kill(pid_, 0) == 0) ::kill(pid_, SIGKILL);
}

AgentResponse AgentProcess::Call(const std::string& method, const std::string& target,
                                 const std::string& body, std::chrono::milliseconds timeout) const {
  server::testing::RawClient c(port_);
  AgentResponse out;
  std::string request =
      absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
  if (!body.empty() || method == "POST") {
    absl::StrAppend(&request, "Content-Type: application/json\r\nContent-Length: ", body.size(),
                    "\r\n");
  }
  absl::StrAppend(&request, "\r\n", body);
  if (!c.ok() || !c.Send(request)) return out;
  const std::string response = c.ReadResponse(timeout);
  out.status = c.Status();
  const size_t at = response.find("\r\n\r\n");
  if (at != std::string::npos) out.body = response.substr(at + 4);
  return out;
}

}  // namespace sy::testing
