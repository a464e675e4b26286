#include "pkg/agent/epoch_store.h"

#include <sys/stat.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/agent/state_files.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"

namespace sy::agent {
namespace {

// Identifies one version of the file: a rename over it changes the inode.
std::string FileId(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
}

absl::StatusOr<Epoch> ParseEpochFile(const std::string& path, const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  Epoch e;
  const bool ok = j.is_object() && j.contains("era") && j["era"].is_string() && j.contains("rev") &&
                  j["rev"].is_string() && absl::SimpleAtoi(j["rev"].get<std::string>(), &e.rev) &&
                  e.rev > 0;
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": not an epoch file ({\"era\": \"...\", \"rev\": \"<decimal>\"}); look at it, "
        "then run `switchyard-agent pin-epoch --force` to write a new one"));
  }
  e.era = j["era"].get<std::string>();
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EpochStore>> EpochStore::Open(const std::string& state_dir) {
  if (absl::Status s = PrepareStateDirectory(state_dir); !s.ok()) return s;
  std::unique_ptr<EpochStore> store(new EpochStore(state_dir + "/epoch.json"));
  std::lock_guard<std::mutex> lock(store->mu_);
  if (absl::Status s = store->Refresh(); !s.ok()) return s;
  return store;
}

absl::Status EpochStore::Refresh() const {
  const std::string id = FileId(path_);
  if (id == file_id_) return absl::OkStatus();
  absl::StatusOr<std::string> text = util::ReadFile(path_);
  if (absl::IsNotFound(text.status())) {
    file_id_ = "";
    return absl::OkStatus();  // never pinned, or removed: what is in memory stays
  }
  if (!text.ok()) return text.status();
  absl::StatusOr<Epoch> e = ParseEpochFile(path_, *text);
  if (!e.ok()) return e.status();
  if (!(*e == highest_)) {
    log::Info("epoch-file-read", {{"era", e->era}, {"rev", std::to_string(e->rev)}});
  }
  highest_ = *e;
  file_id_ = id;
  return absl::OkStatus();
}

Epoch EpochStore::Highest() const {
  std::lock_guard<std::mutex> lock(mu_);
  (void)Refresh();  // an unreadable file leaves the epoch known before
  return highest_;
}

bool EpochStore::Pinned() const { return Highest().rev > 0; }

absl::Status EpochStore::Write(const Epoch& e) {
  const nlohmann::json j = {{"era", e.era}, {"rev", std::to_string(e.rev)}};
  // Temp file, fsync, rename, fsync of the directory: after a crash the file holds the old
  // or the new epoch, and a raise acknowledged is never lost.
  if (absl::Status s = util::WriteFileAtomically(path_, j.dump() + "\n", 0600); !s.ok()) return s;
  file_id_ = FileId(path_);
  return absl::OkStatus();
}

absl::Status EpochStore::Pin(const Epoch& epoch, bool force) {
  if (epoch.era.empty()) return absl::InvalidArgumentError("--era must not be empty");
  if (epoch.rev <= 0) return absl::InvalidArgumentError("--epoch must be a positive integer");
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = Refresh(); !s.ok() && !force) return s;
  if (!force && highest_.era == epoch.era && epoch.rev < highest_.rev) {
    return absl::FailedPreconditionError(
        absl::StrCat("the agent has accepted rev ", highest_.rev, " of era ", epoch.era,
                     " already; pinning the lower rev ", epoch.rev,
                     " would let a controller it refused act again (--force to do it anyway)"));
  }
  if (absl::Status s = Write(epoch); !s.ok()) return s;
  highest_ = epoch;
  return absl::OkStatus();
}

EpochVerdict EpochStore::Check(const Epoch& epoch, bool raise) {
  std::lock_guard<std::mutex> lock(mu_);
  EpochVerdict v;
  if (absl::Status s = Refresh(); !s.ok()) {
    v.code = Code::kInternal;
    v.message = std::string(s.message());
    v.before = highest_;
    return v;
  }
  v.before = highest_;
  if (highest_.rev <= 0) {
    v.code = Code::kNoEpoch;
    v.message =
        "this agent was never pinned to an era: run `switchyard-agent pin-epoch --era E "
        "--epoch N` on its machine";
    return v;
  }
  if (epoch.era != highest_.era) {
    v.code = Code::kEraMismatch;
    v.message = absl::StrCat("the call's era \"", epoch.era, "\" is not this agent's \"",
                             highest_.era, "\"");
    return v;
  }
  if (epoch.rev < highest_.rev) {
    v.code = Code::kStaleEpoch;
    v.message = absl::StrCat("rev ", epoch.rev, " is lower than rev ", highest_.rev,
                             " this agent accepted: a newer controller took over");
    return v;
  }
  if (epoch.rev > highest_.rev && raise) {
    Epoch next = highest_;
    next.rev = epoch.rev;
    if (absl::Status s = Write(next); !s.ok()) {
      v.code = Code::kInternal;
      v.message = absl::StrCat("cannot record rev ", epoch.rev, ": ", s.message());
      return v;
    }
    highest_ = next;
  }
  return v;
}

bool EpochStore::Current(const Epoch& epoch) const {
  std::lock_guard<std::mutex> lock(mu_);
  // An unreadable file is no proof the epoch is still current: refuse.
  if (!Refresh().ok()) return false;
  return epoch.era == highest_.era && epoch.rev >= highest_.rev;
}

}  // namespace sy::agent
