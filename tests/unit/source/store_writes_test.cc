// Tests of the Store's checked writes (what the API relies on: existence, resourceVersion
// preconditions, file-owned objects, dry runs, deletes) and of its change history (watch).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pkg/source/store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::source {
namespace {

using api::Color;
using Exists = WriteOptions::Exists;

const std::string kKey = "default/shop";

class StoreWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    store_ = std::make_unique<Store>(dir_, clock_);
    ASSERT_TRUE(store_->Load().ok());
    store_->OnChange([this](const std::string& key) { changes_.push_back(key); });
  }
  api::DeploymentColor Put(Color c, const std::string& source = std::string(kApiSource),
                           const WriteOptions& o = {}) {
    auto out = store_->Apply(fakes::FakeResource(c), source, o);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : api::DeploymentColor{};
  }
  bool Persisted() const { return std::filesystem::exists(dir_ + "/objects/default_shop.json"); }

  fakes::FakeClock clock_;
  fakes::TempDir tmp_{"store_writes_test"};
  const std::string dir_ = tmp_.path;
  std::unique_ptr<Store> store_;
  std::vector<std::string> changes_;
};

TEST(SourceTest, FileSourceNamesFileAndCommit) {
  EXPECT_EQ(FileSource("/g/shop.yaml", ""), "/g/shop.yaml");
  const std::string s = FileSource("/g/shop.yaml", "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(s, "/g/shop.yaml (commit 0123456789abcdef0123456789abcdef01234567)");
  EXPECT_EQ(SourceFile(s), "/g/shop.yaml");
  EXPECT_EQ(SourceFile("/g/shop.yaml"), "/g/shop.yaml");
  EXPECT_EQ(SourceFile(std::string(kApiSource)), "");
  EXPECT_EQ(SourceFile(""), "");
}

TEST_F(StoreWritesTest, MustNotExistRefusesASecondCreate) {
  Put(Color::kBlue, "api", {.exists = Exists::kMustNotExist});
  auto again = store_->Apply(fakes::FakeResource(), "api", {.exists = Exists::kMustNotExist});
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_EQ(again.status().message(), "deploymentcolors.switchyard.dev \"shop\" already exists");
}

TEST_F(StoreWritesTest, MustExistRefusesACreate) {
  auto out = store_->Apply(fakes::FakeResource(), "api", {.exists = Exists::kMustExist});
  EXPECT_TRUE(absl::IsNotFound(out.status())) << out.status();
  EXPECT_FALSE(store_->Get(kKey));
  EXPECT_FALSE(Persisted());
}

TEST_F(StoreWritesTest, ResourceVersionPrecondition) {
  const auto first = Put(Color::kBlue);
  const auto second =
      Put(Color::kGreen, "api", {.resource_version = first.metadata.resource_version});
  EXPECT_EQ(second.spec.active_color, Color::kGreen);
  auto stale = store_->Apply(fakes::FakeResource(Color::kBlue), "api",
                             {.resource_version = first.metadata.resource_version});
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_NE(stale.status().message().find("the object has been modified"), std::string::npos);
  EXPECT_EQ(store_->Get(kKey)->spec.active_color, Color::kGreen);
}

TEST_F(StoreWritesTest, ApiWritesRefuseFileOwnedObjects) {
  Put(Color::kBlue, FileSource("/g/shop.yaml", "abc"));
  auto out = store_->Apply(fakes::FakeResource(Color::kGreen), "api", {.from_api = true});
  ASSERT_TRUE(absl::IsPermissionDenied(out.status())) << out.status();
  EXPECT_NE(out.status().message().find("/g/shop.yaml (commit abc)"), std::string::npos);
  auto del = store_->Delete(kKey, {.from_api = true});
  EXPECT_TRUE(absl::IsPermissionDenied(del.status())) << del.status();
  EXPECT_EQ(store_->Get(kKey)->spec.active_color, Color::kBlue);
  // The manifest source itself may change it, and an API object is the API's.
  Put(Color::kGreen, FileSource("/g/shop.yaml", "def"));
  Put(Color::kBlue, "api");
  EXPECT_TRUE(store_->Apply(fakes::FakeResource(Color::kGreen), "api", {.from_api = true}).ok());
}

TEST_F(StoreWritesTest, DryRunStoresNothing) {
  auto created = store_->Apply(fakes::FakeResource(), "api", {.dry_run = true});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->metadata.generation, 1);
  EXPECT_FALSE(created->metadata.uid.empty());
  EXPECT_FALSE(store_->Get(kKey));
  EXPECT_FALSE(Persisted());
  EXPECT_EQ(store_->ResourceVersion(), 0);
  EXPECT_TRUE(changes_.empty());

  const auto stored = Put(Color::kBlue);
  changes_.clear();
  auto changed = store_->Apply(fakes::FakeResource(Color::kGreen), "api", {.dry_run = true});
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->spec.active_color, Color::kGreen);
  EXPECT_EQ(changed->metadata.generation, 2);
  EXPECT_EQ(*store_->Get(kKey), stored);
  auto deleted = store_->Delete(kKey, {.dry_run = true});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*store_->Get(kKey), stored);
  EXPECT_TRUE(Persisted());
  EXPECT_TRUE(changes_.empty());
}

TEST_F(StoreWritesTest, DeleteRemovesAndReturnsTheObject) {
  Put(Color::kBlue);
  changes_.clear();
  auto gone = store_->Delete(kKey, {.from_api = true});
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->metadata.name, "shop");
  EXPECT_FALSE(store_->Get(kKey));
  EXPECT_FALSE(Persisted());
  EXPECT_EQ(changes_, std::vector<std::string>{kKey});
  EXPECT_TRUE(absl::IsNotFound(store_->Delete(kKey, {}).status()));
}

TEST_F(StoreWritesTest, LabelsAndOtherAnnotationsKeepTheGeneration) {
  Put(Color::kBlue);
  api::DeploymentColor dc = fakes::FakeResource();
  dc.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}";
  dc.metadata.labels["team"] = "shop";
  auto out = store_->Apply(dc, "api");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->metadata.generation, 1);
  dc.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] = "blue@tli=1,lsn=0/3000148";
  EXPECT_EQ(store_->Apply(dc, "api")->metadata.generation, 2);
}

TEST_F(StoreWritesTest, StatusWritesKeepTheSource) {
  Put(Color::kBlue, "/g/shop.yaml");
  api::DeploymentColorStatus st;
  st.phase = "Converged";
  st.source = "stale";
  ASSERT_TRUE(store_->WriteStatus(kKey, st).ok());
  EXPECT_EQ(store_->Get(kKey)->status.source, "/g/shop.yaml");
  EXPECT_EQ(store_->Get(kKey)->status.phase, "Converged");
}

TEST_F(StoreWritesTest, EveryWriteIsAnEventInOrder) {
  const int64_t start = store_->ResourceVersion();
  Put(Color::kBlue);
  api::DeploymentColorStatus st;
  st.phase = "Progressing";
  ASSERT_TRUE(store_->WriteStatus(kKey, st).ok());
  Put(Color::kGreen);
  ASSERT_TRUE(store_->Remove(kKey).ok());

  auto events = store_->EventsAfter(start, std::chrono::milliseconds(0));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].type, Event::Type::kAdded);
  EXPECT_EQ((*events)[1].type, Event::Type::kModified);
  EXPECT_EQ((*events)[1].object.status.phase, "Progressing");
  EXPECT_EQ((*events)[2].object.spec.active_color, Color::kGreen);
  EXPECT_EQ((*events)[3].type, Event::Type::kDeleted);
  EXPECT_EQ((*events)[3].object.metadata.resource_version,
            std::to_string(store_->ResourceVersion()));
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].object.metadata.resource_version, std::to_string(start + 1 + i));
  }
  auto later = store_->EventsAfter(start + 2, std::chrono::milliseconds(0));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->size(), 2u);
}

TEST_F(StoreWritesTest, EventsAfterWaitsForTheNextWrite) {
  const int64_t rv = store_->ResourceVersion();
  std::thread writer([&] { Put(Color::kBlue); });
  auto events = store_->EventsAfter(rv, std::chrono::seconds(10));
  writer.join();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  auto none = store_->EventsAfter(store_->ResourceVersion(), std::chrono::milliseconds(1));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreWritesTest, EventsBeyondTheHistoryAreOutOfRange) {
  EXPECT_TRUE(absl::IsOutOfRange(store_->EventsAfter(5, std::chrono::milliseconds(0)).status()));
  for (size_t i = 0; i <= Store::kHistory; ++i) Put(i % 2 ? Color::kGreen : Color::kBlue);
  EXPECT_TRUE(absl::IsOutOfRange(store_->EventsAfter(0, std::chrono::milliseconds(0)).status()));
  auto recent = store_->EventsAfter(store_->ResourceVersion() - 3, std::chrono::milliseconds(0));
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->size(), 3u);
}

TEST_F(StoreWritesTest, ApiObjectsSurviveARestart) {
  const auto created = Put(Color::kGreen);
  Store again(dir_, clock_);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_TRUE(again.Get(kKey));
  EXPECT_EQ(*again.Get(kKey), created);
  EXPECT_EQ(again.ResourceVersion(), store_->ResourceVersion());
  // No history before the restart: a watcher must list again.
  EXPECT_TRUE(absl::IsOutOfRange(again.EventsAfter(0, std::chrono::milliseconds(0)).status()));
  EXPECT_TRUE(again.EventsAfter(again.ResourceVersion(), std::chrono::milliseconds(0)).ok());
}

}  // namespace
}  // namespace sy::source
