// The sync-standby step over FakePgClient: ALTER SYSTEM, a reload, and a wait until the server
// shows the value (pkg/plan/README.md §17); idempotent; its failures reported with context.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/actuate/pg_step_fixture.h"

namespace sy::actuate {
namespace {

using ::testing::HasSubstr;

class PgSyncStepTest : public PgStepTest {
 protected:
  absl::Status SyncStandby(Color target, std::optional<Color> standby) {
    StepOutcome out;
    return actuator_.Run(dc_, model::Step{model::StepKind::kSyncStandby, target, standby}, &out);
  }
};

TEST_F(PgSyncStepTest, NamesTheStandbyOnTheServerAndWaitsUntilItShowsIt) {
  Server(Color::kGreen).sync_standby_names = "green";  // the copy of blue's configuration
  Server(Color::kGreen).polls_until_reloaded = 3;
  ASSERT_TRUE(SyncStandby(Color::kGreen, Color::kBlue).ok());
  EXPECT_EQ(Server(Color::kGreen).sync_standby_names_written, "\"blue\"");
  EXPECT_EQ(Server(Color::kGreen).sync_standby_names, "\"blue\"");  // applied, not only written
  EXPECT_EQ(Server(Color::kGreen).alter_systems, 1);
  // Done: nothing more.
  ASSERT_TRUE(SyncStandby(Color::kGreen, Color::kBlue).ok());
  EXPECT_EQ(Server(Color::kGreen).alter_systems, 1);
}

TEST_F(PgSyncStepTest, WithoutAStandbyItClearsTheSetting) {
  Server(Color::kBlue).sync_standby_names = "\"green\"";
  ASSERT_TRUE(SyncStandby(Color::kBlue, std::nullopt).ok());
  EXPECT_EQ(Server(Color::kBlue).sync_standby_names, "");
}

TEST_F(PgSyncStepTest, AReloadThatNeverAppliesIsUnavailable) {
  Server(Color::kBlue).polls_until_reloaded = -1;
  const absl::Status s = SyncStandby(Color::kBlue, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("still shows ''"));
  EXPECT_THAT(s.message(), HasSubstr("setting synchronous_standby_names of blue"));
}

TEST_F(PgSyncStepTest, FailuresNameTheServer) {
  pg_.FailNext(Address(Color::kBlue), "ALTER SYSTEM",
               absl::PermissionDeniedError("must be superuser to execute ALTER SYSTEM command"));
  absl::Status s = SyncStandby(Color::kBlue, Color::kGreen);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("setting synchronous_standby_names of blue (127.0.0.1:15433)"));
  EXPECT_EQ(Server(Color::kBlue).sync_standby_names, "");
  Server(Color::kBlue).reachable = false;
  s = SyncStandby(Color::kBlue, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
}

}  // namespace
}  // namespace sy::actuate
