#include "pkg/app/epoch_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::app {
namespace {

using nlohmann::json;

// 128 random bits in hex: eras of different state directories never meet.
absl::StatusOr<std::string> NewEra() {
  char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::ErrnoStatus(errno, "getrandom for a new era");
    }
    got += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(std::string(bytes, sizeof bytes));
}

std::string Encode(const agent::Epoch& e) {
  // The rev as a string, as the protocol sends it: other languages' JSON would round it.
  return nlohmann::ordered_json{{"era", e.era}, {"rev", std::to_string(e.rev)}}.dump() + "\n";
}

absl::StatusOr<agent::Epoch> Decode(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", why,
        "; restore it from a backup (a new era would make every agent refuse this controller "
        "until pinned again)"));
  };
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("era") || !j["era"].is_string() || !j.contains("rev") ||
      !j["rev"].is_string()) {
    return bad("not an epoch ({\"era\":\"…\",\"rev\":\"N\"})");
  }
  agent::Epoch e;
  e.era = j["era"].get<std::string>();
  if (e.era.empty()) return bad("the era is empty");
  if (!absl::SimpleAtoi(j["rev"].get<std::string>(), &e.rev) || e.rev < 0) {
    return bad("the rev is not a non-negative integer");
  }
  return e;
}

// Creates `path` with `content` unless it exists, durably; never replaces it.
absl::Status CreateExclusively(const std::string& path, const std::string& content) {
  const std::string tmp = absl::StrCat(path, ".new.", ::getpid());
  SY_RETURN_IF_ERROR(util::WriteFileAtomically(tmp, content, 0600));
  // link() fails with EEXIST where rename() would replace: a file made meanwhile by another
  // process (`switchyard epoch` beside a starting daemon) stays, and this one is dropped.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && err != EEXIST) return util::ErrnoStatus(err, "creating " + path);
  // The new name is durable once its directory is.
  const std::string dir = path.substr(0, path.find_last_of('/') + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::ErrnoStatus(errno, "opening " + dir);
  const int synced = ::fsync(fd);
  const int sync_err = errno;
  ::close(fd);
  if (synced != 0) return util::ErrnoStatus(sync_err, "syncing " + dir);
  return absl::OkStatus();
}

}  // namespace

std::string EpochPath(const std::string& state_dir) { return state_dir + "/epoch.json"; }

absl::StatusOr<agent::Epoch> ReadEpoch(const std::string& state_dir) {
  const std::string path = EpochPath(state_dir);
  absl::StatusOr<std::string> text = util::ReadFile(path);
  if (absl::IsNotFound(text.status())) {
    SY_ASSIGN_OR_RETURN(std::string era, NewEra());
    SY_RETURN_IF_ERROR(CreateExclusively(path, Encode({.era = era, .rev = 0})));
    text = util::ReadFile(path);
  }
  if (!text.ok()) return text.status();
  return Decode(path, *text);
}

absl::StatusOr<agent::Epoch> TakeNextEpoch(const std::string& state_dir) {
  SY_ASSIGN_OR_RETURN(agent::Epoch e, ReadEpoch(state_dir));
  ++e.rev;
  SY_RETURN_IF_ERROR(util::WriteFileAtomically(EpochPath(state_dir), Encode(e), 0600));
  return e;
}

int PrintEpoch(const std::string& state_dir, std::ostream& out, std::ostream& err) {
  if (state_dir.empty() || state_dir[0] != '/') {
    err << "switchyard epoch: --state-dir must be an absolute path\n";
    return 2;
  }
  absl::StatusOr<agent::Epoch> e = ReadEpoch(state_dir);
  if (!e.ok()) {
    err << "switchyard epoch: " << e.status().message() << "\n";
    return 2;
  }
  out << nlohmann::ordered_json{{"era", e->era}, {"epoch", std::to_string(e->rev)}}.dump() << "\n";
  return 0;
}

}  // namespace sy::app
