#include "pkg/agent/audit.h"

#include <cstdio>

#include "nlohmann/json.hpp"
#include "pkg/util/files.h"
#include "pkg/util/log.h"

namespace sy::agent {
namespace {

using nlohmann::json;

json EpochFields(const Epoch& e) { return {{"era", e.era}, {"rev", std::to_string(e.rev)}}; }

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& state_dir,
                                                         const util::Clock& clock,
                                                         uint64_t rotate_above_bytes) {
  if (absl::Status s = PrepareStateDirectory(state_dir); !s.ok()) return s;
  std::unique_ptr<AuditLog> log(
      new AuditLog(state_dir + "/audit.jsonl", clock, rotate_above_bytes));
  absl::StatusOr<std::unique_ptr<LineFile>> file = LineFile::Open(log->path_);
  if (!file.ok()) return file.status();
  log->file_ = *std::move(file);
  return log;
}

void AuditLog::Request(std::string_view verb, std::string_view op_id, const Epoch& epoch,
                       int64_t highest_before, std::string_view decision) {
  json j = {{"type", "request"},
            {"verb", verb},
            {"op_id", op_id},
            {"epoch", EpochFields(epoch)},
            {"highest_before", std::to_string(highest_before)},
            {"decision", decision}};
  Write(j.dump());
}

void AuditLog::Commit(std::string_view op_id, const Epoch& epoch, std::string_view act,
                      bool allowed) {
  Write(json{{"type", "commit"},
             {"op_id", op_id},
             {"epoch", EpochFields(epoch)},
             {"act", act},
             {"allowed", allowed}}
            .dump());
}

void AuditLog::OpEnd(std::string_view op_id, const Epoch& epoch, OpState state, Code code) {
  Write(json{{"type", "op_end"},
             {"op_id", op_id},
             {"epoch", EpochFields(epoch)},
             {"state", OpStateName(state)},
             {"code", CodeName(code)}}
            .dump());
}

void AuditLog::Write(std::string line) {
  const int64_t t =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.MonotonicNow().time_since_epoch())
          .count();
  // The timestamp first, so that lines sort and read alike.
  line.insert(1, "\"t\":" + std::to_string(t) + ",");
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr && file_->Size() + line.size() > rotate_above_) {
    file_.reset();
    if (std::rename(path_.c_str(), (path_ + ".1").c_str()) != 0) {
      log::Warn("audit-rotate-failed", {{"file", path_}});
    }
  }
  if (file_ == nullptr) {
    absl::StatusOr<std::unique_ptr<LineFile>> file = LineFile::Open(path_);
    if (!file.ok()) {
      log::Error("audit-write-failed", {{"error", std::string(file.status().message())}});
      return;
    }
    file_ = *std::move(file);
  }
  if (absl::Status s = file_->Append(line, /*sync=*/false); !s.ok()) {
    log::Error("audit-write-failed", {{"error", std::string(s.message())}});
  }
}

}  // namespace sy::agent
