// What the agent's unit tests share: a resource and an agent configuration that allowlists
// its two data directories and its upstream file, a fake executor (a machine whose servers
// and nginx are a little state the steps change, asking the commit gate before each act),
// and a service over a fresh state directory that a test can restart.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/agent/agent_service.h"
#include "pkg/api/validation.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"

namespace sy::agent {

inline api::DeploymentColor Resource() {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.uid = "u-1";
  dc.metadata.generation = 7;
  dc.spec.blue = {{"127.0.0.1:8080"}, {"127.0.0.1", 5432, "/srv/pg/shop"}};
  dc.spec.green = {{"127.0.0.1:8081"}, {"127.0.0.1", 5433, "/srv/pg/shop-green"}};
  dc.spec.nginx.upstream_file = "/etc/nginx/switchyard/shop.conf";
  dc.spec.nginx.binary = "/usr/sbin/nginx";
  api::ApplyDefaults(&dc);
  return dc;
}

inline AgentConfig ConfigFor(const api::DeploymentColor& dc, const std::string& state_dir) {
  AgentConfig c;
  c.id = "dbg";
  c.listen = "127.0.0.1:0";
  c.state_directory = state_dir;
  c.insecure_http = true;
  for (api::Color color : api::kColors) {
    const api::DatabaseRef& db = dc.spec.color(color).database;
    c.postgres.push_back({db.data_directory, dc.spec.database.bin_directory,
                          dc.spec.database.os_user, db.port, db.config_file});
  }
  c.nginx.push_back({dc.spec.nginx.binary, dc.spec.nginx.config_file, dc.spec.nginx.upstream_file});
  return c;
}

// Thread-safe. Run() records the step, waits while held, asks the gate for each of acts()
// and stops at a refusal, then applies the step's effect to the fake world.
class FakeExecutor final : public Executor {
 public:
  FakeExecutor() {
    for (api::Color c : api::kColors) {
      model::ServerState& s = servers_[c];
      s.color = c;
      s.data_directory_exists = s.postmaster_pid = s.postmaster_alive = s.reachable = true;
      s.in_recovery = c == api::Color::kGreen;
    }
    nginx_.running = nginx_.file_exists = true;
  }

  model::ServerState Server(api::Color c) {
    std::lock_guard<std::mutex> lock(mu_);
    return servers_[c];
  }
  void SetServer(const model::ServerState& s) {
    std::lock_guard<std::mutex> lock(mu_);
    servers_[s.color] = s;
  }
  std::vector<std::string> Runs() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }
  int Observations() {
    std::lock_guard<std::mutex> lock(mu_);
    return observations_;
  }
  void SetActs(std::vector<std::string> acts) {
    std::lock_guard<std::mutex> lock(mu_);
    acts_ = std::move(acts);
  }
  // Run() blocks after recording its step until Release().
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Waits until `n` runs have begun.
  bool AwaitRuns(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return runs_.size() >= n; });
  }

  absl::StatusOr<model::ServerState> ObserveDatabase(const api::DeploymentColor&,
                                                     api::Color color) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++observations_;
    return servers_[color];
  }
  absl::StatusOr<model::NginxState> ObserveNginx(const api::DeploymentColor&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++observations_;
    return nginx_;
  }
  absl::Status Run(const api::DeploymentColor&, const model::Step& step,
                   const std::optional<model::ServerState>&, actuate::CommitGate& gate,
                   actuate::StepOutcome* outcome) override {
    std::vector<std::string> acts;
    {
      std::unique_lock<std::mutex> lock(mu_);
      runs_.push_back(model::Describe(step));
      cv_.notify_all();
      cv_.wait(lock, [&] { return !held_; });
      acts = acts_;
    }
    for (const std::string& act : acts) {
      if (absl::Status s = gate.Allow(act); !s.ok()) return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    model::ServerState& s = servers_[step.target];
    switch (step.kind) {
      case model::StepKind::kPromote:
        s.in_recovery = false;
        break;
      case model::StepKind::kStop:
      case model::StepKind::kFence:
        s.postmaster_alive = s.postmaster_pid = s.reachable = false;
        break;
      case model::StepKind::kStart:
        s.postmaster_alive = s.postmaster_pid = s.reachable = true;
        break;
      default:
        break;
    }
    outcome->detail = "fake " + model::Describe(step);
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<api::Color, model::ServerState> servers_;
  model::NginxState nginx_;
  std::vector<std::string> runs_;
  std::vector<std::string> acts_ = {"sigint"};
  bool held_ = false;
  int observations_ = 0;
};

inline absl::Status AnyHostIsLocal(std::string_view) { return absl::OkStatus(); }

class AgentTest : public ::testing::Test {
 protected:
  static constexpr char kEra[] = "era-1";

  void SetUp() override { Restart(); }

  // A new service over the same state directory (the old one stopped first): what a
  // restart of the agent sees.
  void Restart() {
    service_.reset();
    AgentServiceOptions o;
    o.check_local_host = AnyHostIsLocal;
    o.operations.budget = [](model::StepKind) { return std::chrono::milliseconds(60'000); };
    o.operations.max_wait = std::chrono::milliseconds(300);
    absl::StatusOr<std::unique_ptr<AgentService>> s =
        AgentService::Create(ConfigFor(dc_, dir_.path), executor_, clock_, o);
    ASSERT_TRUE(s.ok()) << s.status();
    service_ = *std::move(s);
  }
  // The epoch file an operator's pin-epoch writes.
  void Pin(int64_t rev) {
    absl::StatusOr<std::unique_ptr<EpochStore>> e = EpochStore::Open(dir_.path);
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_TRUE((*e)->Pin(Epoch{kEra, rev}, /*force=*/true).ok());
  }

  server::HttpResponse Post(const std::string& path, const std::string& body) {
    server::HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    return service_->Handle(r);
  }
  server::HttpResponse Get(const std::string& path, const std::string& wait_ms = "") {
    server::HttpRequest r;
    r.method = "GET";
    r.path = path;
    if (!wait_ms.empty()) r.query.emplace("wait_ms", wait_ms);
    return service_->Handle(r);
  }

  ObserveReply Observe(int64_t rev, api::Color color, int* status = nullptr,
                       int64_t wait_ms = 100) {
    ObserveRequest r;
    r.epoch = {kEra, rev};
    r.leader = "test";
    r.object = dc_;
    r.machine = Machine{.nginx = false, .color = color};
    r.wait_ms = wait_ms;
    const server::HttpResponse res = Post("/v1/observe", EncodeObserveRequest(r));
    if (status != nullptr) *status = res.status;
    absl::StatusOr<ObserveReply> reply = DecodeObserveReply(res.body);
    if (reply.ok()) return *reply;
    // A refusal before observing is an ErrorReply.
    absl::StatusOr<ErrorReply> e = DecodeErrorReply(res.body);
    EXPECT_TRUE(e.ok()) << res.body;
    ObserveReply out;
    if (e.ok()) {
      out.code = e->code;
      out.message = e->message;
    }
    return out;
  }

  OpRequest Op(const std::string& id, model::StepKind kind, api::Color target, int64_t rev) {
    OpRequest r;
    r.epoch = {kEra, rev};
    r.leader = "test";
    r.op_id = id;
    r.object = dc_;
    r.step = model::Step{kind, target, std::nullopt};
    r.sync_wait_ms = 300;
    return r;
  }
  OpReply Submit(const OpRequest& r, int* status = nullptr) {
    const server::HttpResponse res = Post("/v1/ops", EncodeOpRequest(r));
    if (status != nullptr) *status = res.status;
    absl::StatusOr<OpReply> reply = DecodeOpReply(res.body);
    EXPECT_TRUE(reply.ok()) << res.body;
    return reply.ok() ? *reply : OpReply{};
  }
  OpReply Poll(const std::string& id, int* status = nullptr, const std::string& wait_ms = "") {
    const server::HttpResponse res = Get("/v1/ops/" + id, wait_ms);
    if (status != nullptr) *status = res.status;
    absl::StatusOr<OpReply> reply = DecodeOpReply(res.body);
    EXPECT_TRUE(reply.ok()) << res.body;
    return reply.ok() ? *reply : OpReply{};
  }

  api::DeploymentColor dc_ = Resource();
  fakes::TempDir dir_{"agent-test"};
  fakes::FakeClock clock_;
  FakeExecutor executor_;
  std::unique_ptr<AgentService> service_;
};

}  // namespace sy::agent
