// The commit a git checkout has checked out, read from its .git files (no git binary): shown
// in status.source so that a GitOps user sees which commit a resource's spec came from.
#pragma once

#include <optional>
#include <string>

#include "pkg/util/command_runner.h"

namespace sy::source {

// The 40-hex commit of HEAD of the checkout that holds `path` (a file or a directory; the
// nearest .git above it), or "" when there is none or it cannot be read. Understands a .git
// directory and a .git file ("gitdir: ...", worktrees and submodules), a detached HEAD, loose
// and packed refs.
std::string GitHeadCommit(const std::string& path);

// The git directory of the checkout that holds `path` (where HEAD lives), or "".
std::string GitDirOf(const std::string& path);

// Whether a commit comes before another in a repository's history. Thread-safe.
class CommitHistory {
 public:
  virtual ~CommitHistory() = default;
  // Whether `older` is an ancestor of `newer` in the repository of `git_dir`; nullopt when
  // that cannot be told (no git, a commit not fetched).
  virtual std::optional<bool> IsAncestor(const std::string& git_dir, const std::string& older,
                                         const std::string& newer) = 0;
};

// Asks `git merge-base --is-ancestor` (any owner of the repository accepted).
class GitCommitHistory final : public CommitHistory {
 public:
  // `runner` must outlive this object.
  explicit GitCommitHistory(util::CommandRunner& runner) : runner_(runner) {}
  std::optional<bool> IsAncestor(const std::string& git_dir, const std::string& older,
                                 const std::string& newer) override;

 private:
  util::CommandRunner& runner_;
};

}  // namespace sy::source
