// PostgresActuator without servers: steps of two resources at once through one actuator (as
// the daemon's workers run them) each get their own outcome. The actuator once kept the
// outcome of "the" step in members, which two workers raced on (the TSan run of this test
// reported it); each report must also name its own resource's server.
#include "pkg/actuate/postgres_actuator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pkg/host/local_postgres_host.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/temp_dir.h"

namespace sy::actuate {
namespace {

TEST(PostgresActuatorTest, StepsOfTwoResourcesAtOnceKeepTheirOwnOutcome) {
  fakes::TempDir tmp;
  fakes::FakeCluster observer;  // not consulted by a stop
  host::PqxxPgClient connections;
  util::ExecCommandRunner runner;
  host::LocalPostgresHost host(runner, util::RealClock::Get());
  PostgresActuator actuator(connections, host, observer, runner, util::RealClock::Get());

  // Two resources whose servers are stopped (no postmaster.pid): a stop reports at once.
  std::vector<api::DeploymentColor> resources(2);
  for (int i = 0; i < 2; ++i) {
    api::DeploymentColor& dc = resources[i];
    dc.metadata.name = "shop" + std::to_string(i);
    dc.spec = fakes::FakeSpec();
    for (api::Color c : api::kColors) {
      const std::string dir =
          tmp.path + "/" + dc.metadata.name + "-" + std::string(api::ColorName(c));
      std::filesystem::create_directories(dir);
      dc.spec.color(c).database.data_directory = dir;
      dc.spec.color(c).database.port = 20000 + 10 * i + static_cast<int>(c);
    }
  }
  std::vector<std::string> errors(2);
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back([&, i] {
      const api::Color color = i == 0 ? api::Color::kBlue : api::Color::kGreen;
      for (int n = 0; n < 300 && errors[i].empty(); ++n) {
        StepOutcome out;
        const absl::Status s =
            actuator.Run(resources[i], {model::StepKind::kStop, color, std::nullopt}, &out);
        const std::string want = std::string(api::ColorName(color)) + " already stopped";
        if (!s.ok() || out.detail.rfind(want, 0) != 0) {
          errors[i] = s.ToString() + " / " + out.detail;
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
}

}  // namespace
}  // namespace sy::actuate
