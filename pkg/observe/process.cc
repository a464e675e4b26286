#include "pkg/observe/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>

namespace sy::observe {
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

}  // namespace

bool ProcessAlive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  const std::optional<Stat> s = ReadStat(pid);
  return s.has_value() && s->state != 'Z' && s->state != 'X';
}

std::vector<int> ChildPids(int pid) {
  std::vector<int> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (const struct dirent* e = ::readdir(dir)) {
    int child = 0;
    const char* end = e->d_name + std::char_traits<char>::length(e->d_name);
    if (std::from_chars(e->d_name, end, child).ptr != end || child <= 0) continue;
    const std::optional<Stat> s = ReadStat(child);
    if (s && s->ppid == pid && s->state != 'Z' && s->state != 'X') out.push_back(child);
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
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

}  // namespace sy::observe
