// synchronous_standby_names as PostgreSQL 15 parses it, and the two rules built on it: a
// switch whose new primary could never be satisfied, and a primary whose commits wait.
#include "pkg/model/sync_rep.h"

#include <gtest/gtest.h>

namespace sy::model {
namespace {

SyncStandbys Priority(int n, std::vector<std::string> names) {
  return {false, n, std::move(names)};
}
SyncStandbys Quorum(int n, std::vector<std::string> names) { return {true, n, std::move(names)}; }

TEST(ParseSyncStandbys, TheFormsPostgresAccepts) {
  EXPECT_EQ(ParseSyncStandbys(""), SyncStandbys{});
  EXPECT_EQ(ParseSyncStandbys("green"), Priority(1, {"green"}));
  EXPECT_EQ(ParseSyncStandbys(" blue , green "), Priority(1, {"blue", "green"}));
  EXPECT_EQ(ParseSyncStandbys("*"), Priority(1, {"*"}));
  EXPECT_EQ(ParseSyncStandbys("2 (blue, green)"), Priority(2, {"blue", "green"}));
  EXPECT_EQ(ParseSyncStandbys("FIRST 1 (green)"), Priority(1, {"green"}));
  EXPECT_EQ(ParseSyncStandbys("first 2(a,b,c)"), Priority(2, {"a", "b", "c"}));
  EXPECT_EQ(ParseSyncStandbys("ANY 1 (*)"), Quorum(1, {"*"}));
  EXPECT_EQ(ParseSyncStandbys("any 1 (blue, \"Green\")"), Quorum(1, {"blue", "Green"}));
  // Quoted: keywords and any character are names; "" is one quote.
  EXPECT_EQ(ParseSyncStandbys("\"any\""), Priority(1, {"any"}));
  EXPECT_EQ(ParseSyncStandbys("\"a b\"\"c\""), Priority(1, {"a b\"c"}));
  // A bare number is a name, unless a list in parentheses follows.
  EXPECT_EQ(ParseSyncStandbys("2"), Priority(1, {"2"}));
  EXPECT_EQ(ParseSyncStandbys("s_1$x"), Priority(1, {"s_1$x"}));
}

TEST(ParseSyncStandbys, WhatPostgresRefuses) {
  for (const char* bad : {" ", "any", "ANY (a)", "ANY 1 a", "FIRST 1 (a", "1 (a) b", "0 (a)", "a,",
                          ",a", "a b", "\"a", "a;b", "1 ()", "ANY 0 (*)"}) {
    EXPECT_EQ(ParseSyncStandbys(bad), std::nullopt) << bad;
  }
}

TEST(SyncStandbysMatch, NamesIgnoreCaseAndStarMatchesAny) {
  EXPECT_TRUE(SyncStandbysMatch(Priority(1, {"GREEN"}), "green"));
  EXPECT_TRUE(SyncStandbysMatch(Priority(1, {"x", "*"}), "blue"));
  EXPECT_FALSE(SyncStandbysMatch(Priority(1, {"green"}), "blue"));
  EXPECT_FALSE(SyncStandbysMatch(SyncStandbys{}, "blue"));
}

ServerState WithSync(std::string names, std::string commit = "on") {
  ServerState s;
  s.reachable = true;
  s.sync.known = true;
  s.sync.standby_names = std::move(names);
  s.sync.synchronous_commit = std::move(commit);
  return s;
}

TEST(WhySyncStandbyUnsatisfiable, OnlyTheOtherColorCanStreamAfterTheSwitch) {
  // The case: the old primary's setting, copied to the new one, names the new one.
  const std::string why = WhySyncStandbyUnsatisfiable(WithSync("green"), "blue");
  EXPECT_NE(why.find("synchronous_standby_names = 'green'"), std::string::npos) << why;
  EXPECT_NE(why.find("names no standby that blue"), std::string::npos) << why;
  EXPECT_NE(WhySyncStandbyUnsatisfiable(WithSync("2 (blue, green)"), "blue").find("asks for 2"),
            std::string::npos);
  EXPECT_NE(WhySyncStandbyUnsatisfiable(WithSync("ANY 1 (x"), "blue"), "");
  ServerState unread;
  unread.reachable = true;
  EXPECT_NE(WhySyncStandbyUnsatisfiable(unread, "blue"), "");
  // Satisfiable by blue, or no wait at all.
  for (const char* ok : {"", "blue", "BLUE", "*", "ANY 1 (*)", "FIRST 1 (green, blue)"}) {
    EXPECT_EQ(WhySyncStandbyUnsatisfiable(WithSync(ok), "blue"), "") << ok;
  }
  EXPECT_EQ(WhySyncStandbyUnsatisfiable(WithSync("green", "local"), "blue"), "");
  EXPECT_EQ(WhySyncStandbyUnsatisfiable(WithSync("green", "off"), "blue"), "");
  EXPECT_NE(WhySyncStandbyUnsatisfiable(WithSync("green", "remote_apply"), "blue"), "");
}

TEST(WhyCommitsWait, TooFewSynchronousStandbysStream) {
  ServerState p = WithSync("ANY 1 (blue, green)");
  p.sync.source_file = "/etc/postgresql/15/main/postgresql.conf";
  const std::string why = WhyCommitsWait(p);
  EXPECT_NE(why.find("asks for 1 synchronous standby and 0 stream"), std::string::npos) << why;
  EXPECT_NE(why.find("(from /etc/postgresql/15/main/postgresql.conf)"), std::string::npos) << why;
  // A standby that streams but is not a synchronous one does not count.
  p.replication.push_back({"blue", "streaming", 0, "async"});
  EXPECT_NE(WhyCommitsWait(p), "");
  p.replication.back().sync_state = "quorum";
  EXPECT_EQ(WhyCommitsWait(p), "");
  p.sync.standby_names = "2 (blue, green)";
  p.replication.back().sync_state = "sync";
  EXPECT_NE(WhyCommitsWait(p).find("asks for 2 synchronous standbys and 1 streams"),
            std::string::npos);
  EXPECT_EQ(WhyCommitsWait(WithSync("")), "");
  EXPECT_EQ(WhyCommitsWait(WithSync("nobody", "local")), "");
}

TEST(WhyCommitsWait, CommitsWaitingLongerThanTheBound) {
  // E.g. the synchronous standby is frozen: it still shows as streaming and sync.
  ServerState p = WithSync("blue");
  p.replication.push_back({"blue", "streaming", 0, "sync"});
  p.sync.waiting_commits = 3;
  p.sync.longest_wait_ms = kCommitWaitBoundMs;  // not longer than the bound yet
  EXPECT_EQ(WhyCommitsWait(p), "");
  p.sync.longest_wait_ms = kCommitWaitBoundMs + 2'000;
  EXPECT_EQ(WhyCommitsWait(p),
            "3 commits have waited for a synchronous standby, the oldest for 7 s");
}

}  // namespace
}  // namespace sy::model
