// The commit a git checkout has checked out, read from its .git files (no git binary): shown
// in status.source so that a GitOps user sees which commit a resource's spec came from.
#pragma once

#include <string>

namespace sy::source {

// The 40-hex commit of HEAD of the checkout that holds `path` (a file or a directory; the
// nearest .git above it), or "" when there is none or it cannot be read. Understands a .git
// directory and a .git file ("gitdir: ...", worktrees and submodules), a detached HEAD, loose
// and packed refs.
std::string GitHeadCommit(const std::string& path);

// The git directory of the checkout that holds `path` (where HEAD lives), or "".
std::string GitDirOf(const std::string& path);

}  // namespace sy::source
