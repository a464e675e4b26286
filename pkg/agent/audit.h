// The agent's audit log, <state>/audit.jsonl: one JSON line per request (the verb, the op id,
// the call's epoch, the highest rev before it, the decision), per commit point of an
// operation (its epoch, the act, allowed or refused) and per operation end, each with a
// CLOCK_MONOTONIC timestamp in ns. The multi-host tests read it to check that no
// irreversible act ran under a stale epoch and that no operation id ran twice. Each line is
// written with one write(2) as it happens (no fsync: losing the last lines in a crash loses
// evidence, not safety); past a size bound the file moves to audit.jsonl.1 (one kept).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pkg/agent/protocol.h"
#include "pkg/agent/state_files.h"
#include "pkg/util/clock.h"

namespace sy::agent {

// Thread-safe. A line that cannot be written is reported in the process log, not to the
// caller: the audit log records what the agent does and never decides it.
class AuditLog {
 public:
  // `clock` must outlive this object.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& state_dir,
                                                        const util::Clock& clock,
                                                        uint64_t rotate_above_bytes = 64 << 20);

  // A request: `verb` ("observe", "ops", "epoch", "poll"), `op_id` ("" when none), the
  // call's epoch, the highest rev before it, and the decision ("OK" or the refusal's code).
  void Request(std::string_view verb, std::string_view op_id, const Epoch& epoch,
               int64_t highest_before, std::string_view decision);
  // A commit point of operation `op_id` (epoch `epoch`): `act` allowed or refused.
  void Commit(std::string_view op_id, const Epoch& epoch, std::string_view act, bool allowed);
  // The end of operation `op_id`.
  void OpEnd(std::string_view op_id, const Epoch& epoch, OpState state, Code code);

 private:
  AuditLog(std::string path, const util::Clock& clock, uint64_t rotate_above)
      : path_(std::move(path)), clock_(clock), rotate_above_(rotate_above) {}
  void Write(std::string line);

  const std::string path_;
  const util::Clock& clock_;
  const uint64_t rotate_above_;
  std::mutex mu_;
  std::unique_ptr<LineFile> file_;  // guarded by mu_; null after a failed rotation
};

}  // namespace sy::agent
