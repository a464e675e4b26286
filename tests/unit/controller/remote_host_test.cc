// A database on another host without an agent is a misconfiguration the reconciler reports and
// does not retry in a loop: every step acts on local data directories (pkg/plan/README.md §15).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "pkg/controller/controller.h"
#include "pkg/controller/reconciler.h"
#include "pkg/source/store.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::controller {
namespace {

using api::Color;
using Next = PassResult::Next;

const std::string kKey = "default/shop";
constexpr auto kResync = std::chrono::seconds(10);

class RemoteHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::DeploymentColor dc = fakes::FakeResource(Color::kGreen);
    dc.spec.green.database.host = "192.0.2.10";  // TEST-NET-1: never this machine
    ASSERT_TRUE(store_.Apply(dc, "test").ok());
  }

  fakes::FakeCluster cluster_;
  observe::WorldObserver observer_{cluster_, cluster_, cluster_};
  source::Store store_{"", cluster_.clock()};
  Reconciler reconciler_{observer_, cluster_, store_, cluster_.clock(),
                         ReconcilerOptions{.resync = kResync}};
};

TEST_F(RemoteHostTest, IsATerminalConditionAndNoStep) {
  const PassResult r = reconciler_.Reconcile(kKey);
  EXPECT_TRUE(r.terminal);
  EXPECT_EQ(r.next, Next::kAfter);
  EXPECT_EQ(r.after, kResync);
  EXPECT_FALSE(r.step.has_value());
  EXPECT_TRUE(cluster_.Steps().empty());
  const api::DeploymentColorStatus status = store_.Get(kKey)->status;
  const api::Condition* ready = api::FindCondition(status, api::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "ObserveFailed");
  EXPECT_NE(ready->message.find(
                "spec.colors.green.database.host 192.0.2.10 is not this machine: without an "
                "agent Switchyard acts on data directories locally"),
            std::string::npos)
      << ready->message;
}

TEST_F(RemoteHostTest, OnceGivesUpAtOnce) {
  WorkQueue queue(util::RealClock::Get(), std::chrono::milliseconds(5),
                  std::chrono::milliseconds(50));
  Controller controller(store_, reconciler_, queue, kResync, util::RealClock::Get());
  std::string report;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(controller.RunOnce(std::chrono::seconds(3), &report));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << report;
  EXPECT_NE(report.find("is not this machine"), std::string::npos) << report;
  EXPECT_TRUE(cluster_.Steps().empty());
}

}  // namespace
}  // namespace sy::controller
