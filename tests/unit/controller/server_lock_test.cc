// The servers' lock (README "How a switch goes": one actor per pair): a pass holds it from before
// it observes until after its step; a pass that finds it held takes no step and says who holds it.
// FlockServerLock on real files; two resources naming the same servers under two workers never act
// at once.
#include "pkg/controller/server_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "pkg/controller/controller.h"
#include "pkg/controller/reconciler.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/controller/fake_server_lock.h"

namespace sy::controller {
namespace {

using api::Color;
using Next = PassResult::Next;

const std::string kKey = "default/shop";

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ReconcilerServerLockTest, ServersHeldElsewhereTakeNoStepAndSayWho) {
  fakes::FakeCluster cluster;
  observe::WorldObserver observer(cluster, cluster, cluster);
  source::Store store("", cluster.clock());
  FakeServerLock lock;
  Reconciler reconciler(observer, cluster, store, cluster.clock(), ReconcilerOptions{}, nullptr,
                        &lock);
  ASSERT_TRUE(store.Apply(fakes::FakeResource(Color::kGreen), "test").ok());
  const std::string green = fakes::FakeSpec().green.database.data_directory;
  lock.HoldExternally(green, "pid 4242 resource default/other");

  const PassResult r = reconciler.Reconcile(kKey);
  EXPECT_EQ(r.next, Next::kBackoff);
  EXPECT_TRUE(absl::IsUnavailable(r.error)) << r.error;
  EXPECT_FALSE(r.step.has_value());
  EXPECT_TRUE(cluster.Steps().empty());
  const api::DeploymentColorStatus st = store.Get(kKey)->status;
  EXPECT_EQ(st.phase, "Degraded");
  const api::Condition* ready = api::FindCondition(st, api::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "ServersLocked");
  EXPECT_NE(ready->message.find(green + " is held by pid 4242 resource default/other"),
            std::string::npos)
      << ready->message;

  // Once let go, the flip goes through; converged, one more pass takes no step.
  lock.Release(green);
  PassResult last;
  for (int i = 0; i < 50 && (i == 0 || last.next == Next::kNow || last.next == Next::kAfter); ++i) {
    last = reconciler.Reconcile(kKey);
    if (last.phase == api::Phase::kConverged && !last.step) break;
  }
  EXPECT_EQ(last.phase, api::Phase::kConverged);
  EXPECT_TRUE(cluster.RunningPrimary(Color::kGreen));
  const size_t steps = cluster.Steps().size();
  EXPECT_FALSE(reconciler.Reconcile(kKey).step.has_value());
  EXPECT_EQ(cluster.Steps().size(), steps);
}

class FlockServerLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path.empty());
    dc_ = fakes::FakeResource(Color::kBlue);
    dc_.metadata.namespace_ = "default";
    dc_.spec.blue.database.data_directory = tmp_.path + "/blue";
    dc_.spec.green.database.data_directory = tmp_.path + "/green/";  // beside, not inside
  }
  fakes::TempDir tmp_{"server_lock_test"};
  api::DeploymentColor dc_;
  FlockServerLock lock_{util::RealClock::Get(), std::chrono::milliseconds(20)};
};

TEST_F(FlockServerLockTest, LocksBothColorsBesideTheirDirectoriesNamingTheHolder) {
  absl::StatusOr<std::unique_ptr<ServerLock::Guard>> guard = lock_.TryLock(dc_);
  ASSERT_TRUE(guard.ok()) << guard.status();
  for (const std::string& file :
       {tmp_.path + "/blue.switchyard-lock", tmp_.path + "/green.switchyard-lock"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(*util::ReadFile(file),
              "pid " + std::to_string(::getpid()) + " resource default/shop\n");
  }
  // Another resource on the same servers, in this process (another worker): refused.
  api::DeploymentColor other = dc_;
  other.metadata.name = "shop2";
  absl::StatusOr<std::unique_ptr<ServerLock::Guard>> second = lock_.TryLock(other);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_NE(Message(second.status())
                .find("blue.switchyard-lock is held by pid " + std::to_string(::getpid()) +
                      " resource default/shop"),
            std::string::npos)
      << second.status();
  guard->reset();
  EXPECT_TRUE(lock_.TryLock(other).ok());
}

TEST_F(FlockServerLockTest, HeldByAnotherDaemonUntilItDies) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t daemon = ::fork();
  if (daemon == 0) {
    FlockServerLock theirs(util::RealClock::Get());
    api::DeploymentColor dc = dc_;
    dc.metadata.name = "shop2";
    auto guard = theirs.TryLock(dc);
    const char ok = guard.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  absl::StatusOr<std::unique_ptr<ServerLock::Guard>> mine = lock_.TryLock(dc_);
  EXPECT_EQ(mine.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(
      Message(mine.status()).find("pid " + std::to_string(daemon) + " resource default/shop2"),
      std::string::npos)
      << mine.status();
  ::kill(daemon, SIGKILL);  // however a daemon ends, its lock goes with it
  ::waitpid(daemon, nullptr, 0);
  EXPECT_TRUE(lock_.TryLock(dc_).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(FlockServerLockTest, NoDirectoryToLockBesideIsAnError) {
  dc_.spec.green.database.data_directory = tmp_.path + "/missing/green";
  absl::StatusOr<std::unique_ptr<ServerLock::Guard>> guard = lock_.TryLock(dc_);
  EXPECT_FALSE(guard.ok());
  EXPECT_FALSE(absl::IsUnavailable(guard.status())) << guard.status();
  EXPECT_NE(Message(guard.status()).find(tmp_.path + "/missing/green.switchyard-lock"),
            std::string::npos)
      << guard.status();
}

// Watches the passes over one pair of servers: a pass begins when it observes blue and ends
// in OnPass; in between no other thread may observe or act. Wraps FakeCluster.
class OverlapWatch final : public model::PostgresObserver,
                           public actuate::Actuator,
                           public model::PassListener {
 public:
  explicit OverlapWatch(fakes::FakeCluster& cluster) : cluster_(cluster) {}

  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             Color color) override {
    Enter(color == Color::kBlue);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // widen the window
    return cluster_.Observe(spec, color);
  }
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   actuate::StepOutcome* outcome) override {
    Enter(false);
    {
      std::lock_guard<std::mutex> l(mu_);
      ++steps_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return cluster_.Run(dc, step, outcome);
  }
  void OnPass(const model::PassReport& report) override {
    std::lock_guard<std::mutex> l(mu_);
    if (owner_ == std::this_thread::get_id()) owner_.reset();
    if (absl::IsUnavailable(report.error)) ++locked_out_;
  }

  int overlaps() {
    std::lock_guard<std::mutex> l(mu_);
    return overlaps_;
  }
  int steps() {
    std::lock_guard<std::mutex> l(mu_);
    return steps_;
  }
  int locked_out() {
    std::lock_guard<std::mutex> l(mu_);
    return locked_out_;
  }

 private:
  void Enter(bool begins) {
    std::lock_guard<std::mutex> l(mu_);
    const auto me = std::this_thread::get_id();
    if (owner_ && *owner_ != me) ++overlaps_;
    if (begins) owner_ = me;
  }

  fakes::FakeCluster& cluster_;
  std::mutex mu_;
  std::optional<std::thread::id> owner_;  // the thread whose pass runs
  int overlaps_ = 0;
  int steps_ = 0;
  int locked_out_ = 0;
};

TEST_F(FlockServerLockTest, TwoResourcesOnTheSameServersUnderTwoWorkersNeverActAtOnce) {
  // Stored without the API's check (e.g. before it existed): shop wants blue, shop2 green, so
  // both always have a step to take.
  fakes::FakeCluster cluster(dc_.spec, Color::kBlue);
  OverlapWatch watch(cluster);
  observe::WorldObserver observer(watch, cluster, cluster);
  source::Store store("", cluster.clock());
  FlockServerLock lock(util::RealClock::Get());
  const auto resync = std::chrono::milliseconds(20);  // each looks again soon after the other
  Reconciler reconciler(observer, watch, store, cluster.clock(),
                        ReconcilerOptions{.resync = resync}, &watch, &lock);
  ASSERT_TRUE(store.Apply(dc_, "test").ok());
  api::DeploymentColor shop2 = dc_;
  shop2.metadata.name = "shop2";
  shop2.spec.active_color = Color::kGreen;
  ASSERT_TRUE(store.Apply(shop2, "test").ok());

  WorkQueue queue(util::RealClock::Get(), std::chrono::milliseconds(1),
                  std::chrono::milliseconds(5));
  Controller controller(store, reconciler, queue, resync, util::RealClock::Get());
  controller.Start(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  controller.Stop();

  std::cout << "  " << watch.steps() << " steps, " << watch.locked_out()
            << " passes found the servers locked, " << watch.overlaps() << " overlaps\n";
  EXPECT_GT(watch.steps(), 10);
  EXPECT_EQ(watch.overlaps(), 0);
  EXPECT_TRUE(cluster.Violations().empty());
}

}  // namespace
}  // namespace sy::controller
