#include "pkg/agent/journal.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "pkg/util/files.h"
#include "pkg/util/log.h"

namespace sy::agent {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<JournalStart> ParseStart(const json& j) {
  JournalStart s;
  s.op_id = Str(j, "op_id");
  const std::optional<model::StepKind> kind = model::ParseStepKind(Str(j, "kind"));
  const std::optional<api::Color> target = api::ParseColor(Str(j, "target"));
  if (s.op_id.empty() || !kind || !target) return std::nullopt;
  s.step.kind = *kind;
  s.step.target = *target;
  s.step.source = api::ParseColor(Str(j, "source"));
  if (auto it = j.find("replayed_at_least"); it != j.end() && it->is_number_unsigned()) {
    s.step.replayed_at_least = it->get<uint64_t>();
  }
  s.machine = Str(j, "machine");
  s.resource = Str(j, "resource");
  s.object = Str(j, "object");
  s.epoch.era = Str(j, "era");
  if (!absl::SimpleAtoi(Str(j, "rev"), &s.epoch.rev)) return std::nullopt;
  if (auto it = j.find("budget_ms"); it != j.end() && it->is_number_integer()) {
    s.budget_ms = it->get<int64_t>();
  }
  if (auto it = j.find("acted"); it != j.end() && it->is_boolean()) s.acted = it->get<bool>();
  return s;
}

std::optional<JournalEnd> ParseEnd(const json& j) {
  JournalEnd e;
  e.op_id = Str(j, "op_id");
  const std::optional<Code> code = ParseCode(Str(j, "code"));
  if (e.op_id.empty() || !code) return std::nullopt;
  e.code = *code;
  const std::string state = Str(j, "state");
  bool known = false;
  for (OpState s : {OpState::kDone, OpState::kFailed, OpState::kRefused}) {
    if (OpStateName(s) == state) {
      e.state = s;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  e.message = Str(j, "message");
  e.detail = Str(j, "detail");
  return e;
}

}  // namespace

std::string EncodeJournalStart(const JournalStart& s) {
  json j = {{"event", "start"},
            {"op_id", s.op_id},
            {"kind", std::string(model::StepKindName(s.step.kind))},
            {"target", std::string(api::ColorName(s.step.target))},
            {"replayed_at_least", s.step.replayed_at_least},
            {"machine", s.machine},
            {"resource", s.resource},
            {"object", s.object},
            {"era", s.epoch.era},
            {"rev", std::to_string(s.epoch.rev)},
            {"budget_ms", s.budget_ms}};
  // Written by compaction for an operation that had acted (its act line is not kept).
  if (s.acted) j["acted"] = true;
  if (s.step.source) j["source"] = std::string(api::ColorName(*s.step.source));
  return j.dump();
}

std::string EncodeJournalEnd(const JournalEnd& e) {
  return json{{"event", "end"},
              {"op_id", e.op_id},
              {"state", std::string(OpStateName(e.state))},
              {"code", std::string(CodeName(e.code))},
              {"message", e.message},
              {"detail", e.detail}}
      .dump();
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& state_dir,
                                                       JournalOptions options) {
  if (absl::Status s = PrepareStateDirectory(state_dir); !s.ok()) return s;
  std::unique_ptr<Journal> j(new Journal(state_dir + "/journal.jsonl", options));
  absl::StatusOr<std::string> text = util::ReadFile(j->path_);
  if (!text.ok() && !absl::IsNotFound(text.status())) return text.status();
  int skipped = 0;
  if (text.ok()) {
    for (absl::string_view piece : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      const std::string line(piece);
      const json l = json::parse(line, nullptr, /*allow_exceptions=*/false);
      const std::string event = l.is_object() ? Str(l, "event") : "";
      if (event == "start") {
        if (std::optional<JournalStart> s = ParseStart(l)) {
          j->Apply(*s);
          continue;
        }
      } else if (event == "act") {
        if (auto it = j->open_.find(Str(l, "op_id")); it != j->open_.end()) {
          it->second.acted = true;
          continue;
        }
      } else if (event == "end") {
        if (std::optional<JournalEnd> e = ParseEnd(l)) {
          j->Apply(*e);
          continue;
        }
      }
      ++skipped;
    }
  }
  if (skipped > 0) {
    log::Warn("journal-lines-skipped", {{"file", j->path_}, {"lines", std::to_string(skipped)}});
  }
  if (options.read_only) return j;
  absl::StatusOr<std::unique_ptr<LineFile>> file = LineFile::Open(j->path_);
  if (!file.ok()) return file.status();
  j->file_ = *std::move(file);
  std::lock_guard<std::mutex> lock(j->mu_);
  if (absl::Status s = j->CompactIfLarge(); !s.ok()) return s;
  return j;
}

void Journal::Apply(const JournalStart& s) {
  if (open_.count(s.op_id) == 0) open_order_.push_back(s.op_id);
  open_[s.op_id] = s;
}

void Journal::Apply(const JournalEnd& e) {
  auto it = open_.find(e.op_id);
  if (it == open_.end()) return;  // its start was compacted away or torn: nothing to end
  ended_.push_back(JournalEntry{it->second, e});
  open_.erase(it);
  std::erase(open_order_, e.op_id);
  while (ended_.size() > options_.keep_ended) ended_.pop_front();
}

std::vector<JournalStart> Journal::Unfinished() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JournalStart> out;
  for (const std::string& id : open_order_) out.push_back(open_.at(id));
  return out;
}

std::vector<JournalEntry> Journal::Ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {ended_.begin(), ended_.end()};
}

uint64_t Journal::SizeBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_ ? file_->Size() : 0;
}

absl::Status Journal::Start(const JournalStart& start) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return absl::FailedPreconditionError("journal " + path_ + " opened read-only");
  if (absl::Status s = file_->Append(EncodeJournalStart(start), /*sync=*/true); !s.ok()) {
    return s;
  }
  Apply(start);
  return CompactIfLarge();
}

absl::Status Journal::Acted(const std::string& op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return absl::FailedPreconditionError("journal " + path_ + " opened read-only");
  auto it = open_.find(op_id);
  if (it == open_.end()) return absl::NotFoundError("journal: no unfinished operation " + op_id);
  if (it->second.acted) return absl::OkStatus();
  const std::string line = json{{"event", "act"}, {"op_id", op_id}}.dump();
  if (absl::Status s = file_->Append(line, /*sync=*/true); !s.ok()) return s;
  it->second.acted = true;
  return absl::OkStatus();
}

absl::Status Journal::End(const JournalEnd& end) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return absl::FailedPreconditionError("journal " + path_ + " opened read-only");
  if (open_.count(end.op_id) == 0) {
    return absl::NotFoundError("journal: no unfinished operation " + end.op_id);
  }
  if (absl::Status s = file_->Append(EncodeJournalEnd(end), /*sync=*/true); !s.ok()) return s;
  Apply(end);
  return CompactIfLarge();
}

absl::Status Journal::CompactIfLarge() {
  // When what is kept is itself that large, wait until the file doubles: compaction stays a
  // cost spread over many appends, never one per append.
  if (file_->Size() <= std::max(options_.compact_above_bytes, 2 * compacted_bytes_)) {
    return absl::OkStatus();
  }
  // What is kept, written whole to a new file that replaces the old one atomically and
  // durably: after a crash the journal is the old one or the compacted one.
  std::string text;
  for (const JournalEntry& e : ended_) {
    text += EncodeJournalStart(e.start) + "\n" + EncodeJournalEnd(e.end) + "\n";
  }
  for (const std::string& id : open_order_) text += EncodeJournalStart(open_.at(id)) + "\n";
  if (absl::Status s = util::WriteFileAtomically(path_, text, 0600); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<LineFile>> file = LineFile::Open(path_);
  if (!file.ok()) return file.status();
  file_ = *std::move(file);
  compacted_bytes_ = text.size();
  return absl::OkStatus();
}

}  // namespace sy::agent
