// WorldObserver's reach: a database without an agent must be on this machine; one with an
// agent is observed through it, which the local observers cannot do.
#include <gtest/gtest.h>

#include <string>

#include "gmock/gmock.h"
#include "pkg/observe/observer.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::observe {
namespace {

using api::Color;
using ::testing::HasSubstr;

// FakeSpec with each database on a machine of its own, through its agent.
api::DeploymentColorSpec AgentSpec() {
  api::DeploymentColorSpec spec = fakes::FakeSpec();
  spec.blue.database.host = "192.0.2.10";  // TEST-NET-1: never this machine
  spec.blue.database.agent = "192.0.2.10:9754";
  spec.green.database.host = "192.0.2.11";
  spec.green.database.agent = "192.0.2.11:9754";
  return spec;
}

TEST(WorldObserverTest, ADatabaseWithAnAgentIsNotCheckedToBeLocal) {
  const api::DeploymentColorSpec spec = AgentSpec();
  fakes::FakeCluster cluster(spec);
  WorldObserver observer(cluster, cluster, cluster, /*through_agents=*/true);
  const absl::StatusOr<model::World> w = observer.Observe(spec);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->blue.RunningPrimary());
}

TEST(WorldObserverTest, LocalObserversRefuseAnAgentNamingTheField) {
  api::DeploymentColorSpec spec = AgentSpec();
  fakes::FakeCluster cluster(spec);
  WorldObserver observer(cluster, cluster, cluster);
  absl::StatusOr<model::World> w = observer.Observe(spec);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(),
              HasSubstr("spec.colors.blue.database.agent 192.0.2.10:9754: an agent is named, but "
                        "these observers read this machine only"));
  spec = fakes::FakeSpec();
  spec.nginx.agent = "192.0.2.12:9754";
  w = observer.Observe(spec);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("spec.nginx.agent 192.0.2.12:9754: an agent"));
}

// Without an agent the host must be this machine, whatever the observers reach.
TEST(WorldObserverTest, ADatabaseWithoutAnAgentMustBeThisMachine) {
  api::DeploymentColorSpec spec = fakes::FakeSpec();
  fakes::FakeCluster cluster(spec);
  WorldObserver observer(cluster, cluster, cluster, /*through_agents=*/true);
  ASSERT_TRUE(observer.Observe(spec).ok());
  spec.green.database.host = "192.0.2.11";
  const absl::StatusOr<model::World> w = observer.Observe(spec);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(),
              HasSubstr("spec.colors.green.database.host 192.0.2.11 is not this machine"));
}

}  // namespace
}  // namespace sy::observe
