// A real Reconciler over FakeCluster and a memory Store, with Metrics as its PassListener:
// the metrics tests drive passes the way the daemon does and read the families back.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pkg/controller/reconciler.h"
#include "pkg/metrics/metrics.h"
#include "pkg/source/store.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/unit/metrics/samples.h"

namespace sy::metrics {

inline const std::string kResource = "default/shop";

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<fakes::FakeCluster>(fakes::FakeSpec(api::Color::kBlue));
    observer_ = std::make_unique<observe::WorldObserver>(*cluster_, *cluster_, *cluster_);
    store_ = std::make_unique<source::Store>("", cluster_->clock());
    ASSERT_TRUE(store_->Load().ok());
    metrics_ = std::make_unique<Metrics>(cluster_->clock(), MetricsOptions{"1.2.3", "/proc"});
    reconciler_ =
        std::make_unique<controller::Reconciler>(*observer_, *cluster_, *store_, cluster_->clock(),
                                                 controller::ReconcilerOptions{}, metrics_.get());
    Desire(api::Color::kBlue);
  }

  void Desire(api::Color c, bool paused = false) {
    api::DeploymentColor dc = fakes::FakeResource(c);
    dc.spec.paused = paused;
    ASSERT_TRUE(store_->Apply(dc, "test").ok());
  }

  controller::PassResult Pass() { return reconciler_->Reconcile(kResource); }

  // Passes while the reconciler asks to look again soon (advancing the fake clock by `tick`
  // each time); the last result.
  controller::PassResult Converge(std::chrono::nanoseconds tick = std::chrono::milliseconds(10),
                                  int max_passes = 100) {
    controller::PassResult r;
    for (int i = 0; i < max_passes; ++i) {
      r = Pass();
      const bool again =
          r.next == controller::PassResult::Next::kNow ||
          (r.next == controller::PassResult::Next::kAfter && r.after < std::chrono::seconds(1));
      if (!again) return r;
      cluster_->clock().Advance(tick);
    }
    ADD_FAILURE() << "not settled after " << max_passes << " passes";
    return r;
  }

  std::optional<double> V(const std::string& name, const prometheus::Labels& labels = {}) {
    return Value(metrics_->Collect(), name, labels);
  }
  // V() of a series of kResource.
  std::optional<double> R(const std::string& name, prometheus::Labels labels = {}) {
    labels["resource"] = kResource;
    return V(name, labels);
  }

  double Now() {
    return std::chrono::duration<double>(cluster_->clock().Now().time_since_epoch()).count();
  }

  const api::Condition* Condition(std::string_view type) {
    status_ = store_->Get(kResource)->status;
    return api::FindCondition(status_, type);
  }

  std::unique_ptr<fakes::FakeCluster> cluster_;
  std::unique_ptr<observe::WorldObserver> observer_;
  std::unique_ptr<source::Store> store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<controller::Reconciler> reconciler_;
  api::DeploymentColorStatus status_;
};

}  // namespace sy::metrics
