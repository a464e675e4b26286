// PqxxPostgresObserver over a scripted PgClient: a server too old for the observation query is
// reported as such (its version, what Switchyard needs), not as the function it lacks.
#include "pkg/observe/pqxx_postgres_observer.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_postgres_host.h"

namespace sy::observe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Answers the observation query with `observe_error` and the version query with `version`.
class ScriptedPgClient final : public host::PgClient {
 public:
  ScriptedPgClient(absl::Status observe_error, host::PgRow version)
      : observe_error_(std::move(observe_error)), version_(std::move(version)) {}

  void Drop(const host::PgEndpoint&) override {}
  const std::vector<std::string>& Sent() const { return sent_; }

 private:
  absl::StatusOr<std::vector<host::PgRow>> RunStatement(const host::PgEndpoint&,
                                                        const std::string& sql,
                                                        const std::vector<std::string>&,
                                                        std::chrono::milliseconds) override {
    sent_.push_back(sql);
    // The observation query asks for server_version_num too: told apart by what 13 lacks.
    if (absl::StrContains(sql, "pg_get_wal_replay_pause_state")) return observe_error_;
    if (absl::StrContains(sql, "server_version_num")) return std::vector<host::PgRow>{version_};
    return absl::InvalidArgumentError("not scripted: " + sql);
  }

  absl::Status observe_error_;
  host::PgRow version_;
  std::vector<std::string> sent_;
};

api::DeploymentColorSpec Spec() {
  api::DeploymentColorSpec spec;
  spec.blue.database = {"127.0.0.1", 15433, "/srv/pg/blue"};
  spec.green.database = {"127.0.0.1", 15434, "/srv/pg/green"};
  spec.database.user = "switchyard";
  spec.database.bin_directory = "/usr/lib/postgresql/15/bin";
  return spec;
}

const absl::Status kMissingFunction = absl::InvalidArgumentError(
    "127.0.0.1:15433: ERROR:  function pg_get_wal_replay_pause_state() does not exist (SQLSTATE "
    "42883)");

TEST(PqxxPostgresObserverTest, AServerOlderThan14IsNamedWithItsVersion) {
  ScriptedPgClient pg(kMissingFunction, {"130011", "13.11"});
  fakes::FakePostgresHost host;
  host.Directory("/srv/pg/blue");
  PqxxPostgresObserver observer(pg, host);
  const absl::StatusOr<model::ServerState> s = observer.Observe(Spec(), api::Color::kBlue);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("observing blue (127.0.0.1:15433)"));
  EXPECT_THAT(s.status().message(), HasSubstr("PostgreSQL 13.11"));
  EXPECT_THAT(s.status().message(), HasSubstr("14 or later"));
  EXPECT_EQ(pg.Sent().size(), 2u);  // the observation, then the version
}

// On a supported version the same failure is what it is: a bug or a misconfiguration.
TEST(PqxxPostgresObserverTest, ASupportedServerReportsTheQueryError) {
  ScriptedPgClient pg(kMissingFunction, {"150004", "15.4"});
  fakes::FakePostgresHost host;
  PqxxPostgresObserver observer(pg, host);
  const absl::StatusOr<model::ServerState> s = observer.Observe(Spec(), api::Color::kBlue);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("pg_get_wal_replay_pause_state() does not exist"));
  EXPECT_THAT(s.status().message(), Not(HasSubstr("14 or later")));
}

// A server that does not answer is data, not an error; its version is not asked.
TEST(PqxxPostgresObserverTest, AnUnreachableServerIsNotAskedItsVersion) {
  ScriptedPgClient pg(absl::UnavailableError("connecting to 127.0.0.1:15433: refused"),
                      {"130011", "13.11"});
  fakes::FakePostgresHost host;
  PqxxPostgresObserver observer(pg, host);
  const absl::StatusOr<model::ServerState> s = observer.Observe(Spec(), api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->reachable);
  EXPECT_THAT(s->error, HasSubstr("refused"));
  EXPECT_EQ(pg.Sent().size(), 1u);
}

}  // namespace
}  // namespace sy::observe
