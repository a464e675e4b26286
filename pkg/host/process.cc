#include "pkg/host/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>

namespace sy::host {
namespace {

struct Stat {
  char state = '?';
  int ppid = 0;
};

// A whole /proc file, read with read(2): a process that exits while it is read makes the
// read fail (ESRCH), which libstdc++'s streams turn into an exception that nothing catches.
std::optional<std::string> ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

// Parses /proc/<pid>/stat: "pid (comm) S ppid ...", where comm may hold spaces and ')'.
std::optional<Stat> ReadStat(int pid) {
  const std::optional<std::string> content = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  if (!content) return std::nullopt;
  const std::string line = content->substr(0, content->find('\n'));
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 4 >= line.size()) return std::nullopt;
  Stat s;
  s.state = line[close + 2];
  const char* begin = line.data() + close + 4;
  std::from_chars(begin, line.data() + line.size(), s.ppid);
  return s;
}

// The pids in /proc.
std::vector<int> AllPids() {
  std::vector<int> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (const struct dirent* e = ::readdir(dir)) {
    int pid = 0;
    const char* end = e->d_name + std::char_traits<char>::length(e->d_name);
    if (std::from_chars(e->d_name, end, pid).ptr == end && pid > 0) out.push_back(pid);
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

// `pid` has a descriptor open on the file with `want`'s device and inode.
bool HasOpen(int pid, const struct stat& want) {
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(fds.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (const struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    struct stat st {};
    // stat follows the magic link to the open file itself (even when renamed or unlinked).
    if (::stat((fds + "/" + e->d_name).c_str(), &st) == 0 && st.st_dev == want.st_dev &&
        st.st_ino == want.st_ino) {
      found = true;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

}  // namespace

bool ProcessAlive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  const std::optional<Stat> s = ReadStat(pid);
  return s.has_value() && s->state != 'Z' && s->state != 'X';
}

std::vector<int> ChildPids(int pid) {
  std::vector<int> out;
  for (int child : AllPids()) {
    const std::optional<Stat> s = ReadStat(child);
    if (s && s->ppid == pid && s->state != 'Z' && s->state != 'X') out.push_back(child);
  }
  return out;
}

std::optional<std::string> ProcessCommandLine(int pid) {
  std::optional<std::string> content = ReadProcFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!content) return std::nullopt;
  std::string& s = *content;
  while (!s.empty() && s.back() == '\0') s.pop_back();
  std::replace(s.begin(), s.end(), '\0', ' ');
  return content;
}

std::optional<int> ParentPid(int pid) {
  const std::optional<Stat> s = ReadStat(pid);
  if (!s) return std::nullopt;
  return s->ppid;
}

std::optional<std::string> ProcessExecutable(int pid) {
  char buf[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<int> ProcessesWithFileOpen(const std::string& path) {
  std::vector<int> out;
  struct stat want {};
  if (::stat(path.c_str(), &want) != 0) return out;
  for (int pid : AllPids()) {
    if (HasOpen(pid, want)) out.push_back(pid);
  }
  return out;
}

bool HasFileOpen(int pid, const std::string& path) {
  struct stat want {};
  return ::stat(path.c_str(), &want) == 0 && HasOpen(pid, want);
}

}  // namespace sy::host
