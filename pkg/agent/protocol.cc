#include "pkg/agent/protocol.h"

#include <array>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/codec/codec.h"

namespace sy::agent {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Code, std::string_view>, 12> kCodes = {{
    {Code::kOk, "OK"},
    {Code::kUnavailable, "UNAVAILABLE"},
    {Code::kFailedPrecondition, "FAILED_PRECONDITION"},
    {Code::kAborted, "ABORTED"},
    {Code::kInvalidArgument, "INVALID_ARGUMENT"},
    {Code::kInternal, "INTERNAL"},
    {Code::kStaleEpoch, "STALE_EPOCH"},
    {Code::kEraMismatch, "ERA_MISMATCH"},
    {Code::kNoEpoch, "NO_EPOCH"},
    {Code::kBusy, "BUSY"},
    {Code::kNotManaged, "NOT_MANAGED"},
    {Code::kUnknownOp, "UNKNOWN_OP"},
}};

constexpr std::array<std::pair<OpState, std::string_view>, 5> kOpStates = {{
    {OpState::kRunning, "running"},
    {OpState::kDone, "done"},
    {OpState::kFailed, "failed"},
    {OpState::kRefused, "refused"},
    {OpState::kInDoubt, "in_doubt"},
}};

// Decoding reads through a Reader that remembers the first problem with its field path, so
// that each decoder reads like the encoder and reports "server.control.checkpoint_lsn: ...".
class Reader {
 public:
  Reader(const json& j, std::string path, absl::Status* problem)
      : j_(j), path_(std::move(path)), problem_(problem) {
    if (!j_.is_object()) Fail(path_, "must be an object");
  }

  Reader Child(std::string_view field) const {
    static const json kEmpty = json::object();
    const json* v = Find(field);
    return Reader(v != nullptr ? *v : kEmpty, Path(field), problem_);
  }
  bool Has(std::string_view field) const { return Find(field) != nullptr; }

  void Get(std::string_view field, std::string* out) const {
    if (const json* v = Want(field); v != nullptr) {
      if (v->is_string()) {
        *out = v->get<std::string>();
      } else {
        Fail(Path(field), "must be a string");
      }
    }
  }
  void Get(std::string_view field, bool* out) const {
    if (const json* v = Want(field); v != nullptr) {
      if (v->is_boolean()) {
        *out = v->get<bool>();
      } else {
        Fail(Path(field), "must be true or false");
      }
    }
  }
  template <typename Int>
  void GetInt(std::string_view field, Int* out) const {
    if (const json* v = Want(field); v != nullptr) {
      if (v->is_number_integer()) {
        *out = v->get<Int>();
      } else {
        Fail(Path(field), "must be an integer");
      }
    }
  }
  // int64 values that other languages would round (epochs) travel as decimal strings.
  void GetInt64String(std::string_view field, int64_t* out) const {
    std::string s;
    Get(field, &s);
    if (problem_->ok() && !absl::SimpleAtoi(s, out)) {
      Fail(Path(field), absl::StrCat("must be a decimal integer in a string, got \"", s, "\""));
    }
  }
  void GetColor(std::string_view field, api::Color* out) const {
    std::string s;
    Get(field, &s);
    if (!problem_->ok()) return;
    if (std::optional<api::Color> c = api::ParseColor(s)) {
      *out = *c;
    } else {
      Fail(Path(field), absl::StrCat("must be \"blue\" or \"green\", got \"", s, "\""));
    }
  }
  void GetStrings(std::string_view field, std::vector<std::string>* out) const {
    if (const json* v = Want(field); v != nullptr) {
      if (!v->is_array()) return Fail(Path(field), "must be an array");
      for (const json& e : *v) {
        if (!e.is_string()) return Fail(Path(field), "must hold strings only");
        out->push_back(e.get<std::string>());
      }
    }
  }
  // Calls each(Reader) for every element of array `field`.
  template <typename F>
  void ForEach(std::string_view field, F each) const {
    if (const json* v = Want(field); v != nullptr) {
      if (!v->is_array()) return Fail(Path(field), "must be an array");
      for (size_t i = 0; i < v->size() && problem_->ok(); ++i) {
        each(Reader((*v)[i], absl::StrCat(Path(field), "[", i, "]"), problem_));
      }
    }
  }
  const json* Raw(std::string_view field) const { return Find(field); }
  std::string Path(std::string_view field) const {
    return path_.empty() ? std::string(field) : absl::StrCat(path_, ".", std::string(field));
  }
  void Fail(const std::string& where, std::string_view what) const {
    if (problem_->ok()) {
      *problem_ = absl::InvalidArgumentError(absl::StrCat(where, ": ", std::string(what)));
    }
  }
  // A problem whose message already names where it is.
  void FailWith(std::string_view message) const {
    if (problem_->ok()) *problem_ = absl::InvalidArgumentError(std::string(message));
  }
  bool ok() const { return problem_->ok(); }

 private:
  const json* Find(std::string_view field) const {
    if (!j_.is_object()) return nullptr;
    auto it = j_.find(std::string(field));
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  const json* Want(std::string_view field) const {
    const json* v = Find(field);
    if (v == nullptr) Fail(Path(field), "missing");
    return v;
  }

  const json& j_;
  std::string path_;
  absl::Status* problem_;
};

// Parses `text` and runs `decode` on its top-level object; the first problem wins.
template <typename T, typename F>
absl::StatusOr<T> Decode(std::string_view text, std::string_view what, F decode) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": not JSON"));
  }
  absl::Status problem;
  T out{};
  Reader r(j, "", &problem);
  if (problem.ok()) decode(r, &out);
  if (!problem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": ", problem.message()));
  }
  return out;
}

json EpochJson(const Epoch& e) { return {{"era", e.era}, {"rev", std::to_string(e.rev)}}; }
void ReadEpoch(const Reader& r, Epoch* e) {
  r.Get("era", &e->era);
  r.GetInt64String("rev", &e->rev);
}

json AgentJson(const AgentInfo& a) {
  return {{"id", a.id}, {"version", a.version}, {"highest", EpochJson(a.highest)}};
}
void ReadAgent(const Reader& r, AgentInfo* a) {
  r.Get("id", &a->id);
  r.Get("version", &a->version);
  ReadEpoch(r.Child("highest"), &a->highest);
}

void ReadCode(const Reader& r, std::string_view field, Code* out) {
  std::string s;
  r.Get(field, &s);
  if (!r.ok()) return;
  if (std::optional<Code> c = ParseCode(s)) {
    *out = *c;
  } else {
    r.Fail(r.Path(field), absl::StrCat("unknown code \"", s, "\""));
  }
}

json MachineJson(const Machine& m) {
  return m.nginx ? json("nginx") : json(std::string(api::ColorName(m.color)));
}
void ReadMachine(const Reader& r, std::string_view field, Machine* m) {
  std::string s;
  r.Get(field, &s);
  if (!r.ok()) return;
  if (s == "nginx") {
    *m = Machine{.nginx = true};
  } else if (std::optional<api::Color> c = api::ParseColor(s)) {
    *m = Machine{.nginx = false, .color = *c};
  } else {
    r.Fail(r.Path(field),
           absl::StrCat("must be \"nginx\", \"blue\" or \"green\", got \"", s, "\""));
  }
}

json ObjectJson(const api::DeploymentColor& dc) {
  return json::parse(codec::EncodeJson(dc), nullptr, /*allow_exceptions=*/false);
}
void ReadObject(const Reader& r, std::string_view field, api::DeploymentColor* out) {
  const json* v = r.Raw(field);
  if (v == nullptr) return r.Fail(r.Path(field), "missing");
  absl::StatusOr<api::DeploymentColor> dc = codec::DecodeJson(v->dump(), r.Path(field));
  if (!dc.ok()) return r.FailWith(std::string(dc.status().message()));  // "object: spec...: ..."
  // The status travels too but is not validated with the spec: keep it as sent.
  *out = *std::move(dc);
}

json StepJson(const model::Step& s) {
  json j = {{"kind", std::string(model::StepKindName(s.kind))},
            {"target", std::string(api::ColorName(s.target))},
            {"replayed_at_least", s.replayed_at_least}};
  if (s.source) j["source"] = std::string(api::ColorName(*s.source));
  return j;
}
void ReadStep(const Reader& r, model::Step* s) {
  std::string kind;
  r.Get("kind", &kind);
  if (!r.ok()) return;
  std::optional<model::StepKind> k = model::ParseStepKind(kind);
  if (!k) return r.Fail(r.Path("kind"), absl::StrCat("unknown step \"", kind, "\""));
  s->kind = *k;
  r.GetColor("target", &s->target);
  if (r.Has("source")) {
    api::Color c{};
    r.GetColor("source", &c);
    s->source = c;
  }
  r.GetInt("replayed_at_least", &s->replayed_at_least);
}

// --- model::ServerState ---

json ControlJson(const model::ControlData& c) {
  return {{"cluster_state", c.cluster_state},
          {"system_identifier", c.system_identifier},
          {"checkpoint_lsn", c.checkpoint_lsn},
          {"checkpoint_timeline", c.checkpoint_timeline},
          {"min_recovery_end", c.min_recovery_end}};
}
void ReadControl(const Reader& r, model::ControlData* c) {
  r.Get("cluster_state", &c->cluster_state);
  r.GetInt("system_identifier", &c->system_identifier);
  r.GetInt("checkpoint_lsn", &c->checkpoint_lsn);
  r.GetInt("checkpoint_timeline", &c->checkpoint_timeline);
  r.GetInt("min_recovery_end", &c->min_recovery_end);
}

json StartupJson(const model::StartupConfig& s) {
  return {{"standby_signal", s.standby_signal},
          {"primary_conninfo", s.primary_conninfo},
          {"primary_slot_name", s.primary_slot_name},
          {"primary_host", s.primary_host},
          {"primary_port", s.primary_port},
          {"fenced", s.fenced},
          {"fence_promotion_requested", s.fence_promotion_requested},
          {"promote_requested", s.promote_requested},
          {"recovery_signal", s.recovery_signal}};
}
void ReadStartup(const Reader& r, model::StartupConfig* s) {
  r.Get("standby_signal", &s->standby_signal);
  r.Get("primary_conninfo", &s->primary_conninfo);
  r.Get("primary_slot_name", &s->primary_slot_name);
  if (r.Has("primary_host")) r.Get("primary_host", &s->primary_host);
  r.GetInt("primary_port", &s->primary_port);
  r.Get("fenced", &s->fenced);
  r.Get("fence_promotion_requested", &s->fence_promotion_requested);
  r.Get("promote_requested", &s->promote_requested);
  r.Get("recovery_signal", &s->recovery_signal);
}

json SyncJson(const model::SyncReplication& s) {
  return {{"known", s.known},
          {"standby_names", s.standby_names},
          {"source_file", s.source_file},
          {"synchronous_commit", s.synchronous_commit},
          {"waiting_commits", s.waiting_commits},
          {"longest_wait_ms", s.longest_wait_ms}};
}
void ReadSync(const Reader& r, model::SyncReplication* s) {
  r.Get("known", &s->known);
  r.Get("standby_names", &s->standby_names);
  r.Get("source_file", &s->source_file);
  r.Get("synchronous_commit", &s->synchronous_commit);
  r.GetInt("waiting_commits", &s->waiting_commits);
  r.GetInt("longest_wait_ms", &s->longest_wait_ms);
}

json PrereqJson(const model::Prerequisites& p) {
  return {{"known", p.known},
          {"version_num", p.version_num},
          {"version", p.version},
          {"hot_standby", p.hot_standby},
          {"apply_delay_ms", p.apply_delay_ms},
          {"streaming_delay_ms", p.streaming_delay_ms},
          {"wal_log_hints", p.wal_log_hints},
          {"data_checksums", p.data_checksums},
          {"privileges", p.privileges}};
}
void ReadPrereq(const Reader& r, model::Prerequisites* p) {
  r.Get("known", &p->known);
  r.GetInt("version_num", &p->version_num);
  r.Get("version", &p->version);
  r.Get("hot_standby", &p->hot_standby);
  r.GetInt("apply_delay_ms", &p->apply_delay_ms);
  r.GetInt("streaming_delay_ms", &p->streaming_delay_ms);
  r.Get("wal_log_hints", &p->wal_log_hints);
  r.Get("data_checksums", &p->data_checksums);
  r.GetStrings("privileges", &p->privileges);
}

json ServerJson(const model::ServerState& s) {
  json j = {{"color", std::string(api::ColorName(s.color))},
            {"host_unknown", s.host_unknown},
            {"data_directory_exists", s.data_directory_exists},
            {"postmaster_pid", s.postmaster_pid},
            {"postmaster_alive", s.postmaster_alive},
            {"directory_error", s.directory_error},
            {"wal_timeline", s.wal_timeline},
            {"segment_timeline", s.segment_timeline},
            {"startup", StartupJson(s.startup)},
            {"archive_ready", s.archive_ready},
            {"local_slots", s.local_slots},
            {"reachable", s.reachable},
            {"error", s.error},
            {"in_recovery", s.in_recovery},
            {"system_identifier", s.system_identifier},
            {"timeline", s.timeline},
            {"current_lsn", s.current_lsn},
            {"receive_lsn", s.receive_lsn},
            {"replay_lsn", s.replay_lsn},
            {"replay_paused", s.replay_paused},
            {"slots", s.slots},
            {"oldest_wal_lsn", s.oldest_wal_lsn},
            {"sync", SyncJson(s.sync)},
            {"prerequisites", PrereqJson(s.prerequisites)}};
  if (s.control) j["control"] = ControlJson(*s.control);
  json history = json::array();
  for (const model::TimelineFork& f : s.history) {
    history.push_back({{"timeline", f.timeline}, {"switchpoint", f.switchpoint}});
  }
  j["history"] = std::move(history);
  json peers = json::array();
  for (const model::ReplicationPeer& p : s.replication) {
    peers.push_back({{"application_name", p.application_name},
                     {"state", p.state},
                     {"replay_lsn", p.replay_lsn},
                     {"sync_state", p.sync_state},
                     {"replay_lag_ms", p.replay_lag_ms}});
  }
  j["replication"] = std::move(peers);
  if (s.receiver) {
    j["receiver"] = {{"status", s.receiver->status},
                     {"sender_host", s.receiver->sender_host},
                     {"sender_port", s.receiver->sender_port},
                     {"slot_name", s.receiver->slot_name}};
  }
  if (s.running_primary_port) j["running_primary_port"] = *s.running_primary_port;
  if (s.running_primary_host) j["running_primary_host"] = *s.running_primary_host;
  json slots = json::array();
  for (const model::ReplicationSlot& sl : s.slot_details) {
    slots.push_back({{"name", sl.name},
                     {"type", sl.type},
                     {"active", sl.active},
                     {"wal_status", sl.wal_status},
                     {"restart_lsn", sl.restart_lsn}});
  }
  j["slot_details"] = std::move(slots);
  return j;
}

void ReadServer(const Reader& r, model::ServerState* s) {
  r.GetColor("color", &s->color);
  // Optional: a peer that predates it sends none (its facts are then known).
  if (r.Has("host_unknown")) r.Get("host_unknown", &s->host_unknown);
  r.Get("data_directory_exists", &s->data_directory_exists);
  r.Get("postmaster_pid", &s->postmaster_pid);
  r.Get("postmaster_alive", &s->postmaster_alive);
  if (r.Has("control")) ReadControl(r.Child("control"), &s->control.emplace());
  r.Get("directory_error", &s->directory_error);
  r.GetInt("wal_timeline", &s->wal_timeline);
  r.GetInt("segment_timeline", &s->segment_timeline);
  ReadStartup(r.Child("startup"), &s->startup);
  r.GetInt("archive_ready", &s->archive_ready);
  r.GetStrings("local_slots", &s->local_slots);
  r.ForEach("history", [&](const Reader& e) {
    model::TimelineFork& f = s->history.emplace_back();
    e.GetInt("timeline", &f.timeline);
    e.GetInt("switchpoint", &f.switchpoint);
  });
  r.Get("reachable", &s->reachable);
  r.Get("error", &s->error);
  r.Get("in_recovery", &s->in_recovery);
  r.GetInt("system_identifier", &s->system_identifier);
  r.GetInt("timeline", &s->timeline);
  r.GetInt("current_lsn", &s->current_lsn);
  r.GetInt("receive_lsn", &s->receive_lsn);
  r.GetInt("replay_lsn", &s->replay_lsn);
  r.Get("replay_paused", &s->replay_paused);
  r.ForEach("replication", [&](const Reader& e) {
    model::ReplicationPeer& p = s->replication.emplace_back();
    e.Get("application_name", &p.application_name);
    e.Get("state", &p.state);
    e.GetInt("replay_lsn", &p.replay_lsn);
    e.Get("sync_state", &p.sync_state);
    e.GetInt("replay_lag_ms", &p.replay_lag_ms);
  });
  if (r.Has("receiver")) {
    const Reader e = r.Child("receiver");
    model::WalReceiver& w = s->receiver.emplace();
    e.Get("status", &w.status);
    e.Get("sender_host", &w.sender_host);
    e.GetInt("sender_port", &w.sender_port);
    e.Get("slot_name", &w.slot_name);
  }
  if (r.Has("running_primary_host")) {
    r.Get("running_primary_host", &s->running_primary_host.emplace());
  }
  if (r.Has("running_primary_port")) {
    r.GetInt("running_primary_port", &s->running_primary_port.emplace());
  }
  r.GetStrings("slots", &s->slots);
  r.ForEach("slot_details", [&](const Reader& e) {
    model::ReplicationSlot& sl = s->slot_details.emplace_back();
    e.Get("name", &sl.name);
    e.Get("type", &sl.type);
    e.Get("active", &sl.active);
    e.Get("wal_status", &sl.wal_status);
    e.GetInt("restart_lsn", &sl.restart_lsn);
  });
  r.GetInt("oldest_wal_lsn", &s->oldest_wal_lsn);
  ReadSync(r.Child("sync"), &s->sync);
  ReadPrereq(r.Child("prerequisites"), &s->prerequisites);
}

json NginxJson(const model::NginxState& n) {
  json j = {{"host_unknown", n.host_unknown},
            {"running", n.running},
            {"file_exists", n.file_exists},
            {"probe_error", n.probe_error}};
  if (n.file_color) j["file_color"] = std::string(api::ColorName(*n.file_color));
  if (n.served_color) j["served_color"] = std::string(api::ColorName(*n.served_color));
  return j;
}
void ReadNginx(const Reader& r, model::NginxState* n) {
  if (r.Has("host_unknown")) r.Get("host_unknown", &n->host_unknown);
  r.Get("running", &n->running);
  r.Get("file_exists", &n->file_exists);
  r.Get("probe_error", &n->probe_error);
  if (r.Has("file_color")) r.GetColor("file_color", &n->file_color.emplace());
  if (r.Has("served_color")) r.GetColor("served_color", &n->served_color.emplace());
}

}  // namespace

std::string FormatEpoch(const Epoch& e) { return absl::StrCat(e.era, ":", e.rev); }

std::string_view CodeName(Code c) {
  for (const auto& [code, name] : kCodes) {
    if (code == c) return name;
  }
  return "INTERNAL";
}

std::optional<Code> ParseCode(std::string_view s) {
  for (const auto& [code, name] : kCodes) {
    if (name == s) return code;
  }
  return std::nullopt;
}

int HttpStatusOf(Code c) {
  switch (c) {
    case Code::kStaleEpoch:
    case Code::kEraMismatch:
    case Code::kNoEpoch:
    case Code::kBusy:
      return 409;
    case Code::kNotManaged:
    case Code::kInvalidArgument:
      return 422;
    case Code::kUnknownOp:
      return 404;
    default:
      return 200;
  }
}

absl::StatusCode StatusCodeOf(Code c) {
  switch (c) {
    case Code::kOk:
      return absl::StatusCode::kOk;
    case Code::kUnavailable:
    case Code::kBusy:
      return absl::StatusCode::kUnavailable;
    case Code::kFailedPrecondition:
      return absl::StatusCode::kFailedPrecondition;
    case Code::kAborted:
      return absl::StatusCode::kAborted;
    case Code::kInvalidArgument:
    case Code::kNotManaged:
      return absl::StatusCode::kInvalidArgument;
    case Code::kStaleEpoch:
    case Code::kEraMismatch:
    case Code::kNoEpoch:
      // Not this controller's to do: nothing here will make it succeed by retrying soon.
      return absl::StatusCode::kPermissionDenied;
    case Code::kUnknownOp:
    case Code::kInternal:
      return absl::StatusCode::kInternal;
  }
  return absl::StatusCode::kInternal;
}

Code CodeOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return Code::kOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return Code::kUnavailable;
    case absl::StatusCode::kFailedPrecondition:
      return Code::kFailedPrecondition;
    case absl::StatusCode::kAborted:
      return Code::kAborted;
    case absl::StatusCode::kInvalidArgument:
      return Code::kInvalidArgument;
    default:
      return Code::kInternal;
  }
}

Machine MachineOf(const model::Step& step) {
  switch (step.kind) {
    case model::StepKind::kSwitchTraffic:
      return Machine{.nginx = true};
    case model::StepKind::kCreateSlot:
    case model::StepKind::kDropSlot:
      return Machine{.nginx = false, .color = step.source.value_or(api::Other(step.target))};
    default:
      return Machine{.nginx = false, .color = step.target};
  }
}

std::string MachineName(const Machine& m) {
  return m.nginx ? "nginx" : absl::StrCat(std::string(api::ColorName(m.color)), "'s database");
}

bool NeedsPeer(model::StepKind kind) {
  switch (kind) {
    case model::StepKind::kFence:
    case model::StepKind::kPromote:
    case model::StepKind::kLiftFence:
    case model::StepKind::kStart:
    case model::StepKind::kStop:
    case model::StepKind::kRewind:
    case model::StepKind::kBasebackup:
      return true;
    default:
      return false;
  }
}

ObjectRef RefOf(const api::DeploymentColor& dc) {
  return ObjectRef{.key = dc.Key(), .uid = dc.metadata.uid, .generation = dc.metadata.generation};
}

std::string_view OpStateName(OpState s) {
  for (const auto& [state, name] : kOpStates) {
    if (state == s) return name;
  }
  return "failed";
}

std::string EncodeEpochRequest(const EpochRequest& r) {
  return json{{"epoch", EpochJson(r.epoch)}, {"leader", r.leader}}.dump();
}
absl::StatusOr<EpochRequest> DecodeEpochRequest(std::string_view text) {
  return Decode<EpochRequest>(text, "epoch request", [](const Reader& r, EpochRequest* out) {
    ReadEpoch(r.Child("epoch"), &out->epoch);
    r.Get("leader", &out->leader);
  });
}

std::string EncodeObserveRequest(const ObserveRequest& r) {
  return json{{"epoch", EpochJson(r.epoch)},
              {"leader", r.leader},
              {"readonly", r.readonly},
              {"object", ObjectJson(r.object)},
              {"machine", MachineJson(r.machine)},
              {"wait_ms", r.wait_ms}}
      .dump();
}
absl::StatusOr<ObserveRequest> DecodeObserveRequest(std::string_view text) {
  return Decode<ObserveRequest>(text, "observe request", [](const Reader& r, ObserveRequest* out) {
    ReadEpoch(r.Child("epoch"), &out->epoch);
    r.Get("leader", &out->leader);
    r.Get("readonly", &out->readonly);
    ReadObject(r, "object", &out->object);
    ReadMachine(r, "machine", &out->machine);
    r.GetInt("wait_ms", &out->wait_ms);
  });
}

std::string EncodeObserveReply(const ObserveReply& r) {
  json j = {{"agent", AgentJson(r.agent)},
            {"code", std::string(CodeName(r.code))},
            {"message", r.message},
            {"running_op", r.running_op},
            {"in_doubt_ops", r.in_doubt_ops}};
  if (r.server) j["server"] = ServerJson(*r.server);
  if (r.nginx) j["nginx"] = NginxJson(*r.nginx);
  return j.dump();
}
absl::StatusOr<ObserveReply> DecodeObserveReply(std::string_view text) {
  return Decode<ObserveReply>(text, "observe reply", [](const Reader& r, ObserveReply* out) {
    ReadAgent(r.Child("agent"), &out->agent);
    ReadCode(r, "code", &out->code);
    r.Get("message", &out->message);
    r.Get("running_op", &out->running_op);
    r.GetStrings("in_doubt_ops", &out->in_doubt_ops);
    if (r.Has("server")) ReadServer(r.Child("server"), &out->server.emplace());
    if (r.Has("nginx")) ReadNginx(r.Child("nginx"), &out->nginx.emplace());
  });
}

std::string EncodeOpRequest(const OpRequest& r) {
  json j = {{"epoch", EpochJson(r.epoch)},
            {"leader", r.leader},
            {"op_id", r.op_id},
            {"object", ObjectJson(r.object)},
            {"step", StepJson(r.step)},
            {"sync_wait_ms", r.sync_wait_ms}};
  if (r.peer) j["peer"] = ServerJson(*r.peer);
  return j.dump();
}
absl::StatusOr<OpRequest> DecodeOpRequest(std::string_view text) {
  return Decode<OpRequest>(text, "operation request", [](const Reader& r, OpRequest* out) {
    ReadEpoch(r.Child("epoch"), &out->epoch);
    r.Get("leader", &out->leader);
    r.Get("op_id", &out->op_id);
    if (r.ok() && out->op_id.empty()) r.Fail("op_id", "must not be empty");
    ReadObject(r, "object", &out->object);
    ReadStep(r.Child("step"), &out->step);
    if (r.Has("peer")) ReadServer(r.Child("peer"), &out->peer.emplace());
    r.GetInt("sync_wait_ms", &out->sync_wait_ms);
  });
}

std::string EncodeOpReply(const OpReply& r) {
  json j = {{"agent", AgentJson(r.agent)},
            {"op_id", r.op_id},
            {"state", std::string(OpStateName(r.state))},
            {"code", std::string(CodeName(r.code))},
            {"message", r.message},
            {"detail", r.detail}};
  if (r.writes_stopped_us_ago) j["writes_stopped_us_ago"] = *r.writes_stopped_us_ago;
  if (r.writes_resumed_us_ago) j["writes_resumed_us_ago"] = *r.writes_resumed_us_ago;
  return j.dump();
}
absl::StatusOr<OpReply> DecodeOpReply(std::string_view text) {
  return Decode<OpReply>(text, "operation reply", [](const Reader& r, OpReply* out) {
    ReadAgent(r.Child("agent"), &out->agent);
    r.Get("op_id", &out->op_id);
    std::string state;
    r.Get("state", &state);
    bool known = false;
    for (const auto& [s, name] : kOpStates) {
      if (name == state) {
        out->state = s;
        known = true;
      }
    }
    if (r.ok() && !known) r.Fail("state", absl::StrCat("unknown state \"", state, "\""));
    ReadCode(r, "code", &out->code);
    r.Get("message", &out->message);
    r.Get("detail", &out->detail);
    if (r.Has("writes_stopped_us_ago")) {
      r.GetInt("writes_stopped_us_ago", &out->writes_stopped_us_ago.emplace());
    }
    if (r.Has("writes_resumed_us_ago")) {
      r.GetInt("writes_resumed_us_ago", &out->writes_resumed_us_ago.emplace());
    }
  });
}

std::string EncodeErrorReply(const ErrorReply& r) {
  return json{{"agent", AgentJson(r.agent)},
              {"code", std::string(CodeName(r.code))},
              {"message", r.message}}
      .dump();
}
absl::StatusOr<ErrorReply> DecodeErrorReply(std::string_view text) {
  return Decode<ErrorReply>(text, "error reply", [](const Reader& r, ErrorReply* out) {
    ReadAgent(r.Child("agent"), &out->agent);
    ReadCode(r, "code", &out->code);
    r.Get("message", &out->message);
  });
}

std::string EncodeAgentInfo(const AgentInfo& a) { return AgentJson(a).dump(); }
absl::StatusOr<AgentInfo> DecodeAgentInfo(std::string_view text) {
  return Decode<AgentInfo>(text, "agent info",
                           [](const Reader& r, AgentInfo* out) { ReadAgent(r, out); });
}

std::string EncodeServerState(const model::ServerState& s) { return ServerJson(s).dump(); }
absl::StatusOr<model::ServerState> DecodeServerState(std::string_view text) {
  return Decode<model::ServerState>(
      text, "server state", [](const Reader& r, model::ServerState* out) { ReadServer(r, out); });
}
std::string EncodeNginxState(const model::NginxState& s) { return NginxJson(s).dump(); }
absl::StatusOr<model::NginxState> DecodeNginxState(std::string_view text) {
  return Decode<model::NginxState>(
      text, "nginx state", [](const Reader& r, model::NginxState* out) { ReadNginx(r, out); });
}

}  // namespace sy::agent
