// Tests of WorkQueue: deduplication, one worker per key, delayed adds, backoff, shutdown.
// Every Get() that could block is bounded by a watchdog that shuts the queue down.
#include "pkg/controller/workqueue.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

namespace sy::controller {
namespace {

using std::chrono::milliseconds;

// Get(), but the queue is shut down (and nullopt returned) if nothing is due within 5 s.
std::optional<std::string> GetBounded(WorkQueue& q) {
  std::promise<void> got;
  std::thread watchdog([&q, done = got.get_future()] {
    if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
      q.Shutdown();
    }
  });
  std::optional<std::string> key = q.Get();
  got.set_value();
  watchdog.join();
  return key;
}

TEST(WorkQueueTest, AddTwiceIsHandedOutOnce) {
  WorkQueue q(util::RealClock::Get());
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Depth(), 1u);
  EXPECT_EQ(GetBounded(q), "a");
  EXPECT_EQ(q.Depth(), 0u);
  q.Done("a");
  EXPECT_EQ(q.Depth(), 0u);  // nothing added meanwhile: nothing requeued
}

TEST(WorkQueueTest, KeyInProcessingIsDeferredUntilDone) {
  WorkQueue q(util::RealClock::Get());
  q.Add("a");
  ASSERT_EQ(GetBounded(q), "a");
  q.Add("a");  // while a worker holds it
  q.Add("b");
  EXPECT_EQ(q.Depth(), 2u);
  // "a" was queued first, so it would come first were it handed out while processing.
  EXPECT_EQ(GetBounded(q), "b");
  q.Done("a");
  EXPECT_EQ(GetBounded(q), "a");
  q.Done("a");
  q.Done("b");
  EXPECT_EQ(q.Depth(), 0u);
}

TEST(WorkQueueTest, DelayedKeysComeOutInDueOrder) {
  WorkQueue q(util::RealClock::Get());
  q.AddAfter("late", milliseconds(60));
  q.AddAfter("early", milliseconds(20));
  q.Add("now");
  EXPECT_EQ(GetBounded(q), "now");
  EXPECT_EQ(GetBounded(q), "early");
  EXPECT_EQ(GetBounded(q), "late");
}

TEST(WorkQueueTest, EarlierScheduleWins) {
  WorkQueue q(util::RealClock::Get());
  q.AddAfter("a", std::chrono::hours(1));
  q.AddAfter("a", milliseconds(0));
  EXPECT_EQ(q.Depth(), 1u);
  EXPECT_EQ(GetBounded(q), "a");
  q.Done("a");
  q.AddAfter("b", milliseconds(0));
  q.AddAfter("b", std::chrono::hours(1));  // a later schedule does not postpone it
  EXPECT_EQ(GetBounded(q), "b");
}

TEST(WorkQueueTest, BackoffDoublesUpToTheCapAndForgetResets) {
  WorkQueue q(util::RealClock::Get(), milliseconds(1), milliseconds(8));
  std::vector<milliseconds> delays;
  for (int i = 0; i < 6; ++i) {
    delays.push_back(q.AddRateLimited("a"));
  }
  EXPECT_EQ(delays, (std::vector<milliseconds>{milliseconds(1), milliseconds(2), milliseconds(4),
                                               milliseconds(8), milliseconds(8), milliseconds(8)}));
  EXPECT_EQ(q.Retries("a"), 6);
  EXPECT_EQ(q.AddRateLimited("b"), milliseconds(1));  // per key
  EXPECT_EQ(q.TotalRetries(), 7);
  EXPECT_EQ(q.Depth(), 2u);

  q.Forget("a");
  EXPECT_EQ(q.Retries("a"), 0);
  EXPECT_EQ(q.AddRateLimited("a"), milliseconds(1));
  EXPECT_EQ(q.TotalRetries(), 8);  // a running total: Forget does not reset it
}

TEST(WorkQueueTest, DefaultBackoffIsOneSecondDoublingToFiveMinutes) {
  WorkQueue q(util::RealClock::Get());
  std::vector<milliseconds> delays;
  for (int i = 0; i < 12; ++i) {
    delays.push_back(q.AddRateLimited("a"));
  }
  EXPECT_EQ(delays.front(), std::chrono::seconds(1));
  EXPECT_EQ(delays[1], std::chrono::seconds(2));
  EXPECT_EQ(delays[8], std::chrono::seconds(256));
  EXPECT_EQ(delays[9], std::chrono::minutes(5));
  EXPECT_EQ(delays.back(), std::chrono::minutes(5));
}

TEST(WorkQueueTest, ShutdownUnblocksAWaitingGet) {
  auto q = std::make_unique<WorkQueue>(util::RealClock::Get());
  std::promise<std::optional<std::string>> result;
  auto got = result.get_future();
  std::thread waiter([&q, &result] { result.set_value(q->Get()); });
  q->Shutdown();
  if (got.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    waiter.detach();
    (void)q.release();  // the stuck thread still uses it
    FAIL() << "Get() still blocked after Shutdown()";
  }
  waiter.join();
  EXPECT_EQ(got.get(), std::nullopt);
  q->Add("a");  // ignored after shutdown
  EXPECT_EQ(q->Depth(), 0u);
  EXPECT_EQ(q->Get(), std::nullopt);
}

}  // namespace
}  // namespace sy::controller
