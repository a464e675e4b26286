// Facts about local processes, read from /proc: whether one still runs, its children, its
// command line. Used to tell whether nginx's master runs and when its old workers are gone.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sy::observe {

// True when `pid` (> 0) names a process that has not exited. A zombie counts as exited: an
// exited daemon re-parented to an init that does not reap lingers as one (FIELD-NOTES #9).
// Thread-safe.
bool ProcessAlive(int pid);

// The pids of the live processes whose parent is `pid`, ascending (scans /proc; the kernel
// here has no /proc/<pid>/task/<tid>/children). Thread-safe.
std::vector<int> ChildPids(int pid);

// The process's command line with NULs turned into spaces, as `ps` shows it (a process
// may rewrite it: nginx's master reads "nginx: master process ..."); nullopt when it is gone.
std::optional<std::string> ProcessCommandLine(int pid);

}  // namespace sy::observe
