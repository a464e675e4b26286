#include "pkg/util/command_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

extern char** environ;

namespace sy::util {

std::string Render(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

namespace {

using Millis = std::chrono::milliseconds;

// What the child reports through the close-on-exec pipe: the grandchild's pid (Spawn), or
// the stage that failed before exec and its errno. Small enough to be written atomically.
enum class Stage : int32_t {
  kPid,
  kSignals,
  kStdio,
  kFds,
  kGroups,
  kSetgid,
  kSetuid,
  kChdir,
  kExec,
  kFork,
  kSetsid,
  kDeathSignal
};
struct Report {
  Stage stage;
  int32_t value;  // a pid for kPid, else an errno
};

// Everything the child needs, resolved before fork: after it, the child may only make
// async-signal-safe calls (no allocation, no NSS lookups).
struct ExecPlan {
  std::string program;  // path handed to execve
  std::string working_directory;
  std::string user;  // for messages
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int max_fd = 1024;  // fallback bound when close_range is unavailable
  std::vector<int> inherit_fds;
  bool die_with_parent = false;
  pid_t parent_pid = 0;  // ours, taken before the fork: the child compares getppid() with it
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

absl::Status LookUpUser(const std::string& name, ExecPlan* plan) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  int err;
  while ((err = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE) {
    buf.resize(buf.size() * 2);
  }
  if (err != 0) return util::ErrnoStatus(err, "looking up user '" + name + "'");
  if (found == nullptr) return absl::InvalidArgumentError("unknown user '" + name + "'");
  plan->uid = pw.pw_uid;
  plan->gid = pw.pw_gid;
  int n = 32;
  plan->groups.resize(n);
  while (::getgrouplist(pw.pw_name, pw.pw_gid, plan->groups.data(), &n) < 0) {
    plan->groups.resize(std::max<size_t>(static_cast<size_t>(n), plan->groups.size() * 2));
    n = static_cast<int>(plan->groups.size());
  }
  plan->groups.resize(n);
  for (const char* var : {"HOME=", "USER=", "LOGNAME="}) {
    std::erase_if(plan->env_storage, [&](const std::string& e) { return e.starts_with(var); });
  }
  plan->env_storage.push_back(std::string("HOME=") + pw.pw_dir);
  plan->env_storage.push_back("USER=" + name);
  plan->env_storage.push_back("LOGNAME=" + name);
  return absl::OkStatus();
}

// The user we run as, by name ("" when it has none).
std::string OwnUserName() {
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return "";
  return pw.pw_name;
}

absl::StatusOr<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;  // execve resolves it (in the cwd)
  const char* env_path = std::getenv("PATH");
  const std::string path = env_path ? env_path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(begin, end - begin);
    begin = end + 1;
    if (dir.empty()) continue;  // "" means the cwd: never search it implicitly
    const std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError("program '" + name + "' not found in PATH (" + path + ")");
}

absl::StatusOr<ExecPlan> Prepare(const Command& cmd) {
  if (cmd.argv.empty() || cmd.argv[0].empty()) {
    return absl::InvalidArgumentError("empty command");
  }
  ExecPlan plan;
  plan.working_directory = cmd.working_directory.empty() ? "/" : cmd.working_directory;
  for (char** e = environ; e && *e; ++e) plan.env_storage.emplace_back(*e);
  if (!cmd.run_as.empty()) {
    plan.user = cmd.run_as;
    if (::geteuid() == 0) {
      SY_RETURN_IF_ERROR(LookUpUser(cmd.run_as, &plan));
      plan.switch_user = true;
    } else if (cmd.run_as != OwnUserName()) {
      return absl::PermissionDeniedError("cannot run as user '" + cmd.run_as +
                                         "': only root can switch users");
    }
  }
  SY_ASSIGN_OR_RETURN(plan.program, FindProgram(cmd.argv[0]));
  for (int fd : cmd.inherit_fds) {
    if (fd < 3 || ::fcntl(fd, F_GETFD) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("running ", Render(cmd.argv), ": descriptor ",
                                                     fd, " to inherit is not open or below 3"));
    }
  }
  plan.inherit_fds = cmd.inherit_fds;
  plan.die_with_parent = cmd.die_with_parent;
  plan.parent_pid = ::getpid();
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    plan.max_fd = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
  }
  plan.argv_storage = cmd.argv;
  for (auto& a : plan.argv_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  return plan;
}

void WriteReport(int fd, Stage stage, int value) {
  const Report r{stage, value};
  while (::write(fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void Fail(int report_fd, Stage stage) {
  WriteReport(report_fd, stage, errno);
  ::_exit(127);
}

// Makes `src` the descriptor `target` of the exec'ed program (not close-on-exec).
bool Install(int src, int target) {
  if (src == target) return ::fcntl(target, F_SETFD, 0) == 0;
  while (::dup2(src, target) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// The child's side, after fork: async-signal-safe calls only. `report_fd` is close-on-exec,
// so a successful exec closes it and the parent reads EOF.
[[noreturn]] void ExecChild(const ExecPlan& plan, int stdin_fd, int out_fd, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) Fail(report_fd, Stage::kSignals);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL is fine
  }
  // Move both sources above 2 first so installing one cannot clobber the other.
  const int in = ::fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
  const int out = ::fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || !Install(in, 0) || !Install(out, 1) || !Install(out, 2)) {
    Fail(report_fd, Stage::kStdio);
  }
  // Whatever other threads opened without O_CLOEXEC must not reach the program.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < plan.max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (int fd : plan.inherit_fds) {
    if (::fcntl(fd, F_SETFD, 0) != 0) Fail(report_fd, Stage::kFds);
  }
  if (plan.switch_user) {
    if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) {
      Fail(report_fd, Stage::kGroups);
    }
    if (::setgid(plan.gid) != 0) Fail(report_fd, Stage::kSetgid);
    if (::setuid(plan.uid) != 0) Fail(report_fd, Stage::kSetuid);
  }
  // Copies must not outlive a killed daemon (a restarted one would start another into the same
  // directory). After the user switch: a change of credentials clears the setting.
  if (plan.die_with_parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(report_fd, Stage::kDeathSignal);
    // We may have died before the prctl: then nobody waits for this program.
    if (::getppid() != plan.parent_pid) ::_exit(128 + SIGKILL);
  }
  // After dropping privileges: the directory must be one the user can enter.
  if (::chdir(plan.working_directory.c_str()) != 0) Fail(report_fd, Stage::kChdir);
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  Fail(report_fd, Stage::kExec);
}

absl::Status ReportStatus(const ExecPlan& plan, const Report& r) {
  const std::string what = "running " + Render(plan.argv_storage);
  const std::string as_user = plan.user.empty() ? "" : " as user '" + plan.user + "'";
  const char* reason = std::strerror(r.value);
  switch (r.stage) {
    case Stage::kExec:
      if (r.value == ENOENT) {
        return absl::NotFoundError(what + ": program " + plan.program + " not found");
      }
      if (r.value == EACCES || r.value == EPERM) {
        return absl::PermissionDeniedError(
            absl::StrCat(what, ": cannot execute ", plan.program, as_user, ": ", reason));
      }
      return absl::InternalError(absl::StrCat(what, ": exec ", plan.program, ": ", reason));
    case Stage::kChdir:
      return absl::FailedPreconditionError(absl::StrCat(what, ": cannot enter working directory ",
                                                        plan.working_directory, as_user, ": ",
                                                        reason));
    case Stage::kGroups:
    case Stage::kSetgid:
    case Stage::kSetuid:
      return absl::PermissionDeniedError(
          absl::StrCat(what, ": cannot switch to user '", plan.user, "': ", reason));
    default:
      return absl::InternalError(absl::StrCat(what, ": preparing the child process (stage ",
                                              static_cast<int>(r.stage), "): ", reason));
  }
}

int ReadRetrying(int fd, void* buf, size_t n) {
  ssize_t got;
  while ((got = ::read(fd, buf, n)) < 0 && errno == EINTR) {
  }
  return static_cast<int>(got);
}

// Reads the child's reports until EOF (the last descriptor to it closed on exec or exit).
// Sets *pid from a kPid report; returns the first failure report, if any.
std::optional<Report> ReadReports(int fd, int* pid) {
  std::optional<Report> failure;
  Report r;
  while (ReadRetrying(fd, &r, sizeof r) == static_cast<int>(sizeof r)) {
    if (r.stage == Stage::kPid) {
      if (pid) *pid = r.value;
    } else if (!failure) {
      failure = r;
    }
  }
  return failure;
}

int WaitRetrying(pid_t pid, int* wstatus, int options) {
  int r;
  while ((r = ::waitpid(pid, wstatus, options)) < 0 && errno == EINTR) {
  }
  return r;
}

// Closes descriptors on every path out of a function.
class Fds {
 public:
  Fds() = default;
  Fds(const Fds&) = delete;
  Fds& operator=(const Fds&) = delete;
  ~Fds() {
    for (int fd : fds_) ::close(fd);
  }
  int Add(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }
  void Close(int fd) {
    if (std::erase(fds_, fd) > 0) ::close(fd);
  }

 private:
  std::vector<int> fds_;
};

// Opens two pipes' worth of close-on-exec descriptors: {read, write}.
absl::Status MakePipe(Fds& fds, int (&p)[2]) {
  if (::pipe2(p, O_CLOEXEC) != 0) return util::ErrnoStatus(errno, "creating a pipe");
  fds.Add(p[0]);
  fds.Add(p[1]);
  return absl::OkStatus();
}

absl::StatusOr<int> OpenDevNull(Fds& fds) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return util::ErrnoStatus(errno, "opening /dev/null");
  return fds.Add(fd);
}

enum class ReadResult { kData, kEmpty, kClosed };

// Appends what can be read now from the non-blocking `fd` to `out`, up to kMaxCommandOutput
// (the rest is read and dropped, so the child never blocks on a full pipe).
ReadResult ReadOutput(int fd, std::string* out) {
  char buf[16384];
  const int n = ReadRetrying(fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadResult::kEmpty;
  if (n <= 0) return ReadResult::kClosed;
  const size_t room = kMaxCommandOutput - std::min(kMaxCommandOutput, out->size());
  out->append(buf, std::min(static_cast<size_t>(n), room));
  return ReadResult::kData;
}

}  // namespace

absl::StatusOr<CommandResult> ExecCommandRunner::Run(const Command& cmd) {
  SY_ASSIGN_OR_RETURN(const ExecPlan plan, Prepare(cmd));
  Fds fds;
  int out[2], report[2];
  SY_RETURN_IF_ERROR(MakePipe(fds, out));
  SY_RETURN_IF_ERROR(MakePipe(fds, report));
  SY_ASSIGN_OR_RETURN(const int devnull, OpenDevNull(fds));
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return util::ErrnoStatus(errno, "running " + Render(cmd.argv) + ": fork");
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills whatever it started too
    ExecChild(plan, devnull, out[1], report[1]);
  }
  ::setpgid(pid, pid);  // also here: no race with a kill at the timeout (EACCES after exec)
  fds.Close(out[1]);
  fds.Close(report[1]);
  fds.Close(devnull);
  int wstatus = 0;
  if (const auto failure = ReadReports(report[0], nullptr)) {
    WaitRetrying(pid, &wstatus, 0);
    return ReportStatus(plan, *failure);
  }
  // A pidfd wakes poll() when the child exits even if something it started keeps the
  // output pipe open; without one (old kernels) poll in short ticks.
  const int pidfd = fds.Add(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  const auto deadline = start + cmd.timeout;
  CommandResult result;
  bool out_open = true;
  bool exited = false;
  while (!exited) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      WaitRetrying(pid, &wstatus, 0);
      return absl::DeadlineExceededError(
          absl::StrCat(Render(cmd.argv), " killed after its ", cmd.timeout.count(),
                       " ms timeout; output: ", result.output.substr(0, 2000)));
    }
    auto wait = std::chrono::duration_cast<Millis>(deadline - now) + Millis(1);
    if (pidfd < 0) wait = std::min(wait, Millis(5));
    struct pollfd pfds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (::poll(pfds, 2, static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      return util::ErrnoStatus(errno, "running " + Render(cmd.argv) + ": poll");
    }
    if (out_open && (pfds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      out_open = ReadOutput(out[0], &result.output) != ReadResult::kClosed;
    }
    exited = WaitRetrying(pid, &wstatus, WNOHANG) == pid;
  }
  // What the child wrote before it exited; not what anything it left behind writes later.
  while (out_open && ReadOutput(out[0], &result.output) == ReadResult::kData) {
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return result;
}

absl::StatusOr<int> ExecCommandRunner::Spawn(const Command& cmd, const std::string& log_file) {
  if (log_file.empty() || log_file[0] != '/') {
    return absl::InvalidArgumentError("log file '" + log_file + "' must be an absolute path");
  }
  if (cmd.die_with_parent) {
    return absl::InvalidArgumentError(
        "starting " + Render(cmd.argv) +
        ": die_with_parent is for Run(); a spawned daemon outlives us");
  }
  SY_ASSIGN_OR_RETURN(const ExecPlan plan, Prepare(cmd));
  Fds fds;
  int report[2];
  SY_RETURN_IF_ERROR(MakePipe(fds, report));
  SY_ASSIGN_OR_RETURN(const int devnull, OpenDevNull(fds));
  constexpr int kLogFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  int log_fd = fds.Add(::open(log_file.c_str(), kLogFlags | O_CREAT | O_EXCL, 0640));
  if (log_fd >= 0 && plan.switch_user && ::fchown(log_fd, plan.uid, plan.gid) != 0) {
    return util::ErrnoStatus(errno, "giving log file " + log_file + " to " + plan.user);
  }
  if (log_fd < 0 && errno == EEXIST) log_fd = fds.Add(::open(log_file.c_str(), kLogFlags));
  if (log_fd < 0) return util::ErrnoStatus(errno, "opening log file " + log_file);
  const pid_t child = ::fork();
  if (child < 0) return util::ErrnoStatus(errno, "starting " + Render(cmd.argv) + ": fork");
  if (child == 0) {
    // The intermediate child: a new session, then the daemon, then exit so that the daemon
    // is re-parented to init and never becomes our zombie.
    if (::setsid() < 0) Fail(report[1], Stage::kSetsid);
    const pid_t grandchild = ::fork();
    if (grandchild < 0) Fail(report[1], Stage::kFork);
    if (grandchild == 0) {
      ::setpgid(0, 0);  // a group of its own (not a session leader: no controlling tty)
      ExecChild(plan, devnull, log_fd, report[1]);
    }
    WriteReport(report[1], Stage::kPid, grandchild);
    ::_exit(0);
  }
  fds.Close(report[1]);
  fds.Close(devnull);
  fds.Close(log_fd);
  int wstatus = 0;
  WaitRetrying(child, &wstatus, 0);
  int pid = -1;
  if (const auto failure = ReadReports(report[0], &pid)) {
    return ReportStatus(plan, *failure);
  }
  if (pid <= 0) {
    return absl::InternalError("starting " + Render(cmd.argv) + ": no pid reported");
  }
  return pid;
}

}  // namespace sy::util
