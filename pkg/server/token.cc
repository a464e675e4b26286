#include "pkg/server/token.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"

namespace sy::server {

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  auto content = util::ReadFile(path);
  if (!content.ok()) return content.status();
  std::string token(absl::StripAsciiWhitespace(content->substr(0, content->find('\n'))));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the token file ", path,
                     " is empty (remove it and restart switchyard to "
                     "make a new one)"));
  }
  return token;
}

absl::StatusOr<std::string> LoadOrCreateToken(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("the token file ", path, " is readable by others (chmod 600 ", path, ")"));
    }
    return ReadToken(path);
  }
  if (errno != ENOENT) return util::ErrnoStatus(errno, "token file " + path);
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::ErrnoStatus(errno, "getrandom for the API token");
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  if (absl::Status s = util::WriteFileAtomically(path, token + "\n", 0600); !s.ok()) return s;
  return token;
}

}  // namespace sy::server
