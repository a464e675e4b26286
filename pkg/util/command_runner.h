// Runs external commands as argv vectors (never through a shell), optionally as another OS
// user, with a timeout, capturing their output.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sy::util {

struct Command {
  std::vector<std::string> argv;  // argv[0] is an absolute path or a name looked up in PATH
  std::string run_as;             // OS user to run as when we are root ("" = ourselves)
  std::string working_directory = "/";
  std::chrono::milliseconds timeout{60000};
  // Run() only (Spawn refuses it: a daemon must outlive us). The program gets SIGKILL when
  // we die (prctl PR_SET_PDEATHSIG, set after the user switch, which would clear it), and
  // never starts when we died before it could ask. Linux sends the signal when the *thread*
  // that forked exits, not only the process: Run() blocks its caller until the program exits,
  // so only a thread killed under it (the whole process dying) can fire it. It reaches the
  // program alone, not the processes the program starts (pg_basebackup's WAL streamer).
  bool die_with_parent = false;
  // Descriptors of ours (each >= 3, open) that the program keeps, at the same numbers: every
  // other descriptor but 0-2 is closed on exec. E.g. a lock that must be held exactly as long
  // as the program and whatever it starts live.
  std::vector<int> inherit_fds;
};

struct CommandResult {
  int exit_code = 0;   // -1 when killed by a signal
  std::string output;  // stdout and stderr, interleaved, truncated to 64 KiB
};

// Thread-safe.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Returns the result of a command that ran to completion, whatever its exit code.
  // kNotFound: the program does not exist; kDeadlineExceeded: killed at the timeout;
  // kInvalidArgument: empty argv, unknown user, or an inherit_fds entry that is not an open
  // descriptor >= 3; kPermissionDenied: run_as another user while not root, or the program is
  // not executable; kFailedPrecondition: the working directory cannot be entered.
  virtual absl::StatusOr<CommandResult> Run(const Command& cmd) = 0;

  // Starts a long-running process detached from us (a daemon such as `postgres`) and
  // returns its pid as soon as it has exec'ed; does not wait for it. The process is not our
  // child: it runs in its own session and process group (pgid = the pid), is re-parented to
  // init, and leaves no zombie here. stdin is /dev/null; stdout and stderr are appended to
  // `log_file` (absolute; created 0640 and owned by run_as when missing). `cmd.timeout` is
  // ignored. Status codes as Run() (exec failures are reported, not left to the log), and
  // kInvalidArgument / kPermissionDenied when `log_file` cannot be opened, or when
  // `cmd.die_with_parent` is set.
  virtual absl::StatusOr<int> Spawn(const Command& cmd, const std::string& log_file) = 0;
};

// fork/exec implementation. When run_as is set and we are root, the child drops to that user
// (setgid/setgroups/setuid, HOME/USER/LOGNAME set) before exec, like `runuser -u USER --`;
// when we are not root, run_as must be empty or our own user name. Between fork and exec
// the child makes only async-signal-safe calls (users, groups and PATH are resolved before
// the fork), resets signal dispositions and the signal mask, and keeps no descriptor of
// ours but 0-2 and `inherit_fds`. A command that exits while a process it left behind still
// holds its output pipe completes when the command exits.
class ExecCommandRunner final : public CommandRunner {
 public:
  absl::StatusOr<CommandResult> Run(const Command& cmd) override;
  absl::StatusOr<int> Spawn(const Command& cmd, const std::string& log_file) override;
};

// The most output Run() keeps (the first bytes; the rest is read and dropped).
inline constexpr size_t kMaxCommandOutput = size_t{64} * 1024;

// "'a' 'b c'" for logs and error messages.
std::string Render(const std::vector<std::string>& argv);

}  // namespace sy::util
