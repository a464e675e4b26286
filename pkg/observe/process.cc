#include "pkg/observe/process.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace sy::observe {
namespace {

struct Stat {
  char state = '?';
  int ppid = 0;
};

// Parses /proc/<pid>/stat: "pid (comm) S ppid ...", where comm may hold spaces and ')'.
std::optional<Stat> ReadStat(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
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
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

}  // namespace sy::observe
