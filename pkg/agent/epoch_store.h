// The agent's epoch: the era it is pinned to and the highest rev it has accepted, kept in
// <state>/epoch.json and written durably before any call that raised it proceeds, so that
// after a crash or a restart a controller that was replaced stays refused
// (pkg/agent/README.md "Epochs").
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/agent/protocol.h"

namespace sy::agent {

// The answer to an epoch-bearing call.
struct EpochVerdict {
  Code code = Code::kOk;  // kOk, kNoEpoch, kEraMismatch, kStaleEpoch, or kInternal
  std::string message;    // why, when refused
  Epoch before;           // the highest epoch before the call
};

// Thread-safe: calls are serialized, and a raise is on disk before Check() returns. Each call
// first re-reads the file when another process replaced it (`switchyard-agent pin-epoch` run
// beside a serving agent takes effect at once, with no restart).
class EpochStore {
 public:
  // Reads <state_dir>/epoch.json (absent: never pinned). kInvalidArgument naming the file
  // when it cannot be parsed: an operator must look (the agent would otherwise forget which
  // controllers it refused).
  static absl::StatusOr<std::unique_ptr<EpochStore>> Open(const std::string& state_dir);

  // The era and the highest rev (rev 0, era "": never pinned).
  Epoch Highest() const;
  bool Pinned() const;

  // switchyard-agent pin-epoch: sets the era and the rev. Lowering the rev of the same era
  // (which would let a replaced controller back in) is kFailedPrecondition unless `force`.
  absl::Status Pin(const Epoch& epoch, bool force);

  // The rules of pkg/agent/README.md "Epochs" for a call carrying `epoch`: never pinned:
  // kNoEpoch; another era: kEraMismatch; a lower rev: kStaleEpoch; a higher rev: with
  // `raise`, written durably first (kInternal when it cannot be).
  EpochVerdict Check(const Epoch& epoch, bool raise);

  // Whether `epoch` is still the highest of its era: what a running operation asks right
  // before each irreversible act.
  bool Current(const Epoch& epoch) const;

 private:
  explicit EpochStore(std::string path) : path_(std::move(path)) {}
  // Reads the file when it changed since it was last read or written; mu_ held.
  absl::Status Refresh() const;
  absl::Status Write(const Epoch& e);  // mu_ held

  const std::string path_;
  mutable std::mutex mu_;
  mutable Epoch highest_;        // guarded by mu_
  mutable std::string file_id_;  // inode, size and mtime last read or written; guarded by mu_
};

}  // namespace sy::agent
