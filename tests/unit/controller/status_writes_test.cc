// Tests of the status a pass writes, on FakeCluster: never onto a re-created object (another
// incarnation than the one the pass read), and not again on every pass while only the
// replication lag moves.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "pkg/controller/reconciler.h"
#include "pkg/source/store.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::controller {
namespace {

using api::Color;

const std::string kKey = "default/shop";

// The cluster's PostgreSQL observer, running `before` on the first observation only.
class HookedObserver final : public model::PostgresObserver {
 public:
  HookedObserver(model::PostgresObserver& real, std::function<void()> before)
      : real_(real), before_(std::move(before)) {}
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override {
    if (before_) std::exchange(before_, nullptr)();
    return real_.Observe(spec, color);
  }

 private:
  model::PostgresObserver& real_;
  std::function<void()> before_;
};

class StatusWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Load().ok());
    ASSERT_TRUE(store_.Apply(fakes::FakeResource(Color::kBlue), "test").ok());
  }
  PassResult Pass(model::PostgresObserver& postgres) {
    observe::WorldObserver world(postgres, cluster_, cluster_);
    Reconciler r(world, cluster_, store_, cluster_.clock(), ReconcilerOptions());
    return r.Reconcile(kKey);
  }

  fakes::FakeCluster cluster_{fakes::FakeSpec(Color::kBlue), Color::kBlue};
  source::Store store_{"", cluster_.clock()};
};

// The object is deleted and created again while a pass observes: what that pass saw of the
// old one must not become the new one's status.
TEST_F(StatusWritesTest, APassDoesNotWriteOntoARecreatedObject) {
  HookedObserver recreate(cluster_, [&] {
    ASSERT_TRUE(store_.Remove(kKey).ok());
    api::DeploymentColor again = fakes::FakeResource(Color::kBlue);
    again.spec.paused = true;
    ASSERT_TRUE(store_.Apply(again, "test").ok());
  });
  Pass(recreate);
  const api::DeploymentColor now = *store_.Get(kKey);
  EXPECT_EQ(now.status.phase, "");  // untouched: the next pass reports on this one
  EXPECT_EQ(now.status.observed_generation, 0);
  Pass(cluster_);
  EXPECT_EQ(store_.Get(kKey)->status.phase, "Paused");
}

TEST_F(StatusWritesTest, LagAloneDoesNotRewriteTheStatus) {
  ASSERT_EQ(Pass(cluster_).phase, api::Phase::kConverged);
  cluster_.SetLagging(Color::kGreen, true);
  ASSERT_TRUE(cluster_.Write().ok());
  Pass(cluster_);
  const std::string rv = store_.Get(kKey)->metadata.resource_version;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster_.Write().ok());  // the lag grows
    Pass(cluster_);
    EXPECT_EQ(store_.Get(kKey)->metadata.resource_version, rv) << "pass " << i;
  }
}

}  // namespace
}  // namespace sy::controller
