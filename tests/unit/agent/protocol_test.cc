#include "pkg/agent/protocol.h"

#include <gtest/gtest.h>

#include "pkg/api/validation.h"

namespace sy::agent {
namespace {

api::DeploymentColor Resource() {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.uid = "u-1";
  dc.metadata.generation = 7;
  dc.spec.blue = {{"10.200.0.31:8080"}, {"10.200.0.21", 5432, "/srv/pg/shop"}};
  dc.spec.green = {{"10.200.0.32:8080"}, {"10.200.0.22", 5433, "/srv/pg/shop-green"}};
  dc.spec.nginx.upstream_file = "/srv/nginx/switchyard/shop.conf";
  api::ApplyDefaults(&dc);
  return dc;
}

// Every field set to something other than its default, so that a field the codec forgets
// fails the round trip.
model::ServerState FullServer() {
  model::ServerState s;
  s.color = api::Color::kGreen;
  s.host_unknown = "agent 10.200.0.22:9754 unreachable";
  s.data_directory_exists = true;
  s.postmaster_pid = true;
  s.postmaster_alive = true;
  s.control = model::ControlData{"shut down", 7000000000000000001ULL, 0x3000028, 2, 0x3000000};
  s.directory_error = "x";
  s.wal_timeline = 3;
  s.segment_timeline = 2;
  s.startup = {.standby_signal = true,
               .primary_conninfo = "host=a port=5432",
               .primary_slot_name = "switchyard_green",
               .primary_host = "a",
               .primary_port = 5432,
               .fenced = true,
               .fence_promotion_requested = true,
               .promote_requested = true,
               .recovery_signal = true};
  s.archive_ready = 4;
  s.local_slots = {"switchyard_blue"};
  s.history = {{1, 0x2000000}, {2, 0x3000000}};
  s.reachable = true;
  s.error = "e";
  s.in_recovery = true;
  s.system_identifier = 18446744073709551615ULL;  // above 2^63: must survive as unsigned
  s.timeline = 2;
  s.current_lsn = 11;
  s.receive_lsn = 12;
  s.replay_lsn = 13;
  s.replay_paused = true;
  s.replication = {{"blue", "streaming", 14, "async", 250}};
  s.receiver = model::WalReceiver{"streaming", "10.200.0.21", 5432, "switchyard_green"};
  s.running_primary_port = 5432;
  s.running_primary_host = "10.200.0.21";
  s.slots = {"switchyard_blue"};
  s.slot_details = {{"switchyard_blue", "physical", true, "reserved", 15}};
  s.oldest_wal_lsn = 16;
  s.sync = {true, "blue", "postgresql.auto.conf", "on", 2, 300};
  s.prerequisites = {.known = true,
                     .version_num = 150004,
                     .version = "15.4",
                     .hot_standby = false,
                     .apply_delay_ms = 5,
                     .streaming_delay_ms = -1,
                     .wal_log_hints = true,
                     .data_checksums = true,
                     .privileges = {"superuser"}};
  return s;
}

TEST(ProtocolTest, ServerStateRoundTripsEveryField) {
  const model::ServerState s = FullServer();
  absl::StatusOr<model::ServerState> back = DecodeServerState(EncodeServerState(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  // And the defaults (no control, no receiver, nothing optional) too.
  absl::StatusOr<model::ServerState> empty = DecodeServerState(EncodeServerState({}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, model::ServerState{});
}

TEST(ProtocolTest, NginxStateRoundTrips) {
  model::NginxState n{.host_unknown = "h",
                      .running = true,
                      .file_color = api::Color::kGreen,
                      .file_exists = true,
                      .served_color = api::Color::kBlue,
                      .probe_error = "p"};
  absl::StatusOr<model::NginxState> back = DecodeNginxState(EncodeNginxState(n));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, n);
}

// host_unknown is optional on decode: a peer that does not send it reports known facts.
TEST(ProtocolTest, HostUnknownMayBeAbsent) {
  model::ServerState s = FullServer();
  std::string json = EncodeServerState(s);
  const std::string field = "\"host_unknown\":\"agent 10.200.0.22:9754 unreachable\",";
  ASSERT_NE(json.find(field), std::string::npos) << json;
  json.erase(json.find(field), field.size());
  absl::StatusOr<model::ServerState> back = DecodeServerState(json);
  ASSERT_TRUE(back.ok()) << back.status();
  s.host_unknown.clear();
  EXPECT_EQ(*back, s);

  absl::StatusOr<model::NginxState> n =
      DecodeNginxState(R"({"running":true,"file_exists":false,"probe_error":""})");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->host_unknown, "");
  EXPECT_TRUE(n->running);
}

TEST(ProtocolTest, OpRequestRoundTripsWithTheResourceAndPeer) {
  OpRequest r;
  r.epoch = {"era-1", 9007199254740993};  // 2^53 + 1: kept exact as a string
  r.leader = "ctl/abc";
  r.op_id = "era-1.9.u-1.7.3.promote.green";
  r.object = Resource();
  r.step = {model::StepKind::kPromote, api::Color::kGreen, api::Color::kBlue, 0x3000028};
  r.peer = FullServer();
  r.sync_wait_ms = 900;
  absl::StatusOr<OpRequest> back = DecodeOpRequest(EncodeOpRequest(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->epoch, r.epoch);
  EXPECT_EQ(back->leader, r.leader);
  EXPECT_EQ(back->op_id, r.op_id);
  EXPECT_EQ(back->object.spec, r.object.spec);
  EXPECT_EQ(back->object.metadata.uid, "u-1");
  EXPECT_EQ(back->step, r.step);
  EXPECT_EQ(back->peer, r.peer);
  EXPECT_EQ(back->sync_wait_ms, 900);
}

TEST(ProtocolTest, RepliesRoundTrip) {
  OpReply r{{"dbg", "0.1", {"era-1", 4}}, "id", OpState::kDone, Code::kOk, "m", "d", 120, 5};
  absl::StatusOr<OpReply> back = DecodeOpReply(EncodeOpReply(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->agent, r.agent);
  EXPECT_EQ(back->state, OpState::kDone);
  EXPECT_EQ(back->writes_stopped_us_ago, 120);
  EXPECT_EQ(back->writes_resumed_us_ago, 5);

  ObserveReply o;
  o.agent = r.agent;
  o.code = Code::kBusy;
  o.server = FullServer();
  o.running_op = "x";
  o.in_doubt_ops = {"y"};
  absl::StatusOr<ObserveReply> ob = DecodeObserveReply(EncodeObserveReply(o));
  ASSERT_TRUE(ob.ok()) << ob.status();
  EXPECT_EQ(ob->code, Code::kBusy);
  EXPECT_EQ(ob->server, o.server);
  EXPECT_FALSE(ob->nginx.has_value());
  EXPECT_EQ(ob->in_doubt_ops, o.in_doubt_ops);
}

TEST(ProtocolTest, DecodingNamesTheFieldThatIsWrong) {
  EXPECT_EQ(DecodeEpochRequest("{").status().message(), "epoch request: not JSON");
  EXPECT_EQ(DecodeEpochRequest(R"({"epoch":{"era":"e","rev":7},"leader":"l"})").status().message(),
            "epoch request: epoch.rev: must be a string");
  EXPECT_EQ(
      DecodeEpochRequest(R"({"epoch":{"era":"e","rev":"7x"},"leader":"l"})").status().message(),
      "epoch request: epoch.rev: must be a decimal integer in a string, got \"7x\"");
  EXPECT_EQ(DecodeServerState(R"({"color":"purple"})").status().message(),
            "server state: color: must be \"blue\" or \"green\", got \"purple\"");
  const std::string bad_step = EncodeOpRequest(
      {.epoch = {"e", 1}, .leader = "l", .op_id = "o", .object = Resource(), .step = {}});
  std::string s = bad_step;
  s.replace(s.find("switch-traffic"), 14, "self-destruct");
  EXPECT_EQ(DecodeOpRequest(s).status().message(),
            "operation request: step.kind: unknown step \"self-destruct\"");
  std::string no_id = bad_step;
  no_id.replace(no_id.find("\"op_id\":\"o\""), 11, "\"op_id\":\"\"");
  EXPECT_EQ(DecodeOpRequest(no_id).status().message(),
            "operation request: op_id: must not be empty");
}

TEST(ProtocolTest, AnInvalidResourceIsRefusedWithItsProblems) {
  api::DeploymentColor dc = Resource();
  dc.spec.blue.database.port = 0;
  absl::StatusOr<OpRequest> r = DecodeOpRequest(
      EncodeOpRequest({.epoch = {"e", 1}, .leader = "l", .op_id = "o", .object = dc, .step = {}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("spec.colors.blue.database.port"), std::string::npos)
      << r.status();
}

TEST(ProtocolTest, StepsRunOnTheMachineTheyChange) {
  using model::StepKind;
  EXPECT_EQ(MachineOf({StepKind::kSwitchTraffic, api::Color::kGreen}), Machine{.nginx = true});
  EXPECT_EQ(MachineOf({StepKind::kPromote, api::Color::kGreen}),
            (Machine{.nginx = false, .color = api::Color::kGreen}));
  // A slot lives on the server the standby follows.
  EXPECT_EQ(MachineOf({StepKind::kCreateSlot, api::Color::kBlue, api::Color::kGreen}),
            (Machine{.nginx = false, .color = api::Color::kGreen}));
  EXPECT_EQ(MachineOf({StepKind::kDropSlot, api::Color::kGreen, api::Color::kBlue}),
            (Machine{.nginx = false, .color = api::Color::kBlue}));
  EXPECT_EQ(MachineOf({StepKind::kRewind, api::Color::kBlue, api::Color::kGreen}),
            (Machine{.nginx = false, .color = api::Color::kBlue}));
  EXPECT_TRUE(NeedsPeer(StepKind::kPromote));
  EXPECT_FALSE(NeedsPeer(StepKind::kCreateSlot));
}

TEST(ProtocolTest, CodesMapToHttpAndStatus) {
  for (Code c : {Code::kOk, Code::kUnavailable, Code::kFailedPrecondition, Code::kAborted,
                 Code::kInvalidArgument, Code::kInternal, Code::kStaleEpoch, Code::kEraMismatch,
                 Code::kNoEpoch, Code::kBusy, Code::kNotManaged, Code::kUnknownOp}) {
    EXPECT_EQ(ParseCode(CodeName(c)), c);
  }
  EXPECT_EQ(HttpStatusOf(Code::kStaleEpoch), 409);
  EXPECT_EQ(HttpStatusOf(Code::kNotManaged), 422);
  EXPECT_EQ(HttpStatusOf(Code::kUnknownOp), 404);
  EXPECT_EQ(HttpStatusOf(Code::kFailedPrecondition), 200);
  EXPECT_EQ(StatusCodeOf(Code::kStaleEpoch), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf(absl::DeadlineExceededError("x")), Code::kUnavailable);
}

}  // namespace
}  // namespace sy::agent
