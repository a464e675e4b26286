#include "tests/integration/pg/mini_postgres.h"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/host/process.h"
#include "pkg/util/command_runner.h"

namespace sy::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin";
constexpr char kOsUser[] = "postgres";

// A port the kernel just handed out on 127.0.0.1 (ephemeral range: never the local stack's
// 15433/15434 or 18080-18082).
absl::StatusOr<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port <= 0) return absl::InternalError("no free port on 127.0.0.1");
  return port;
}

// Stops whatever postmaster runs from `dir`: immediate shutdown, then SIGKILL.
void KillServer(const std::string& dir) {
  const std::optional<int> pid = host::ReadPostmasterPid(dir);
  if (!pid || !host::PostmasterAlive(dir)) return;
  ::kill(*pid, SIGQUIT);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (host::ProcessAlive(*pid) && std::chrono::steady_clock::now() < deadline) {  // poll
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (host::ProcessAlive(*pid)) ::kill(-*pid, SIGKILL);  // its own process group
}

}  // namespace

absl::StatusOr<std::unique_ptr<MiniPostgres>> MiniPostgres::Create() {
  if (::geteuid() != 0) {
    return absl::FailedPreconditionError("the PostgreSQL integration tests run as root");
  }
  if (::access((std::string(kBin) + "/initdb").c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(std::string(kBin) + "/initdb not found");
  }
  const struct passwd* pw = ::getpwnam(kOsUser);
  if (pw == nullptr) return absl::FailedPreconditionError("no OS user 'postgres'");
  std::unique_ptr<MiniPostgres> mp(new MiniPostgres());
  char tmpl[] = "/tmp/sy-pg-test.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  mp->root_ = tmpl;
  // postgres must traverse it and create the data directories (and <dir>.new) in it.
  if (::chown(tmpl, pw->pw_uid, pw->pw_gid) != 0 || ::chmod(tmpl, 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot give ", tmpl, " to postgres"));
  }

  api::DeploymentColorSpec& spec = mp->spec_;
  spec.active_color = api::Color::kBlue;
  for (api::Color c : api::kColors) {
    absl::StatusOr<int> port = FreePort();
    if (!port.ok()) return port.status();
    spec.color(c).database = {"127.0.0.1", *port, mp->root_ + "/" + std::string(api::ColorName(c))};
  }
  if (spec.blue.database.port == spec.green.database.port) {
    return absl::InternalError("the kernel handed out the same port twice");
  }
  spec.database.user = "switchyard";
  spec.database.replication_user = "replicator";
  spec.database.os_user = kOsUser;
  spec.database.bin_directory = kBin;

  const std::string& blue = spec.blue.database.data_directory;
  util::ExecCommandRunner runner;
  util::Command initdb;
  initdb.argv = {std::string(kBin) + "/initdb",
                 "-D",
                 blue,
                 "-U",
                 "switchyard",
                 "--no-locale",
                 "-E",
                 "UTF8",
                 "--auth=trust",
                 "--no-sync"};
  initdb.run_as = kOsUser;
  initdb.timeout = std::chrono::minutes(2);
  absl::StatusOr<util::CommandResult> r = runner.Run(initdb);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return absl::InternalError("initdb failed: " + r->output);
  // Per-node settings (port, listen_addresses) go on the command line (pkg/observe/README.md #2).
  std::ofstream conf(blue + "/postgresql.conf", std::ios::app);
  conf << "\n# sy::testing::MiniPostgres\n"
       << "wal_log_hints = on\n"
       << "wal_keep_size = 128MB\n"
       << "max_connections = 30\n"
       << "shared_buffers = 16MB\n"
       << "unix_socket_directories = '" << mp->root_ << "'\n"
       << "log_line_prefix = '%m [%p] '\n";
  conf.close();
  if (!conf) return absl::InternalError("cannot append to " + blue + "/postgresql.conf");
  return mp;
}

MiniPostgres::~MiniPostgres() {
  if (root_.empty()) return;
  for (api::Color c : api::kColors) {
    const std::string& dir = spec_.color(c).database.data_directory;
    KillServer(dir);
    KillServer(dir + ".new");
  }
  if (std::getenv("SY_PG_TEST_KEEP") != nullptr) {  // for post-mortems: logs and data dirs
    std::fprintf(stderr, "kept %s\n", root_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

}  // namespace sy::testing
