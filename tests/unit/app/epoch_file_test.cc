#include "pkg/app/epoch_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <sstream>

#include "pkg/app/app.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"

namespace sy::app {
namespace {

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(EpochFileTest, FirstUseMakesARandomEraAtRevZero) {
  fakes::TempDir dir;
  absl::StatusOr<agent::Epoch> e = ReadEpoch(dir.path);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(std::regex_match(e->era, std::regex("[0-9a-f]{32}"))) << e->era;
  EXPECT_EQ(e->rev, 0);
  struct stat st {};
  ASSERT_EQ(::stat(EpochPath(dir.path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*util::ReadFile(EpochPath(dir.path)), "{\"era\":\"" + e->era + "\",\"rev\":\"0\"}\n");
  // Read again: the same epoch, nothing else left in the directory.
  EXPECT_EQ(*ReadEpoch(dir.path), *e);
  EXPECT_EQ(Files(dir.path), std::vector<std::string>{"epoch.json"});
  // Another directory is another line of controllers.
  fakes::TempDir other;
  EXPECT_NE(ReadEpoch(other.path)->era, e->era);
}

TEST(EpochFileTest, EachStartTakesTheNextRevDurably) {
  fakes::TempDir dir;
  const std::string era = ReadEpoch(dir.path)->era;
  for (int64_t want = 1; want <= 3; ++want) {
    absl::StatusOr<agent::Epoch> e = TakeNextEpoch(dir.path);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(*e, (agent::Epoch{era, want}));
    // On disk before it is returned, and without a temporary file left behind.
    EXPECT_EQ(*util::ReadFile(EpochPath(dir.path)),
              "{\"era\":\"" + era + "\",\"rev\":\"" + std::to_string(want) + "\"}\n");
    EXPECT_EQ(Files(dir.path), std::vector<std::string>{"epoch.json"});
  }
}

TEST(EpochFileTest, AnExistingFileIsNeverReplaced) {
  fakes::TempDir dir;
  ASSERT_TRUE(
      util::WriteFileAtomically(EpochPath(dir.path), R"({"era":"abc","rev":"41"})", 0600).ok());
  EXPECT_EQ(*ReadEpoch(dir.path), (agent::Epoch{"abc", 41}));
  EXPECT_EQ(*TakeNextEpoch(dir.path), (agent::Epoch{"abc", 42}));
}

TEST(EpochFileTest, AnUnreadableEpochIsAnErrorAndStaysAsItWas) {
  fakes::TempDir dir;
  for (const std::string bad : {"{", R"({"era":"abc","rev":7})", R"({"era":"","rev":"7"})",
                                R"({"era":"abc","rev":"-1"})"}) {
    ASSERT_TRUE(util::WriteFileAtomically(EpochPath(dir.path), bad, 0600).ok());
    absl::StatusOr<agent::Epoch> e = TakeNextEpoch(dir.path);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(e.status().message().find(EpochPath(dir.path)), std::string::npos) << e.status();
    EXPECT_EQ(*util::ReadFile(EpochPath(dir.path)), bad);
  }
}

TEST(EpochFileTest, SwitchyardEpochPrintsOneJsonLine) {
  fakes::TempDir dir;
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(PrintEpoch(dir.path, out, err), 0) << err.str();
  const agent::Epoch e = *ReadEpoch(dir.path);
  EXPECT_EQ(out.str(), "{\"era\":\"" + e.era + "\",\"epoch\":\"0\"}\n");
  ASSERT_TRUE(TakeNextEpoch(dir.path).ok());
  out.str("");
  ASSERT_EQ(PrintEpoch(dir.path, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "{\"era\":\"" + e.era + "\",\"epoch\":\"1\"}\n");
  EXPECT_EQ(PrintEpoch("relative/dir", out, err), 2);
  EXPECT_NE(err.str().find("absolute"), std::string::npos) << err.str();
}

// The daemon takes the next rev at each start, before anything else talks to an agent.
TEST(EpochFileTest, EveryDaemonStartRaisesTheRev) {
  fakes::TempDir dir;
  Options o;
  o.state_dir = dir.path;
  o.listen = "";
  o.once = true;
  o.once_timeout = std::chrono::seconds(5);
  const std::atomic<bool> stop{false};
  ASSERT_EQ(app::Run(o, stop), 0);
  const agent::Epoch first = *ReadEpoch(dir.path);
  EXPECT_EQ(first.rev, 1);
  ASSERT_EQ(app::Run(o, stop), 0);
  EXPECT_EQ(*ReadEpoch(dir.path), (agent::Epoch{first.era, 2}));
  // Agent flags that do not go together are refused before the epoch is taken.
  o.agent_cert = "/etc/hostname";
  EXPECT_EQ(app::Run(o, stop), 2);
  EXPECT_EQ(ReadEpoch(dir.path)->rev, 2);
}

TEST(AgentsOfTest, EveryAddressTheResourcesNameOnce) {
  std::vector<api::DeploymentColor> dcs(2);
  dcs[0].spec.blue.database.agent = "10.0.0.1:9754";
  dcs[0].spec.green.database.agent = "10.0.0.2:9754";
  dcs[0].spec.nginx.agent = "10.0.0.3:9754";
  dcs[1].spec.blue.database.agent = "10.0.0.2:9754";
  EXPECT_EQ(AgentsOf(dcs),
            (std::vector<std::string>{"10.0.0.1:9754", "10.0.0.2:9754", "10.0.0.3:9754"}));
  EXPECT_TRUE(AgentsOf({api::DeploymentColor{}}).empty());
}

}  // namespace
}  // namespace sy::app
