#include "pkg/host/local_nginx_host.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "pkg/host/nginx_master.h"
#include "pkg/util/files.h"

namespace sy::host {
namespace {

absl::Status MakeParentDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return util::ErrnoStatus(errno, "creating directory " + dir);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<HostFile>> LocalNginxHost::ReadFile(const std::string& path) {
  auto read = util::ReadFile(path);
  if (!read.ok()) {
    if (absl::IsNotFound(read.status())) return std::nullopt;
    return read.status();
  }
  HostFile file{*std::move(read)};
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) file.mode = st.st_mode & 07777;
  return file;
}

absl::Status LocalNginxHost::WriteFile(const std::string& path, const std::string& content,
                                       unsigned mode) {
  if (absl::Status made = MakeParentDirectories(path); !made.ok()) return made;
  return util::WriteFileAtomically(path, content, mode);
}

absl::Status LocalNginxHost::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return util::ErrnoStatus(errno, "removing " + path);
}

absl::StatusOr<int> LocalNginxHost::FindMaster(const api::NginxSpec& nginx) {
  return FindNginxMaster(nginx, processes_);
}

std::vector<int> LocalNginxHost::Workers(int master) { return processes_.Children(master); }

bool LocalNginxHost::WorkerRetired(int pid) {
  if (!processes_.Alive(pid)) return true;
  const auto cmdline = processes_.CommandLine(pid);
  return !cmdline || cmdline->find("shutting down") != std::string::npos;
}

absl::StatusOr<util::CommandResult> LocalNginxHost::TestConfig(const api::NginxSpec& nginx,
                                                               std::chrono::milliseconds timeout) {
  return RunNginx(nginx, {"-t"}, timeout);
}

absl::StatusOr<util::CommandResult> LocalNginxHost::Reload(const api::NginxSpec& nginx,
                                                           std::chrono::milliseconds timeout) {
  return RunNginx(nginx, {"-s", "reload"}, timeout);
}

absl::StatusOr<util::CommandResult> LocalNginxHost::RunNginx(const api::NginxSpec& nginx,
                                                             std::vector<std::string> args,
                                                             std::chrono::milliseconds timeout) {
  util::Command cmd;
  cmd.argv = {nginx.binary};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.argv.insert(cmd.argv.end(), {"-c", nginx.config_file});
  cmd.timeout = timeout;
  return runner_.Run(cmd);
}

}  // namespace sy::host
