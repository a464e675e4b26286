// Tests of watches (?watch=true): the events a client gets and when the stream ends, through
// a recording ResponseStream (no sockets).
#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <mutex>
#include <thread>

#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

using nlohmann::json;

// Keeps every chunk; Write() fails (the client went away) once `limit` events or
// `heartbeat_limit` heartbeats arrived.
class Recorder final : public ResponseStream {
 public:
  explicit Recorder(size_t limit = SIZE_MAX, int heartbeat_limit = INT_MAX)
      : limit_(limit), heartbeat_limit_(heartbeat_limit) {}
  bool Write(std::string_view chunk) override {
    std::lock_guard<std::mutex> l(mu_);
    if (chunk == "\n") {
      ++heartbeats_;
      return heartbeats_ < heartbeat_limit_;
    }
    EXPECT_EQ(chunk.back(), '\n');
    events_.push_back(json::parse(chunk));
    return events_.size() < limit_;
  }
  bool Open() const override { return open_.load(); }
  std::vector<json> Events() {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  int Heartbeats() {
    std::lock_guard<std::mutex> l(mu_);
    return heartbeats_;
  }
  std::atomic<bool> open_{true};

 private:
  size_t limit_;
  int heartbeat_limit_;
  std::mutex mu_;
  std::vector<json> events_;
  int heartbeats_ = 0;
};

std::vector<std::string> Types(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["type"]);
  return out;
}

// Waits (bounded) until `rec` holds `n` events.
bool AwaitEvents(Recorder& rec, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rec.Events().size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return rec.Events().size() >= n;
}

TEST_F(ApiTest, WatchStreamsEveryChangeInOrder) {
  Create();
  const HttpResponse r = Do(Req("GET", kDcs + "?watch=true", "", "", ""));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.content_type, "application/json;stream=watch");
  Recorder rec(4);
  std::thread t([&] { r.stream(rec); });
  ASSERT_TRUE(AwaitEvents(rec, 1));  // the current object first
  EXPECT_EQ(
      Do(Req("PATCH", kShop, R"({"spec":{"activeColor":"green"}})", "application/merge-patch+json"))
          .status,
      200);
  api::DeploymentColorStatus st;
  st.phase = "Progressing";
  ASSERT_TRUE(store_.WriteStatus("default/shop", st).ok());
  EXPECT_EQ(Do(Req("DELETE", kShop)).status, 200);
  t.join();  // ends: Write() failed after the 4th event
  const std::vector<json> events = rec.Events();
  EXPECT_EQ(Types(events), (std::vector<std::string>{"ADDED", "MODIFIED", "MODIFIED", "DELETED"}));
  EXPECT_EQ(events[1]["object"]["spec"]["activeColor"], "green");
  EXPECT_EQ(events[2]["object"]["status"]["phase"], "Progressing");
  EXPECT_EQ(events[3]["object"]["metadata"]["resourceVersion"],
            std::to_string(store_.ResourceVersion()));
}

TEST_F(ApiTest, WatchFromAResourceVersionWithSelectorAndTable) {
  Create();
  const std::string rv = std::to_string(store_.ResourceVersion());
  api::DeploymentColor cart = fakes::FakeResource();
  cart.metadata.name = "cart";
  ASSERT_TRUE(store_.Apply(cart, "api").ok());  // filtered out below
  ASSERT_EQ(
      Do(Req("PATCH", kShop, R"({"spec":{"paused":true}})", "application/merge-patch+json")).status,
      200);
  HttpRequest req =
      Req("GET", kDcs + "?watch=1&resourceVersion=" + rv + "&fieldSelector=metadata.name%3Dshop");
  req.headers.emplace("accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
  const HttpResponse r = Do(req);
  Recorder rec(1);
  r.stream(rec);
  const std::vector<json> events = rec.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "MODIFIED");
  EXPECT_EQ(events[0]["object"]["kind"], "Table");
  EXPECT_EQ(events[0]["object"]["rows"][0]["cells"][0], "shop");
  EXPECT_EQ(events[0]["object"]["metadata"]["resourceVersion"],
            std::to_string(store_.ResourceVersion()));
}

TEST_F(ApiTest, WatchFromATooOldVersionIsAnExpiredError) {
  for (size_t i = 0; i < source::Store::kHistory + 2; ++i) {
    ASSERT_TRUE(
        store_.Apply(fakes::FakeResource(i % 2 ? api::Color::kGreen : api::Color::kBlue), "api")
            .ok());
  }
  const HttpResponse r = Do(Req("GET", kDcs + "?watch=true&resourceVersion=1"));
  Recorder rec;
  r.stream(rec);
  ASSERT_EQ(rec.Events().size(), 1u);
  const json e = rec.Events()[0];
  EXPECT_EQ(e["type"], "ERROR");
  EXPECT_EQ(e["object"]["code"], 410);
  EXPECT_EQ(e["object"]["reason"], "Expired");
  const HttpResponse future = Do(Req("GET", kDcs + "?watch=true&resourceVersion=999999"));
  Recorder rec2;
  future.stream(rec2);
  EXPECT_EQ(rec2.Events().at(0)["type"], "ERROR");
}

// As in Kubernetes: for a watch with a label selector, an object whose labels stop matching
// is DELETED, one whose labels start matching ADDED, one it never matched is not shown.
TEST_F(ApiTest, ASelectorsWatchSeesObjectsLeaveAndEnter) {
  json shop = ShopJson();
  shop["metadata"]["labels"] = {{"team", "shop"}};
  ASSERT_EQ(Do(Req("POST", kDcs, shop.dump(), "application/json")).status, 201);
  const HttpResponse w = Do(Req("GET", kDcs + "?watch=true&labelSelector=team%3Dshop"));
  Recorder rec(3);  // ADDED (initial), DELETED, ADDED
  std::thread t([&] { w.stream(rec); });
  ASSERT_TRUE(AwaitEvents(rec, 1));
  auto relabel = [&](const std::string& team) {
    const std::string patch = json{{"metadata", {{"labels", {{"team", team}}}}}}.dump();
    ASSERT_EQ(Do(Req("PATCH", kShop, patch, "application/merge-patch+json")).status, 200);
  };
  relabel("cart");  // leaves the selection
  ASSERT_TRUE(AwaitEvents(rec, 2));
  relabel("cart2");  // still outside: nothing
  relabel("shop");   // enters it again
  t.join();
  const std::vector<json> events = rec.Events();
  EXPECT_EQ(Types(events), (std::vector<std::string>{"ADDED", "DELETED", "ADDED"}));
  EXPECT_EQ(events.at(1)["object"]["metadata"]["labels"]["team"], "cart");
  EXPECT_EQ(events.at(2)["object"]["metadata"]["labels"]["team"], "shop");
}

// Timing on the real clock: heartbeats every 20 ms.
class WatchTimingTest : public ApiTest {
 protected:
  static ApiOptions Fast(int max_watches = 32) {
    ApiOptions o = Options();
    o.watch_heartbeat = std::chrono::milliseconds(20);
    o.max_watches = max_watches;
    return o;
  }
  static void AwaitHeartbeat(Recorder& rec) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rec.Heartbeats() < 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ApiHandler real_{store_, util::RealClock::Get(), [] { return true; }, Fast()};
};

TEST_F(WatchTimingTest, EndsAtTimeoutSeconds) {
  const auto t0 = std::chrono::steady_clock::now();
  const HttpResponse r = real_.Handle(Req("GET", kDcs + "?watch=true&timeoutSeconds=1"));
  Recorder rec;
  r.stream(rec);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(990));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(rec.Events().empty());
  EXPECT_GE(rec.Heartbeats(), 5);  // idle: whitespace keeps the connection honest
}

TEST_F(WatchTimingTest, EndsWhenTheServerStopsOrTheClientIsGone) {
  const HttpResponse r = real_.Handle(Req("GET", kDcs + "?watch=true"));
  Recorder stopping;
  std::thread t([&] { r.stream(stopping); });
  AwaitHeartbeat(stopping);
  stopping.open_ = false;
  t.join();

  Recorder gone(SIZE_MAX, 3);  // the third heartbeat fails
  real_.Handle(Req("GET", kDcs + "?watch=true")).stream(gone);
  EXPECT_EQ(gone.Heartbeats(), 3);
}

TEST_F(WatchTimingTest, TooManyWatchesIs429) {
  ApiHandler one(
      store_, util::RealClock::Get(), [] { return true; }, Fast(1));
  {
    const HttpResponse first = one.Handle(Req("GET", kDcs + "?watch=true"));
    Recorder rec;
    std::thread t([&] { first.stream(rec); });
    AwaitHeartbeat(rec);
    const HttpResponse second = one.Handle(Req("GET", kDcs + "?watch=true"));
    EXPECT_EQ(second.headers.at(0).first, "Retry-After");
    ExpectStatus(second, 429, "TooManyRequests");
    rec.open_ = false;
    t.join();
  }  // the first answer is gone: its slot is free
  EXPECT_EQ(one.Handle(Req("GET", kDcs + "?watch=true")).status, 200);
}

// The cap is counted when the answer is made, not when its stream starts: two requests in
// flight at once cannot both take the last slot.
TEST_F(WatchTimingTest, TheCapCountsAnswersNotYetStreaming) {
  ApiHandler one(
      store_, util::RealClock::Get(), [] { return true; }, Fast(1));
  const HttpResponse first = one.Handle(Req("GET", kDcs + "?watch=true"));
  const HttpResponse second = one.Handle(Req("GET", kDcs + "?watch=true"));
  EXPECT_EQ(first.status, 200);
  ExpectStatus(second, 429, "TooManyRequests");
}

}  // namespace
}  // namespace sy::server::testing
