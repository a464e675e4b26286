// Facts about local processes, read from /proc: whether one still runs, its children, its
// command line, the files it holds. Used to tell whether nginx's master runs and when its old
// workers are gone, and which processes still hold a copy lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sy::host {

// True when `pid` (> 0) names a process that has not exited. A zombie counts as exited: an
// exited daemon re-parented to an init that does not reap lingers as one
// (pkg/observe/README.md #8). Thread-safe.
bool ProcessAlive(int pid);

// The pids of the live processes whose parent is `pid`, ascending (scans /proc; the kernel
// here has no /proc/<pid>/task/<tid>/children). Thread-safe.
std::vector<int> ChildPids(int pid);

// The process's command line with NULs turned into spaces, as `ps` shows it (a process
// may rewrite it: nginx's master reads "nginx: master process ..."); nullopt when it is gone.
std::optional<std::string> ProcessCommandLine(int pid);

// The parent of `pid`; nullopt when it is gone.
std::optional<int> ParentPid(int pid);

// The path of the program `pid` runs (/proc/<pid>/exe); nullopt when unreadable.
std::optional<std::string> ProcessExecutable(int pid);

// The pids (ascending) of the processes that have the file `path` open, from /proc/*/fd; only
// those whose descriptors we may read (all of them as root). Empty when `path` is missing.
std::vector<int> ProcessesWithFileOpen(const std::string& path);

// `pid` has the file `path` open now.
bool HasFileOpen(int pid, const std::string& path);

// The same three facts behind an interface, so code that waits on processes (the nginx
// actuator waiting out old workers) can be tested with a fake. Thread-safe.
class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  virtual bool Alive(int pid) = 0;
  virtual std::vector<int> Children(int pid) = 0;
  virtual std::optional<std::string> CommandLine(int pid) = 0;
};

// The real one: /proc through the functions above.
class ProcProcessTable final : public ProcessTable {
 public:
  bool Alive(int pid) override { return ProcessAlive(pid); }
  std::vector<int> Children(int pid) override { return ChildPids(pid); }
  std::optional<std::string> CommandLine(int pid) override { return ProcessCommandLine(pid); }
};

}  // namespace sy::host
