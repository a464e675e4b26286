// Runs external commands as argv vectors (never through a shell), optionally as another OS
// user, with a timeout, capturing their output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sy::actuate {

struct Command {
  std::vector<std::string> argv;  // argv[0] is an absolute path or a name looked up in PATH
  std::string run_as;             // OS user to run as when we are root ("" = ourselves)
  std::string working_directory = "/";
  std::chrono::milliseconds timeout{60000};
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
  // kInvalidArgument: empty argv or unknown user.
  virtual absl::StatusOr<CommandResult> Run(const Command& cmd) = 0;
};

// fork/exec implementation. When run_as is set and we are root, the child drops to that user
// (setgid/initgroups/setuid) before exec, like `runuser -u USER --`; when we are not root,
// run_as must be empty or our own user name.
class ExecCommandRunner final : public CommandRunner {
 public:
  absl::StatusOr<CommandResult> Run(const Command& cmd) override;
};

// "'a' 'b c'" for logs and error messages.
std::string Render(const std::vector<std::string>& argv);

}  // namespace sy::actuate
