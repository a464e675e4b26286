// The controller's epoch (pkg/agent/README.md "Epochs"): <state-dir>/epoch.json holds the era
// of this state directory (random, made on first use) and the rev the last daemon start
// took. Each start takes the next rev before any agent call, so that agents refuse whatever
// an earlier daemon of this directory still sends.
#pragma once

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/agent/protocol.h"

namespace sy::app {

// The file's path in `state_dir`.
std::string EpochPath(const std::string& state_dir);

// The epoch as the file holds it; absent, the file is created with a new era and rev 0 (an
// existing one is never replaced, even by a creation racing this one). A file that cannot be
// read as an epoch is an error naming it (kDataLoss): a new era would make every agent
// refuse this controller, and a lower rev would let an older one act again.
absl::StatusOr<agent::Epoch> ReadEpoch(const std::string& state_dir);

// Takes the next rev and writes it durably (temp file, fsync, rename, fsync the directory)
// before returning it. The caller holds the state directory's lock (controller::StateLock):
// two starts must not take the same rev.
absl::StatusOr<agent::Epoch> TakeNextEpoch(const std::string& state_dir);

// `switchyard epoch --state-dir D`: prints {"era":"…","epoch":"N"} (the current epoch, the
// file created if absent), which operators pin agents with
// (`switchyard-agent pin-epoch --era … --epoch N`). Returns the exit code: 0, or 2 with the
// error on `err`.
int PrintEpoch(const std::string& state_dir, std::ostream& out, std::ostream& err);

}  // namespace sy::app
