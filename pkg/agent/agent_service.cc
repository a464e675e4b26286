#include "pkg/agent/agent_service.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/observe/local_host.h"

#ifndef SY_VERSION
#define SY_VERSION "unknown"
#endif

namespace sy::agent {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using std::chrono::milliseconds;

constexpr char kOpsPrefix[] = "/v1/ops/";
constexpr size_t kOpsPrefixLength = sizeof(kOpsPrefix) - 1;

HttpResponse Json(int status, std::string body) {
  return HttpResponse(status, "application/json", std::move(body));
}

// An op id as the controller makes them: letters, digits and ". _ : -", so that it can be a
// path segment and a log field as it is.
bool ValidOpId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentService>> AgentService::Create(const AgentConfig& config,
                                                                   Executor& executor,
                                                                   const util::Clock& clock,
                                                                   AgentServiceOptions options) {
  if (options.version.empty()) options.version = SY_VERSION;
  if (options.check_local_host == nullptr) options.check_local_host = observe::CheckLocalHost;
  std::unique_ptr<AgentService> s(new AgentService(config, clock, std::move(options)));
  s->executor_ = &executor;
  absl::StatusOr<std::unique_ptr<EpochStore>> epochs = EpochStore::Open(config.state_directory);
  if (!epochs.ok()) return epochs.status();
  s->epochs_ = *std::move(epochs);
  absl::StatusOr<std::unique_ptr<Journal>> journal =
      Journal::Open(config.state_directory, s->options_.journal);
  if (!journal.ok()) return journal.status();
  s->journal_ = *std::move(journal);
  absl::StatusOr<std::unique_ptr<AuditLog>> audit =
      AuditLog::Open(config.state_directory, clock, s->options_.audit_rotate_bytes);
  if (!audit.ok()) return audit.status();
  s->audit_ = *std::move(audit);
  s->operations_ = std::make_unique<Operations>(executor, *s->journal_, *s->audit_, *s->epochs_,
                                                clock, s->options_.operations);
  return s;
}

AgentService::~AgentService() { Stop(); }

void AgentService::Stop() {
  if (operations_) operations_->Stop();
}

AgentInfo AgentService::Info() const {
  return AgentInfo{config_.id, options_.version, epochs_->Highest()};
}

HttpResponse AgentService::Error(int status, Code code, const std::string& message) const {
  return Json(status, EncodeErrorReply(ErrorReply{Info(), code, message}));
}

std::optional<HttpResponse> AgentService::Admit(const HttpRequest& head) const {
  if (!options_.controller_prefix.empty()) {
    bool controller = false;
    for (const std::string& uri : head.peer_uris) {
      controller = controller || absl::StartsWith(uri, options_.controller_prefix);
    }
    if (!controller) {
      return Error(403, Code::kInvalidArgument,
                   "the client certificate has no URI name starting with " +
                       options_.controller_prefix + ": only a controller may call this agent");
    }
  }
  const bool get = head.method == "GET" || head.method == "HEAD";
  if (head.path == "/v1/info" || absl::StartsWith(head.path, kOpsPrefix)) {
    if (!get) return Error(405, Code::kInvalidArgument, head.path + " takes GET");
    return std::nullopt;
  }
  if (head.path == "/v1/epoch" || head.path == "/v1/observe" || head.path == "/v1/ops") {
    if (head.method != "POST") return Error(405, Code::kInvalidArgument, head.path + " takes POST");
    return std::nullopt;
  }
  return Error(404, Code::kInvalidArgument, "no verb " + head.path + " (pkg/agent/README.md)");
}

HttpResponse AgentService::Handle(const HttpRequest& r) {
  if (std::optional<HttpResponse> refused = Admit(r)) return *refused;
  if (r.path == "/v1/info") return GetInfo();
  if (r.path == "/v1/epoch") return PostEpoch(r);
  if (r.path == "/v1/observe") return PostObserve(r);
  if (r.path == "/v1/ops") return PostOps(r);
  return GetOp(r.path.substr(kOpsPrefixLength), r);
}

HttpResponse AgentService::GetInfo() {
  nlohmann::json j = {
      {"agent", nlohmann::json::parse(EncodeAgentInfo(Info()))},
      {"objects", ManagedObjects(config_)},
      {"running_ops", operations_->Running()},
      {"in_doubt_ops", operations_->InDoubt()},
  };
  return Json(200, j.dump());
}

HttpResponse AgentService::PostEpoch(const HttpRequest& r) {
  absl::StatusOr<EpochRequest> req = DecodeEpochRequest(r.body);
  if (!req.ok()) return Error(422, Code::kInvalidArgument, std::string(req.status().message()));
  const EpochVerdict v = epochs_->Check(req->epoch, /*raise=*/true);
  audit_->Request("epoch", "", req->epoch, v.before.rev, CodeName(v.code));
  return Error(HttpStatusOf(v.code), v.code, v.code == Code::kOk ? "accepted" : v.message);
}

HttpResponse AgentService::PostObserve(const HttpRequest& r) {
  absl::StatusOr<ObserveRequest> req = DecodeObserveRequest(r.body);
  if (!req.ok()) return Error(422, Code::kInvalidArgument, std::string(req.status().message()));
  absl::StatusOr<std::string> object =
      ManagedObject(config_, req->object, req->machine, options_.check_local_host);
  if (!object.ok()) {
    audit_->Request("observe", "", req->epoch, epochs_->Highest().rev, CodeName(Code::kNotManaged));
    return Error(422, Code::kNotManaged, std::string(object.status().message()));
  }
  if (!req->readonly) {
    // A lower epoch is refused here too: it tells a replaced controller that it was deposed.
    const EpochVerdict v = epochs_->Check(req->epoch, /*raise=*/true);
    audit_->Request("observe", "", req->epoch, v.before.rev, CodeName(v.code));
    if (v.code != Code::kOk) return Error(HttpStatusOf(v.code), v.code, v.message);
  } else {
    audit_->Request("observe", "", req->epoch, epochs_->Highest().rev, "OK (readonly)");
  }
  const api::DeploymentColor& dc = req->object;
  const Machine machine = req->machine;
  ObserveReply reply;
  operations_->Observe(
      *object, milliseconds(req->wait_ms),
      [&]() -> absl::StatusOr<Observed> {
        Observed seen;
        if (machine.nginx) {
          absl::StatusOr<model::NginxState> n = executor_->ObserveNginx(dc);
          if (!n.ok()) return n.status();
          seen.nginx = *std::move(n);
        } else {
          absl::StatusOr<model::ServerState> s = executor_->ObserveDatabase(dc, machine.color);
          if (!s.ok()) return s.status();
          seen.server = *std::move(s);
        }
        return seen;
      },
      &reply);
  reply.agent = Info();
  return Json(HttpStatusOf(reply.code), EncodeObserveReply(reply));
}

HttpResponse AgentService::PostOps(const HttpRequest& r) {
  absl::StatusOr<OpRequest> req = DecodeOpRequest(r.body);
  if (!req.ok()) return Error(422, Code::kInvalidArgument, std::string(req.status().message()));
  OpReply reply;
  reply.op_id = req->op_id;
  reply.state = OpState::kRefused;
  auto refused = [&](Code code, std::string message) {
    reply.code = code;
    reply.message = std::move(message);
    reply.agent = Info();
    return Json(HttpStatusOf(code), EncodeOpReply(reply));
  };
  if (!ValidOpId(req->op_id)) {
    return refused(Code::kInvalidArgument,
                   "op_id: letters, digits and \". _ : -\" only, at most 256 of them");
  }
  const Machine machine = MachineOf(req->step);
  absl::StatusOr<std::string> object =
      ManagedObject(config_, req->object, machine, options_.check_local_host);
  if (!object.ok()) {
    audit_->Request("ops", req->op_id, req->epoch, epochs_->Highest().rev,
                    CodeName(Code::kNotManaged));
    return refused(Code::kNotManaged, std::string(object.status().message()));
  }
  const EpochVerdict v = epochs_->Check(req->epoch, /*raise=*/true);
  audit_->Request("ops", req->op_id, req->epoch, v.before.rev, CodeName(v.code));
  if (v.code != Code::kOk) return refused(v.code, v.message);
  const std::string machine_name =
      machine.nginx ? "nginx" : std::string(api::ColorName(machine.color));
  const int status = operations_->Submit(*req, *object, machine_name, &reply);
  reply.agent = Info();
  return Json(status, EncodeOpReply(reply));
}

HttpResponse AgentService::GetOp(const std::string& op_id, const HttpRequest& r) {
  int64_t wait_ms = 0;
  if (const std::string w = r.Param("wait_ms"); !w.empty() && !absl::SimpleAtoi(w, &wait_ms)) {
    return Error(422, Code::kInvalidArgument, "wait_ms: must be an integer");
  }
  OpReply reply;
  const int status = operations_->Poll(op_id, milliseconds(wait_ms), &reply);
  reply.agent = Info();
  audit_->Request("poll", op_id, Epoch{}, reply.agent.highest.rev, CodeName(reply.code));
  return Json(status, EncodeOpReply(reply));
}

}  // namespace sy::agent
