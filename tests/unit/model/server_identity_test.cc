// Rule (server identity): a server is named by host and port. Across machines both colors
// listen on 5432, and a standby configured (or streaming) by port alone would pass for the
// other's; on one machine the port alone decides, as it always has there.
#include <gtest/gtest.h>

#include "pkg/model/topology.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::model {
namespace {

using api::Color;

// Each database on its own machine, both on 5432, through their agents.
api::DeploymentColorSpec TwoMachines() {
  api::DeploymentColorSpec spec = fakes::FakeSpec();
  spec.blue.database = {"10.0.0.1", 5432, "/var/lib/postgresql/15/main", "", "10.0.0.1:9754"};
  spec.green.database = {"10.0.0.2", 5432, "/var/lib/postgresql/15/main", "", "10.0.0.2:9754"};
  return spec;
}

// Green, stopped, configured as a standby of `host`:`port` through its own slot.
ServerState GreenFollowing(const std::string& host, int port) {
  ServerState s;
  s.color = Color::kGreen;
  s.data_directory_exists = true;
  s.control = ControlData{"shut down in recovery", 1, 0x3000028, 1, 0x3000100};
  s.startup.standby_signal = true;
  s.startup.primary_host = host;
  s.startup.primary_port = port;
  s.startup.primary_slot_name = SlotName(Color::kGreen);
  return s;
}

TEST(NamesServer, HostAndPortAcrossMachinesPortOnOne) {
  const api::DeploymentColorSpec two = TwoMachines();
  EXPECT_TRUE(NamesServer(two, Color::kBlue, "10.0.0.1", 5432));
  EXPECT_FALSE(NamesServer(two, Color::kBlue, "10.0.0.2", 5432));  // green's, same port
  EXPECT_FALSE(NamesServer(two, Color::kBlue, "10.0.0.1", 5433));
  EXPECT_FALSE(NamesServer(two, Color::kBlue, "", 5432));  // a local socket of the standby's
  api::DeploymentColorSpec named = two;
  named.blue.database.host = "DB-Blue.example";
  EXPECT_TRUE(NamesServer(named, Color::kBlue, "db-blue.EXAMPLE", 5432));  // case is no name
  EXPECT_FALSE(NamesServer(named, Color::kBlue, "10.0.0.1", 5432));        // never resolved

  // One machine (no agents): the port decides, whatever this machine is called.
  const api::DeploymentColorSpec one = fakes::FakeSpec();
  for (const char* host : {"127.0.0.1", "localhost", "/var/run/postgresql", ""}) {
    EXPECT_TRUE(NamesServer(one, Color::kBlue, host, 15433)) << host;
    EXPECT_FALSE(NamesServer(one, Color::kBlue, host, 15434)) << host;
  }
  // Both through one agent: one machine too.
  api::DeploymentColorSpec shared = fakes::FakeSpec();
  shared.blue.database.agent = shared.green.database.agent = "db:9754";
  EXPECT_TRUE(NamesServer(shared, Color::kBlue, "localhost", 15433));
}

TEST(ConfiguredToFollow, ByHostAndPortAcrossMachines) {
  const api::DeploymentColorSpec two = TwoMachines();
  EXPECT_TRUE(ConfiguredToFollow(GreenFollowing("10.0.0.1", 5432), two, Color::kBlue));
  // Configured to follow itself by port only (its own host, the port both use): not blue's.
  EXPECT_FALSE(ConfiguredToFollow(GreenFollowing("10.0.0.2", 5432), two, Color::kBlue));
  EXPECT_FALSE(ConfiguredToFollow(GreenFollowing("", 5432), two, Color::kBlue));
  // On one machine the port decides, as before.
  const api::DeploymentColorSpec one = fakes::FakeSpec();
  EXPECT_TRUE(ConfiguredToFollow(GreenFollowing("localhost", 15433), one, Color::kBlue));
  EXPECT_FALSE(ConfiguredToFollow(GreenFollowing("127.0.0.1", 15434), one, Color::kBlue));
}

TEST(StreamsFrom, TheSenderByHostAndPortAcrossMachines) {
  const api::DeploymentColorSpec two = TwoMachines();
  ServerState blue;
  blue.color = Color::kBlue;
  blue.reachable = true;
  ServerState green;
  green.color = Color::kGreen;
  green.reachable = green.in_recovery = true;
  green.receiver = WalReceiver{"streaming", "10.0.0.1", 5432, SlotName(Color::kGreen)};
  EXPECT_TRUE(StreamsFrom(green, blue, two));
  green.receiver->sender_host = "10.0.0.2";  // streaming from a server on its own machine
  EXPECT_FALSE(StreamsFrom(green, blue, two));
  green.receiver->sender_host = "";  // not shown: the port decides
  EXPECT_TRUE(StreamsFrom(green, blue, two));
  green.receiver->sender_port = 5433;
  EXPECT_FALSE(StreamsFrom(green, blue, two));
  // Seen by the primary, as before: it is the primary's own walsender.
  green.receiver.reset();
  blue.replication.push_back({"green", "streaming", 0});
  EXPECT_TRUE(StreamsFrom(green, blue, two));
}

// The fake cluster across two machines, both on 5432: the standby's configuration and its
// WAL receiver name the primary's host, and identity by host and port sees it streaming.
TEST(StreamsFrom, AFakeClusterOnTwoMachines) {
  const api::DeploymentColorSpec two = TwoMachines();
  fakes::FakeCluster cluster(two, Color::kBlue);
  const World w = cluster.ObserveWorld();
  EXPECT_EQ(w.green.startup.primary_host, "10.0.0.1");
  EXPECT_EQ(w.green.startup.primary_port, 5432);
  EXPECT_EQ(w.green.running_primary_host, "10.0.0.1");
  ASSERT_TRUE(w.green.receiver.has_value());
  EXPECT_EQ(w.green.receiver->sender_host, "10.0.0.1");
  EXPECT_TRUE(StreamsFrom(w.green, w.blue, two));
  EXPECT_TRUE(ConfiguredToFollow(w.green, two, Color::kBlue));
  EXPECT_FALSE(ConfiguredToFollow(w.green, two, Color::kGreen));
}

}  // namespace
}  // namespace sy::model
