// Tests of Controller (the --once mode and the worker threads) on FakeCluster, and of
// StateLock.
#include "pkg/controller/controller.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "pkg/source/store.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::controller {
namespace {

using api::Color;
using fakes::FakeCluster;

const std::string kKey = "default/shop";

// A directory under /tmp, removed with everything in it at the end of the test.
struct TempDir : fakes::TempDir {
  TempDir() : fakes::TempDir("controller_test") {}
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override { Desire(Color::kBlue); }
  void Desire(Color c) { ASSERT_TRUE(store_.Apply(fakes::FakeResource(c), "test").ok()); }

  // The stored status, once `done` holds of it (polled for at most 5 s).
  template <typename Pred>
  std::optional<api::DeploymentColorStatus> WaitForStatus(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto dc = store_.Get(kKey);
      if (dc && done(*dc)) return dc->status;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll
    }
    return std::nullopt;
  }

  FakeCluster cluster_;
  observe::WorldObserver observer_{cluster_, cluster_, cluster_};
  source::Store store_{"", cluster_.clock()};
  Reconciler reconciler_{observer_, cluster_, store_, cluster_.clock(), ReconcilerOptions{}};
  WorkQueue queue_{util::RealClock::Get(), std::chrono::milliseconds(5),
                   std::chrono::milliseconds(50)};
  Controller controller_{store_, reconciler_, queue_, std::chrono::seconds(10),
                         util::RealClock::Get()};
};

TEST_F(ControllerTest, RunOnceConvergesAFlip) {
  Desire(Color::kGreen);
  std::string report;
  EXPECT_TRUE(controller_.RunOnce(std::chrono::seconds(10), &report));
  EXPECT_NE(report.find("default/shop: Converged"), std::string::npos) << report;
  EXPECT_TRUE(cluster_.RunningPrimary(Color::kGreen));
  EXPECT_EQ(cluster_.ObserveWorld().nginx.served_color, Color::kGreen);
  EXPECT_TRUE(cluster_.server(Color::kBlue).streaming);

  // Converged: one more pass takes no step.
  const size_t steps = cluster_.Steps().size();
  EXPECT_FALSE(reconciler_.Reconcile(kKey).step.has_value());
  EXPECT_EQ(cluster_.Steps().size(), steps);
}

TEST_F(ControllerTest, RunOnceGivesUpAtTheDeadlineWithAReport) {
  cluster_.SetNginxRunning(false);  // traffic cannot move: Degraded until someone starts it
  Desire(Color::kGreen);
  std::string report;
  EXPECT_FALSE(controller_.RunOnce(std::chrono::milliseconds(300), &report));
  EXPECT_NE(report.find("default/shop"), std::string::npos) << report;
  EXPECT_NE(report.find("nginx is not running"), std::string::npos) << report;
  EXPECT_TRUE(cluster_.RunningPrimary(Color::kBlue));  // nothing unsafe was done
  EXPECT_EQ(store_.Get(kKey)->status.phase, "Degraded");
}

TEST_F(ControllerTest, RunOnceReportsATerminalFailure) {
  cluster_.FailNext(model::StepKind::kSwitchTraffic, absl::InvalidArgumentError("nginx -t failed"));
  Desire(Color::kGreen);
  std::string report;
  EXPECT_FALSE(controller_.RunOnce(std::chrono::seconds(10), &report));
  EXPECT_NE(report.find("default/shop: Failed"), std::string::npos) << report;
  EXPECT_NE(report.find("nginx -t failed"), std::string::npos) << report;
}

TEST_F(ControllerTest, WorkersConvergeAnAppliedChange) {
  controller_.Start(2);
  EXPECT_TRUE(controller_.Ready());
  Desire(Color::kGreen);
  const auto st = WaitForStatus([](const api::DeploymentColor& dc) {
    return dc.status.observed_generation == dc.metadata.generation &&
           dc.status.phase == "Converged" && dc.status.serving_color == "green";
  });
  controller_.Stop();
  EXPECT_FALSE(controller_.Ready());
  ASSERT_TRUE(st.has_value()) << store_.Get(kKey)->status.phase;
  EXPECT_EQ(st->primary_color, "green");
  EXPECT_TRUE(cluster_.RunningPrimary(Color::kGreen));
  EXPECT_TRUE(cluster_.server(Color::kBlue).streaming);
  EXPECT_TRUE(cluster_.Violations().empty());

  const size_t steps = cluster_.Steps().size();
  EXPECT_FALSE(reconciler_.Reconcile(kKey).step.has_value());
  EXPECT_EQ(cluster_.Steps().size(), steps);
}

TEST(StateLockTest, SecondHolderIsRefusedUntilTheFirstLetsGo) {
  const TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const std::string dir = tmp.path;
  {
    auto first = StateLock::Acquire(dir, util::RealClock::Get());
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = StateLock::Acquire(dir, util::RealClock::Get(), std::chrono::milliseconds(100));
    ASSERT_FALSE(second.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
    EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())),
              std::string::npos)
        << second.status();
    EXPECT_NE(second.status().message().find(dir), std::string::npos);
  }
  EXPECT_TRUE(StateLock::Acquire(dir, util::RealClock::Get()).ok());
}

TEST(StateLockTest, RefusesADirectoryOthersMayWrite) {
  const TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  for (const mode_t mode : {0777, 0775, 0757}) {
    ASSERT_EQ(::chmod(tmp.path.c_str(), mode), 0);
    auto lock = StateLock::Acquire(tmp.path, util::RealClock::Get(), std::chrono::milliseconds(0));
    ASSERT_FALSE(lock.ok()) << std::oct << mode;
    EXPECT_TRUE(absl::IsFailedPrecondition(lock.status())) << lock.status();
    EXPECT_NE(lock.status().message().find("chmod go-w " + tmp.path), std::string::npos)
        << lock.status();
  }
  ASSERT_EQ(::chmod(tmp.path.c_str(), 0755), 0);  // readable is fine: the files are 0600
  EXPECT_TRUE(StateLock::Acquire(tmp.path, util::RealClock::Get()).ok());
}

// A daemon killed while a child it forked had not exec'ed yet: the child holds the lock's
// descriptor (inherited; close-on-exec) for a moment after its parent died. The restarted
// daemon waits for it instead of refusing to start (found by the churn integration test).
TEST(StateLockTest, WaitsForAChildOfADeadHolderToLetGo) {
  const TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  auto dead = StateLock::Acquire(tmp.path, util::RealClock::Get());
  ASSERT_TRUE(dead.ok()) << dead.status();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::usleep(300 * 1000);  // "between fork and exec"
    ::_exit(0);
  }
  dead->reset();  // the parent is gone; its child still holds the lock
  EXPECT_FALSE(
      StateLock::Acquire(tmp.path, util::RealClock::Get(), std::chrono::milliseconds(0)).ok());
  auto restarted = StateLock::Acquire(tmp.path, util::RealClock::Get(), std::chrono::seconds(10));
  EXPECT_TRUE(restarted.ok()) << restarted.status();
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
}

TEST(StateLockTest, CreatesTheStateDirectory) {
  const TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const std::string dir = tmp.path + "/state";
  EXPECT_TRUE(StateLock::Acquire(dir, util::RealClock::Get()).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir));
}

}  // namespace
}  // namespace sy::controller
