#include "pkg/source/git_commit.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pkg/util/files.h"

namespace sy::source {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Trimmed(const std::string& path) {
  auto content = util::ReadFile(path);
  if (!content.ok()) return "";
  return std::string(absl::StripAsciiWhitespace(*content));
}

bool IsSha(absl::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The git directory of the checkout holding directory `dir` (absolute), or "".
std::string FindGitDir(std::string dir) {
  for (;;) {
    std::string dot_git = absl::StrCat(dir == "/" ? "" : dir, "/.git");
    if (IsDir(dot_git)) return dot_git;
    const std::string pointer = Trimmed(dot_git);  // worktrees and submodules: a file
    if (absl::StartsWith(pointer, "gitdir:")) {
      std::string target(absl::StripAsciiWhitespace(pointer.substr(7)));
      return target.empty() || target[0] == '/' ? target : absl::StrCat(dir, "/", target);
    }
    const size_t slash = dir.find_last_of('/');
    if (dir == "/" || slash == std::string::npos) return "";
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
}

std::string ResolveRef(const std::string& git_dir, const std::string& ref) {
  // A worktree keeps shared refs in the common directory.
  std::vector<std::string> dirs = {git_dir};
  const std::string common = Trimmed(git_dir + "/commondir");
  if (!common.empty()) {
    dirs.push_back(common[0] == '/' ? common : absl::StrCat(git_dir, "/", common));
  }
  for (const std::string& d : dirs) {
    std::string loose = Trimmed(absl::StrCat(d, "/", ref));
    if (IsSha(loose)) return loose;
    auto packed = util::ReadFile(d + "/packed-refs");
    if (!packed.ok()) continue;
    for (absl::string_view line : absl::StrSplit(*packed, '\n')) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
      if (kv.second == ref && IsSha(kv.first)) return std::string(kv.first);
    }
  }
  return "";
}

}  // namespace

std::string GitDirOf(const std::string& path) {
  const std::string dir = IsDir(path) ? path : path.substr(0, path.find_last_of('/'));
  return FindGitDir(dir.empty() ? "/" : dir);
}

std::string GitHeadCommit(const std::string& path) {
  const std::string git_dir = GitDirOf(path);
  if (git_dir.empty()) return "";
  std::string head = Trimmed(git_dir + "/HEAD");
  if (IsSha(head)) return head;
  if (!absl::StartsWith(head, "ref:")) return "";
  return ResolveRef(git_dir, std::string(absl::StripAsciiWhitespace(head.substr(4))));
}

std::optional<bool> GitCommitHistory::IsAncestor(const std::string& git_dir,
                                                 const std::string& older,
                                                 const std::string& newer) {
  util::Command cmd;
  cmd.argv = {
      "git", "-c", "safe.directory=*", "--git-dir=" + git_dir, "merge-base", "--is-ancestor",
      older, newer};
  cmd.timeout = std::chrono::seconds(10);
  auto r = runner_.Run(cmd);
  if (!r.ok() || (r->exit_code != 0 && r->exit_code != 1)) return std::nullopt;
  return r->exit_code == 0;
}

}  // namespace sy::source
