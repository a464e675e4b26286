// The world the PostgreSQL step tests start from, on the fakes: blue the running primary
// that green streams from (pids 100 and 200), a PostgresActuator over a FakePgClient, a
// FakePostgresHost, a FakeCommandRunner and a FakeClock (polls and timeouts run instantly),
// and an observer that reads the same two fakes, so the actuator's re-checks see what the
// steps did.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "pkg/actuate/postgres_actuator.h"
#include "pkg/model/lsn.h"
#include "pkg/model/step.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/fake_command_runner.h"
#include "tests/fakes/fake_pg_client.h"
#include "tests/fakes/fake_postgres_host.h"

namespace sy::actuate {

using api::Color;

// What the real observer would report of the two fakes (no kept connection, no history).
class FakesObserver final : public model::PostgresObserver {
 public:
  FakesObserver(fakes::FakePgClient& pg, fakes::FakePostgresHost& host) : pg_(pg), host_(host) {}
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             Color color) override {
    const std::string& dir = spec.color(color).database.data_directory;
    model::ServerState s;
    s.color = color;
    s.data_directory_exists = host_.HoldsCluster(dir);
    s.postmaster_pid = host_.PostmasterPidExists(dir);
    s.postmaster_alive = host_.PostmasterAlive(dir);
    if (s.data_directory_exists) {
      const fakes::FakeDataDirectory d = host_.Directory(dir);
      if (d.control_error.ok()) {
        s.control = d.control;
      } else {
        s.directory_error = std::string(d.control_error.message());
      }
      s.startup = d.startup;
      s.local_slots = d.local_slots;
      s.wal_timeline = d.wal.any;
      s.segment_timeline = d.wal.segments;
    }
    const fakes::FakePgServer server = pg_.Server(host::EndpointFor(spec, color).Address());
    s.reachable = server.reachable && s.postmaster_alive;
    if (s.reachable) {
      s.in_recovery = server.in_recovery;
      s.timeline = server.timeline;
      s.replay_lsn = s.receive_lsn = server.replay_lsn;
      s.slots.assign(server.slots.begin(), server.slots.end());
    }
    return s;
  }

 private:
  fakes::FakePgClient& pg_;
  fakes::FakePostgresHost& host_;
};

class PgStepTest : public ::testing::Test {
 protected:
  static constexpr model::Lsn kBlueCheckpoint = 0x3000100;

  PgStepTest() {
    dc_.metadata.name = "shop";
    dc_.spec = fakes::FakeSpec();
    dc_.spec.database.bin_directory = "/usr/lib/postgresql/15/bin";
    for (Color c : api::kColors) {
      fakes::FakeDataDirectory& d = host_.Directory(Dir(c));
      d.control = {c == Color::kBlue ? "in production" : "in archive recovery", 7, kBlueCheckpoint,
                   1, 0};
      Server(c).data_directory = Dir(c);
      host_.RunPostmaster(Dir(c), Pid(c));
    }
    host_.Directory(Dir(Color::kGreen)).startup.standby_signal = true;
    host_.Directory(Dir(Color::kGreen)).startup.primary_conninfo = "host=127.0.0.1 port=15433";
    Server(Color::kBlue).streaming = {"green"};
    Server(Color::kGreen).in_recovery = true;
    Server(Color::kGreen).replay_lsn = kBlueCheckpoint;
  }

  const std::string& Dir(Color c) const { return dc_.spec.color(c).database.data_directory; }
  static int Pid(Color c) { return c == Color::kBlue ? 100 : 200; }
  std::string Address(Color c) const { return host::EndpointFor(dc_.spec, c).Address(); }
  fakes::FakePgServer& Server(Color c) { return pg_.Server(Address(c)); }
  fakes::FakeDataDirectory& Directory(Color c) { return host_.Directory(Dir(c)); }

  // Blue fenced and cleanly stopped at kBlueCheckpoint, green a standby that replayed
  // `replayed`: the world right before the promotion.
  void FencedBlue(model::Lsn replayed = kBlueCheckpoint + 120) {
    ASSERT_TRUE(actuator_.Fence(dc_.spec, dc_.Key(), Color::kBlue).ok());
    Server(Color::kBlue).reachable = false;
    Server(Color::kGreen).replay_lsn = replayed;
  }

  absl::Status Run(model::StepKind kind, Color target, StepOutcome* out = nullptr) {
    StepOutcome local;
    return actuator_.Run(dc_, model::Step{kind, target, std::nullopt}, out ? out : &local);
  }

  api::DeploymentColor dc_;
  fakes::FakePgClient pg_;
  fakes::FakePostgresHost host_;
  fakes::FakeCommandRunner runner_;
  fakes::FakeClock clock_;
  FakesObserver observer_{pg_, host_};
  PostgresTimeouts timeouts_{};
  PostgresActuator actuator_{pg_, host_, observer_, runner_, clock_, timeouts_};
};

}  // namespace sy::actuate
