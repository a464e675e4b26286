// Two resources flipped at the same time by the real Controller and WorkQueue with two
// workers, each on its own pair of fake servers: both go to green and back to blue while the
// other does, their passes overlapping. hack/sanitize.sh tsan runs it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/controller/controller.h"
#include "pkg/controller/reconciler.h"
#include "pkg/controller/workqueue.h"
#include "pkg/source/store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/controller/fleet.h"

namespace sy::controller {
namespace {

using api::Color;

// The fleet behind the interfaces, counting the calls in flight on all threads at once: two
// means two resources were worked on at the same time (a key never goes to two workers).
class Overlapping final : public model::PostgresObserver, public actuate::Actuator {
 public:
  explicit Overlapping(fakes::Fleet& fleet) : fleet_(fleet) {}

  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             Color color) override {
    const InFlight in(*this);
    return fleet_.Observe(spec, color);
  }
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   actuate::StepOutcome* outcome) override {
    const InFlight in(*this);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // widen the window
    return fleet_.Run(dc, step, outcome);
  }
  int most() const { return most_.load(); }

 private:
  struct InFlight {
    explicit InFlight(Overlapping& o) : o_(o) {
      const int now = ++o_.now_;
      int most = o_.most_.load();
      while (now > most && !o_.most_.compare_exchange_weak(most, now)) {
      }
    }
    ~InFlight() { --o_.now_; }
    Overlapping& o_;
  };
  fakes::Fleet& fleet_;
  std::atomic<int> now_{0};
  std::atomic<int> most_{0};
};

class TwoFlipsTest : public ::testing::Test {
 protected:
  void Desire(Color c) {
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(store_.Apply(fakes::ResourceFor(i, c), "test").ok());
    }
  }

  // Both resources converged on `c` (polled for at most 60 s: TSan is slow).
  bool BothOn(Color c) {
    const std::string want(api::ColorName(c));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int on = 0;
      for (int i = 0; i < 2; ++i) {
        const auto dc = store_.Get(absl::StrCat("default/shop", i));
        on += dc && dc->status.observed_generation == dc->metadata.generation &&
                      dc->status.phase == "Converged" && dc->status.serving_color == want &&
                      dc->status.primary_color == want
                  ? 1
                  : 0;
      }
      if (on == 2) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll
    }
    return false;
  }

  void ExpectWorldOn(Color c) {
    for (int i = 0; i < 2; ++i) {
      fakes::FakeCluster& cluster = fleet_.cluster(i);
      EXPECT_TRUE(cluster.RunningPrimary(c)) << i;
      EXPECT_FALSE(cluster.RunningPrimary(api::Other(c))) << i;
      EXPECT_TRUE(cluster.server(api::Other(c)).streaming) << i;
      EXPECT_TRUE(cluster.Violations().empty()) << i;
      EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok()) << i;
    }
  }

  fakes::FakeClock clock_;
  fakes::Fleet fleet_{2};
  Overlapping overlapping_{fleet_};
  observe::WorldObserver observer_{overlapping_, fleet_, fleet_};
  source::Store store_{"", clock_};
  Reconciler reconciler_{observer_, overlapping_, store_, clock_, ReconcilerOptions{}};
  WorkQueue queue_{util::RealClock::Get(), std::chrono::milliseconds(5),
                   std::chrono::milliseconds(50)};
  Controller controller_{store_, reconciler_, queue_, std::chrono::seconds(10),
                         util::RealClock::Get()};
};

TEST_F(TwoFlipsTest, BothResourcesFlipToTheOtherColorAndBackAtOnce) {
  Desire(Color::kBlue);
  controller_.Start(2);
  ASSERT_TRUE(BothOn(Color::kBlue));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(fleet_.cluster(i).Write().ok());

  Desire(Color::kGreen);
  const bool green = BothOn(Color::kGreen);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(fleet_.cluster(i).Write().ok());
  Desire(Color::kBlue);
  const bool blue = green && BothOn(Color::kBlue);
  controller_.Stop();

  ASSERT_TRUE(green);
  ASSERT_TRUE(blue);
  ExpectWorldOn(Color::kBlue);
  EXPECT_GE(overlapping_.most(), 2) << "the two resources were never worked on at once";
  for (int i = 0; i < 2; ++i) {
    size_t promotions = 0;
    for (const auto& s : fleet_.cluster(i).Steps()) {
      promotions += s.step.kind == model::StepKind::kPromote && s.status.ok() ? 1 : 0;
    }
    EXPECT_EQ(promotions, 2u) << i;  // green, then blue again
  }
}

}  // namespace
}  // namespace sy::controller
