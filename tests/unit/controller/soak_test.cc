// Soak test of the reconcile loop (README "Reliability", Soak): 10,000 passes over 10 resources on
// in-memory fakes, each resource flipped blue <-> green now and then, must not grow the process's
// resident memory by 1 MB or more nor leak a file descriptor. A memory and descriptor
// assertion, never a timing one.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/controller/reconciler.h"
#include "pkg/controller/workqueue.h"
#include "pkg/source/store.h"
#include "pkg/util/log.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/unit/controller/fleet.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SY_SOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SY_SOAK_SANITIZED 1
#endif
#endif

namespace sy::controller {
namespace {

using api::Color;
using fakes::FakeCluster;

constexpr int kResources = 10;
constexpr int kPasses = 10000;   // measured, over all resources
constexpr int kFlipEvery = 100;  // rounds (one pass per resource each) between two flips
constexpr int kWarmUpFlipEvery = 20;
constexpr long kMaxRssGrowth = 1 << 20;

using fakes::Fleet;
using fakes::ResourceFor;
// Resident set size in bytes (/proc/self/statm, second field).
long RssBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Open file descriptors (/proc/self/fd, the one opendir holds included, every time alike).
int OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

class SoakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetLevel("warn");  // thousands of step lines say nothing here
    for (int i = 0; i < kResources; ++i) {
      desired_[i] = Color::kBlue;
      ASSERT_TRUE(store_.Apply(ResourceFor(i, Color::kBlue), "test").ok());
    }
  }
  void TearDown() override { log::SetLevel("info"); }

  // `n` rounds of one pass per resource, through the work queue as the workers take them;
  // every `flip_every` rounds each resource is flipped, after checking it converged.
  void Rounds(int n, int flip_every) {
    for (int r = 0; r < n; ++r) {
      if (r % flip_every == 0) {
        for (int i = 0; i < kResources; ++i) Flip(i);
      }
      for (int i = 0; i < kResources; ++i) queue_.Add(absl::StrCat("default/shop", i));
      for (int i = 0; i < kResources; ++i) {
        const auto key = queue_.Get();
        ASSERT_TRUE(key.has_value());
        reconciler_.Reconcile(*key);
        queue_.Done(*key);
        ++passes_;
      }
      clock_.Advance(std::chrono::seconds(1));
      ++round_;
    }
  }

  // Resource i converged on its desired color.
  void ExpectConverged(int i) {
    const auto dc = store_.Get(absl::StrCat("default/shop", i));
    ASSERT_TRUE(dc.has_value());
    const std::string want(api::ColorName(desired_[i]));
    EXPECT_EQ(dc->status.phase, "Converged") << dc->Key() << " at round " << round_;
    EXPECT_EQ(dc->status.primary_color, want) << dc->Key() << " at round " << round_;
    EXPECT_EQ(dc->status.serving_color, want) << dc->Key() << " at round " << round_;
  }

  void Flip(int i) {
    if (round_ > 0) ExpectConverged(i);
    desired_[i] = api::Other(desired_[i]);
    ASSERT_TRUE(store_.Apply(ResourceFor(i, desired_[i]), "test").ok());
    ++flips_;
  }

  fakes::FakeClock clock_;
  Fleet fleet_{kResources};
  observe::WorldObserver observer_{fleet_, fleet_, fleet_};
  source::Store store_{"", clock_};
  Reconciler reconciler_{observer_, fleet_, store_, clock_, ReconcilerOptions{}};
  WorkQueue queue_{util::RealClock::Get(), std::chrono::milliseconds(5),
                   std::chrono::milliseconds(50)};
  std::map<int, Color> desired_;
  int round_ = 0;
  int passes_ = 0;
  int flips_ = 0;
};

TEST_F(SoakTest, TenThousandPassesOverTenResourcesGrowNeitherMemoryNorDescriptors) {
  // Warm up until every bounded buffer is full (the store keeps its last kHistory changes)
  // and each resource has flipped both ways.
  while (store_.ResourceVersion() <= 2 * static_cast<int64_t>(source::Store::kHistory)) {
    Rounds(2 * kWarmUpFlipEvery, kWarmUpFlipEvery);
    if (HasFatalFailure()) return;
  }
  const int warmup_passes = passes_;
  const long rss0 = RssBytes();
  const int fds0 = OpenFds();
  const int flips0 = flips_;

  Rounds(kPasses / kResources, kFlipEvery);
  if (HasFatalFailure()) return;

  const long rss1 = RssBytes();
  const int fds1 = OpenFds();
  const int flips = flips_ - flips0;
  for (int i = 0; i < kResources; ++i) ExpectConverged(i);
  std::cout << "soak: " << warmup_passes << " warm-up passes, then " << passes_ - warmup_passes
            << " passes over " << kResources << " resources with " << flips << " flips: RSS "
            << rss0 / 1024 << " KiB -> " << rss1 / 1024 << " KiB (" << (rss1 - rss0) / 1024
            << " KiB), open fds " << fds0 << " -> " << fds1 << "\n";
  EXPECT_EQ(passes_ - warmup_passes, kPasses);
  EXPECT_EQ(flips, kPasses / kResources / kFlipEvery * kResources);
  for (int i = 0; i < kResources; ++i) {
    EXPECT_TRUE(fleet_.cluster(i).Violations().empty()) << "shop" << i;
    EXPECT_EQ(fleet_.cluster(i).RunningPrimaries(), 1) << "shop" << i;
  }
  EXPECT_LE(fds1, fds0) << "file descriptors leaked";
#ifdef SY_SOAK_SANITIZED
  GTEST_SKIP() << "RSS growth not asserted: built with a sanitizer, which changes allocation "
                  "(measured "
               << (rss1 - rss0) / 1024 << " KiB)";
#else
  EXPECT_LT(rss1 - rss0, kMaxRssGrowth)
      << "resident memory grew by " << (rss1 - rss0) / 1024 << " KiB over " << kPasses << " passes";
#endif
}

}  // namespace
}  // namespace sy::controller
