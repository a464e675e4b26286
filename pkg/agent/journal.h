// The agent's operation journal, <state>/journal.jsonl: one fsynced line when an operation
// starts and one when it ends. After a crash or a restart it tells which operations started
// and never ended (their effect is unknown: they are in doubt until it is seen), and the
// results of the last ones that ended, so that a controller repeating an op_id after the
// restart is answered from here and the step is never run twice (pkg/agent/README.md
// "Operations").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/agent/protocol.h"
#include "pkg/agent/state_files.h"
#include "pkg/model/step.h"

namespace sy::agent {

struct JournalStart {
  std::string op_id;
  model::Step step;
  std::string machine;   // "blue", "green" or "nginx"
  std::string resource;  // "default/shop"
  std::string object;    // the managed object: a data directory or an upstream file
  Epoch epoch;
  int64_t budget_ms = 0;  // how long its effect may take to show
  // Its first irreversible act was journaled (Acted) before it was done: without it, an
  // operation found unfinished after a restart provably changed nothing.
  bool acted = false;
  bool operator==(const JournalStart&) const = default;
};

struct JournalEnd {
  std::string op_id;
  OpState state = OpState::kDone;
  Code code = Code::kOk;
  std::string message;
  std::string detail;
  bool operator==(const JournalEnd&) const = default;
};

struct JournalEntry {
  JournalStart start;
  JournalEnd end;
};

struct JournalOptions {
  // Past this size the journal is rewritten with only what is kept (below).
  uint64_t compact_above_bytes = uint64_t{4} << 20;
  // Ended operations kept: their ids are remembered so a repeat is never run again.
  size_t keep_ended = 1000;
  // Only read (switchyard-agent show, beside a serving agent): Start() and End() fail, and
  // the file is never compacted, which would race with the agent's appends.
  bool read_only = false;
};

// Thread-safe. Start() and End() return once the line is on disk.
class Journal {
 public:
  // Reads <state_dir>/journal.jsonl (absent: empty) and opens it for appending. A line that
  // cannot be parsed (the last one, torn by a crash) is skipped: a start that did not reach
  // the disk was never acknowledged, and an end that did not stays in doubt.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& state_dir,
                                                       JournalOptions options = {});

  // The operations started and not ended, oldest first.
  std::vector<JournalStart> Unfinished() const;
  // The last `keep_ended` operations that ended, oldest first.
  std::vector<JournalEntry> Ended() const;

  absl::Status Start(const JournalStart& start);
  // Records, on disk before it returns, that unfinished operation `op_id` is about to do its
  // first irreversible act (later acts need no record: one is enough to make it in doubt).
  // kNotFound when it is not unfinished.
  absl::Status Acted(const std::string& op_id);
  // Ends an operation Start() recorded (or that Unfinished() listed); kNotFound otherwise.
  absl::Status End(const JournalEnd& end);

  // Bytes in the journal file now (compaction keeps it near compact_above_bytes).
  uint64_t SizeBytes() const;

 private:
  Journal(std::string path, JournalOptions options) : path_(std::move(path)), options_(options) {}
  void Apply(const JournalStart& s);  // mu_ held
  void Apply(const JournalEnd& e);    // mu_ held
  absl::Status CompactIfLarge();      // mu_ held

  const std::string path_;
  const JournalOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<LineFile> file_;            // guarded by mu_
  std::map<std::string, JournalStart> open_;  // by op id; guarded by mu_
  std::vector<std::string> open_order_;       // ids of open_, oldest first
  std::deque<JournalEntry> ended_;            // oldest first; guarded by mu_
  uint64_t compacted_bytes_ = 0;              // the size the last compaction left
};

// The JSON lines (exposed for tests).
std::string EncodeJournalStart(const JournalStart& s);
std::string EncodeJournalEnd(const JournalEnd& e);

}  // namespace sy::agent
