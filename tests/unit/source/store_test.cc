// Tests of Store: server-set metadata, generation and resourceVersion rules, status writes,
// persistence in a state directory, invalid marks and change notifications.
#include "pkg/source/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::source {
namespace {

using api::Color;

const std::string kKey = "default/shop";

// A directory under /tmp, removed with everything in it at the end of the test.
struct TempDir : fakes::TempDir {
  TempDir() : fakes::TempDir("store_test") {}
};

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path.empty());
    ASSERT_TRUE(store_.Load().ok());
    store_.OnChange([this](const std::string& key) { changes_.push_back(key); });
  }
  api::DeploymentColor Apply(const api::DeploymentColor& dc, const std::string& source = "a.yaml") {
    auto out = store_.Apply(dc, source);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : api::DeploymentColor{};
  }
  std::string FileOf(const std::string& name) {
    return tmp_.path + "/objects/default_" + name + ".json";
  }

  fakes::FakeClock clock_;
  TempDir tmp_;
  Store store_{tmp_.path, clock_};
  std::vector<std::string> changes_;
};

TEST_F(StoreTest, ApplyCreatesWithServerSetMetadata) {
  const api::DeploymentColor in = fakes::FakeResource(Color::kBlue);
  const api::DeploymentColor out = Apply(in);
  EXPECT_EQ(out.metadata.generation, 1);
  EXPECT_EQ(out.metadata.uid.size(), 36u) << out.metadata.uid;
  EXPECT_EQ(out.metadata.creation_timestamp, util::FormatRfc3339(clock_.Now()));
  EXPECT_FALSE(out.metadata.resource_version.empty());
  EXPECT_EQ(out.spec, in.spec);
  EXPECT_EQ(out.status.source, "a.yaml");
  EXPECT_EQ(store_.Get(kKey), out);
  EXPECT_EQ(changes_, std::vector<std::string>{kKey});

  // Another object gets another uid.
  api::DeploymentColor cart = in;
  cart.metadata.name = "cart";
  EXPECT_NE(Apply(cart).metadata.uid, out.metadata.uid);
}

TEST_F(StoreTest, ReapplyingTheSameSpecChangesNothing) {
  const api::DeploymentColor first = Apply(fakes::FakeResource());
  changes_.clear();
  const api::DeploymentColor again = Apply(fakes::FakeResource());
  EXPECT_EQ(again, first);
  EXPECT_EQ(store_.Get(kKey), first);
  EXPECT_TRUE(changes_.empty());
}

TEST_F(StoreTest, SpecChangeBumpsGenerationAndResourceVersion) {
  const api::DeploymentColor first = Apply(fakes::FakeResource(Color::kBlue));
  const api::DeploymentColor second = Apply(fakes::FakeResource(Color::kGreen));
  EXPECT_EQ(second.metadata.generation, 2);
  EXPECT_NE(second.metadata.resource_version, first.metadata.resource_version);
  EXPECT_EQ(second.metadata.uid, first.metadata.uid);
  EXPECT_EQ(second.metadata.creation_timestamp, first.metadata.creation_timestamp);
  EXPECT_EQ(second.spec.active_color, Color::kGreen);

  // Annotations are part of the desired state too (the discard permission is one).
  api::DeploymentColor annotated = fakes::FakeResource(Color::kGreen);
  annotated.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] =
      "blue@tli=1,lsn=0/3000148";
  EXPECT_EQ(Apply(annotated).metadata.generation, 3);
}

TEST_F(StoreTest, LabelChangeBumpsOnlyResourceVersion) {
  const api::DeploymentColor first = Apply(fakes::FakeResource());
  api::DeploymentColor labeled = fakes::FakeResource();
  labeled.metadata.labels["team"] = "shop";
  const api::DeploymentColor second = Apply(labeled);
  EXPECT_EQ(second.metadata.generation, 1);
  EXPECT_NE(second.metadata.resource_version, first.metadata.resource_version);
  EXPECT_EQ(second.metadata.labels.at("team"), "shop");
}

TEST_F(StoreTest, ApplyKeepsTheStatus) {
  Apply(fakes::FakeResource(Color::kBlue));
  api::DeploymentColorStatus st;
  st.phase = "Converged";
  st.serving_color = "blue";
  st.source = "a.yaml";
  ASSERT_TRUE(store_.WriteStatus(kKey, st).ok());
  EXPECT_EQ(Apply(fakes::FakeResource(Color::kGreen)).status, st);
}

TEST_F(StoreTest, WriteStatusPersistsOnlyOnChangeAndNotifiesNobody) {
  const api::DeploymentColor created = Apply(fakes::FakeResource());
  changes_.clear();
  api::DeploymentColorStatus st = created.status;
  st.phase = "Progressing";
  ASSERT_TRUE(store_.WriteStatus(kKey, st).ok());
  const std::string rv = store_.Get(kKey)->metadata.resource_version;
  EXPECT_NE(rv, created.metadata.resource_version);
  EXPECT_EQ(store_.Get(kKey)->status, st);
  const ino_t inode = StatOf(FileOf("shop")).st_ino;  // an atomic rewrite makes a new file

  ASSERT_TRUE(store_.WriteStatus(kKey, st).ok());
  EXPECT_EQ(store_.Get(kKey)->metadata.resource_version, rv);
  EXPECT_EQ(StatOf(FileOf("shop")).st_ino, inode);

  st.phase = "Converged";
  ASSERT_TRUE(store_.WriteStatus(kKey, st).ok());
  EXPECT_NE(StatOf(FileOf("shop")).st_ino, inode);
  // Status writes must not requeue the resource: the controller writes one every pass.
  EXPECT_TRUE(changes_.empty());

  EXPECT_TRUE(absl::IsNotFound(store_.WriteStatus("default/nope", st)));
}

TEST_F(StoreTest, LoadRoundTripsEverything) {
  api::DeploymentColor shop = fakes::FakeResource(Color::kGreen);
  shop.metadata.labels["team"] = "shop";
  shop.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] = "blue@tli=1,lsn=0/3000148";
  Apply(shop);
  api::DeploymentColor cart = fakes::FakeResource();
  cart.metadata.name = "cart";
  cart.metadata.namespace_ = "retail";
  Apply(cart, "b.yaml");
  api::DeploymentColorStatus st = store_.Get(kKey)->status;
  st.phase = "Converged";
  st.conditions.push_back({"Ready", "True", "Converged", "ok", "2026-11-26T17:00:00Z", 1});
  st.last_switchover =
      api::Switchover{"blue", "green", "2026-11-26T17:00:00.120Z", "2026-11-26T17:00:00.400Z", 80};
  ASSERT_TRUE(store_.WriteStatus(kKey, st).ok());

  Store reloaded(tmp_.path, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.List(), store_.List());

  // The resourceVersion counter continues past the persisted ones.
  api::DeploymentColor web = fakes::FakeResource();
  web.metadata.name = "web";
  auto applied = reloaded.Apply(web, "c.yaml");
  ASSERT_TRUE(applied.ok());
  for (const auto& dc : store_.List()) {
    EXPECT_GT(std::stoll(applied->metadata.resource_version),
              std::stoll(dc.metadata.resource_version));
  }
}

TEST_F(StoreTest, AnUndecodableStateFileIsQuarantinedAndTheRestLoad) {
  Apply(fakes::FakeResource());
  { std::ofstream(FileOf("broken")) << "{\"apiVersion\": "; }
  Store reloaded(tmp_.path, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.List().size(), 1u);  // the daemon starts with what it can read
  const std::vector<QuarantinedFile> q = reloaded.Quarantined();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].file, FileOf("broken"));
  EXPECT_EQ(q[0].moved_to, tmp_.path + "/quarantine/default_broken.json." +
                               std::to_string(std::chrono::system_clock::to_time_t(clock_.Now())));
  EXPECT_NE(q[0].reason.find("cannot be decoded"), std::string::npos) << q[0].reason;
  EXPECT_FALSE(util::PathExists(FileOf("broken")));
  EXPECT_EQ(*util::ReadFile(q[0].moved_to), "{\"apiVersion\": ");
  EXPECT_EQ(StatOf(tmp_.path + "/quarantine").st_mode & 0777, 0700u);
}

// A copy of an object's file under another name (left by hand, or by a restore) must not
// bring the object back once it is deleted.
TEST_F(StoreTest, AStrayCopyOfAnObjectFileIsNotResurrected) {
  Apply(fakes::FakeResource());
  std::filesystem::copy_file(FileOf("shop"), tmp_.path + "/objects/default_shop.copy.json");
  ASSERT_TRUE(store_.Remove(kKey).ok());
  Store reloaded(tmp_.path, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(reloaded.Get(kKey).has_value());
  ASSERT_EQ(reloaded.Quarantined().size(), 1u);
  EXPECT_NE(reloaded.Quarantined()[0].reason.find("holds default/shop"), std::string::npos);
}

// Deleting the object with the highest resourceVersion and restarting must not hand out that
// version again: a resumed watch would miss events, a stale PUT could pass.
TEST_F(StoreTest, ResourceVersionNeverGoesBackAcrossARestart) {
  Apply(fakes::FakeResource());
  api::DeploymentColor cart = fakes::FakeResource();
  cart.metadata.name = "cart";
  Apply(cart);
  ASSERT_TRUE(store_.Remove("default/cart").ok());
  const int64_t before = store_.ResourceVersion();
  Store reloaded(tmp_.path, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.ResourceVersion(), before);
  auto again = reloaded.Apply(cart, "a.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_GT(std::stoll(again->metadata.resource_version), before);
  EXPECT_EQ(StatOf(tmp_.path + "/resource-version").st_mode & 0777, 0600u);
}

// A pass that read one incarnation must not write its status onto the next one.
TEST_F(StoreTest, StatusOfAnOldIncarnationIsRefused) {
  const std::string old_uid = Apply(fakes::FakeResource()).metadata.uid;
  ASSERT_TRUE(store_.Remove(kKey).ok());
  const api::DeploymentColor fresh = Apply(fakes::FakeResource());
  api::DeploymentColorStatus st;
  st.phase = "Converged";
  EXPECT_TRUE(absl::IsAborted(store_.WriteStatus(kKey, st, old_uid)));
  EXPECT_EQ(store_.Get(kKey)->status.phase, "");
  EXPECT_TRUE(store_.WriteStatus(kKey, st, fresh.metadata.uid).ok());
  EXPECT_EQ(store_.Get(kKey)->status.phase, "Converged");
}

TEST_F(StoreTest, FilesArePrivate) {
  Apply(fakes::FakeResource());
  EXPECT_EQ(StatOf(FileOf("shop")).st_mode & 0777, 0600u);
  EXPECT_EQ(StatOf(tmp_.path + "/objects").st_mode & 0777, 0700u);
}

TEST_F(StoreTest, RemoveDeletesTheFile) {
  Apply(fakes::FakeResource());
  ASSERT_TRUE(util::PathExists(FileOf("shop")));
  changes_.clear();
  ASSERT_TRUE(store_.Remove(kKey).ok());
  EXPECT_FALSE(util::PathExists(FileOf("shop")));
  EXPECT_FALSE(store_.Get(kKey).has_value());
  EXPECT_TRUE(store_.List().empty());
  EXPECT_EQ(changes_, std::vector<std::string>{kKey});
  EXPECT_TRUE(store_.Remove(kKey).ok());  // idempotent

  Store reloaded(tmp_.path, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_TRUE(reloaded.List().empty());
}

TEST_F(StoreTest, MarkInvalidKeepsTheSpecUntilAValidApply) {
  const api::DeploymentColor valid = Apply(fakes::FakeResource(Color::kGreen));
  changes_.clear();
  ASSERT_TRUE(store_.MarkInvalid(kKey, "a.yaml", "a.yaml:7:16: spec.activeColor: bad").ok());
  const auto reason = store_.InvalidReason(kKey);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("a.yaml:7:16: spec.activeColor: bad"), std::string::npos) << *reason;
  EXPECT_EQ(store_.Get(kKey), valid);
  EXPECT_EQ(changes_, std::vector<std::string>{kKey});  // the controller reports it

  // The same valid manifest again clears the mark.
  Apply(fakes::FakeResource(Color::kGreen));
  EXPECT_EQ(store_.InvalidReason(kKey), std::nullopt);
  EXPECT_EQ(store_.Get(kKey)->spec, valid.spec);
  EXPECT_EQ(store_.InvalidReason("default/other"), std::nullopt);
}

TEST(MemoryStoreTest, WorksWithoutAStateDirectory) {
  fakes::FakeClock clock;
  Store store("", clock);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store.Apply(fakes::FakeResource(), "mem").ok());
  EXPECT_EQ(store.List().size(), 1u);
  EXPECT_TRUE(store.Remove(kKey).ok());
  EXPECT_TRUE(store.List().empty());
}

}  // namespace
}  // namespace sy::source
