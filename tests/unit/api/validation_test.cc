// api::ApplyDefaults and api::Validate, table-driven on edits of one valid resource.
#include "pkg/api/validation.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/api/valid_resource.h"

namespace sy::api {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

DeploymentColor Valid() { return testing::ValidResource(); }

struct Case {
  std::string name;
  std::function<void(DeploymentColor&)> edit;
  std::vector<FieldError> want;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

}  // namespace

// Found by ADL, so gMock prints errors legibly.
void PrintTo(const FieldError& e, std::ostream* os) { *os << e.field << ": " << e.message; }

namespace {

const std::string kLabel =
    "must be a DNS-1123 label (at most 63 of a-z, 0-9 and \"-\", alphanumeric at both ends), "
    "got ";
const std::string kPathChars = "must contain only letters, digits and \"._/+-\", got ";
const std::string kUserName =
    "must be a name of letters, digits, \"_\", \".\" and \"-\" (at most 63), got ";
const std::string kUpstream = "must be \"host:port\" with a port in 1..65535, got ";
const std::string kAgent =
    "must be \"host:port\" with a host and a port in 1..65535 (an IPv6 address in brackets, "
    "\"[::1]:9754\"), got ";
const std::string kConsent =
    "must be \"<color>@tli=<timeline>,lsn=<LSN>\" as the Ready condition gives it, e.g. "
    "\"green@tli=2,lsn=0/3000148\", got ";

std::vector<Case> Cases() {
  return {
      {"Valid", [](DeploymentColor&) {}, {}},
      {"ValidVariants",
       [](DeploymentColor& dc) {
         dc.metadata.name = std::string(63, 'a');
         dc.metadata.annotations[std::string(kAllowDiscardAnnotation)] =
             "blue@tli=12,lsn=1A/B374D848";
         dc.metadata.annotations[std::string(kAllowLosingLogicalSlotsAnnotation)] = "true";
         dc.spec.database.slot_retention_seconds = 0;
         dc.spec.blue.upstreams = {"app-1.blue.example.com:8080", "10.0.0.1:1"};
         dc.spec.green.upstreams = {"APP-2:65535"};
         dc.spec.green.database.host = "db.example";
         dc.spec.green.database.data_directory = "/tmp/switchyard-local/pg/blue2";
         dc.spec.nginx.binary = "/usr/local/nginx/sbin/nginx";
         dc.spec.nginx.upstream_name = "shop_v2.blue-green";
         dc.spec.nginx.probe.url = "http://localhost";
         dc.spec.nginx.probe.header = "X-Color!";
         dc.spec.nginx.probe.timeout_seconds = 3600;
         dc.spec.database.password_file = "/etc/switchyard/pg+pass";
         dc.spec.database.max_lag_bytes = 0;
         dc.spec.database.os_user = "postgres.15";
       },
       {}},
      {"WrongApiVersionAndKind",
       [](DeploymentColor& dc) {
         dc.api_version = "v1";
         dc.kind = "Deployment";
       },
       {{"apiVersion", R"(must be "switchyard.dev/v1alpha1", got "v1")"},
        {"kind", R"(must be "DeploymentColor", got "Deployment")"}}},
      {"BadNames",
       [](DeploymentColor& dc) {
         dc.metadata.name = "Shop";
         dc.metadata.namespace_ = std::string(64, 'a');
       },
       {{"metadata.name", kLabel + "\"Shop\""},
        {"metadata.namespace", kLabel + "\"" + std::string(64, 'a') + "\""}}},
      {"NameEndsWithDash",
       [](DeploymentColor& dc) { dc.metadata.name = "shop-"; },
       {{"metadata.name", kLabel + "\"shop-\""}}},
      {"DiscardAnnotation",
       [](DeploymentColor& dc) {
         dc.metadata.annotations[std::string(kAllowDiscardAnnotation)] = "both";
       },
       {{"metadata.annotations[switchyard.dev/allow-discard-diverged-writes]",
         kConsent + "\"both\""}}},
      // The old form, a bare color, would authorize every later discard of that color.
      {"DiscardAnnotationBareColorIsRefused",
       [](DeploymentColor& dc) {
         dc.metadata.annotations[std::string(kAllowDiscardAnnotation)] = "green";
       },
       {{"metadata.annotations[switchyard.dev/allow-discard-diverged-writes]",
         "must name the incident, not only a color: set the value the Ready condition gives, "
         "\"green@tli=<timeline>,lsn=<end of its WAL>\" (a bare color would allow discarding "
         "every later divergence of green)"}}},
      // One spelling per incident: what the condition prints, nothing else.
      {"DiscardAnnotationMalformed",
       [](DeploymentColor& dc) {
         dc.metadata.annotations[std::string(kAllowDiscardAnnotation)] =
             "green@tli=2,lsn=0/03000148";
       },
       {{"metadata.annotations[switchyard.dev/allow-discard-diverged-writes]",
         kConsent + "\"green@tli=2,lsn=0/03000148\""}}},
      {"LogicalSlotsAnnotation",
       [](DeploymentColor& dc) {
         dc.metadata.annotations[std::string(kAllowLosingLogicalSlotsAnnotation)] = "yes";
       },
       {{"metadata.annotations[switchyard.dev/allow-losing-logical-slots]",
         R"(must be "true" (remove the annotation to refuse), got "yes")"}}},
      {"NoUpstreams",
       [](DeploymentColor& dc) { dc.spec.blue.upstreams.clear(); },
       {{"spec.colors.blue.upstreams", "must list at least one \"host:port\""}}},
      {"BadUpstreams",
       [](DeploymentColor& dc) {
         dc.spec.blue.upstreams = {"127.0.0.1:0",     "127.0.0.1:65536", ":80",
                                   "host:",           "a b:80",          "999.1.1.1:80",
                                   "127.0.0.1:18081", "127.0.0.1:18081"};
       },
       {{"spec.colors.blue.upstreams[0]", kUpstream + "\"127.0.0.1:0\""},
        {"spec.colors.blue.upstreams[1]", kUpstream + "\"127.0.0.1:65536\""},
        {"spec.colors.blue.upstreams[2]", kUpstream + "\":80\""},
        {"spec.colors.blue.upstreams[3]", kUpstream + "\"host:\""},
        {"spec.colors.blue.upstreams[4]", kUpstream + "\"a b:80\""},
        {"spec.colors.blue.upstreams[5]", kUpstream + "\"999.1.1.1:80\""},
        {"spec.colors.blue.upstreams[7]", "duplicate upstream \"127.0.0.1:18081\""}}},
      {"OverlappingUpstreams",
       [](DeploymentColor& dc) {
         dc.spec.green.upstreams = {"127.0.0.1:9", "127.0.0.1:18081"};
       },
       {{"spec.colors.green.upstreams[1]", "\"127.0.0.1:18081\" is also an upstream of blue"}}},
      {"BadDatabaseHostAndPort",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.host = "";
         dc.spec.blue.database.port = -1;
         dc.spec.green.database.host = "db_1";
         dc.spec.green.database.port = 65536;
       },
       {{"spec.colors.blue.database.host", R"(must be a hostname or an IPv4 address, got "")"},
        {"spec.colors.blue.database.port", "must be in 1..65535, got -1"},
        {"spec.colors.green.database.host", R"(must be a hostname or an IPv4 address, got "db_1")"},
        {"spec.colors.green.database.port", "must be in 1..65535, got 65536"}}},
      {"SharedServer",
       [](DeploymentColor& dc) {
         dc.spec.green.database.host = "LOCALHOST";
         dc.spec.blue.database.host = "localhost";
         dc.spec.green.database.port = 15433;
       },
       {{"spec.colors.green.database.port", "same database server as blue (localhost:15433)"}}},
      {"InvalidPortsAreNotAlsoShared",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.port = 0;
         dc.spec.green.database.port = 0;
       },
       {{"spec.colors.blue.database.port", "must be in 1..65535, got 0"},
        {"spec.colors.green.database.port", "must be in 1..65535, got 0"}}},
      {"SameHostOtherPortIsFine",
       [](DeploymentColor& dc) { dc.spec.green.database.port = 15435; },
       {}},
      {"SharedDataDirectoryAfterNormalizing",
       [](DeploymentColor& dc) {
         dc.spec.green.database.data_directory = "/tmp//switchyard-local/./pg/blue/";
       },
       {{"spec.colors.green.database.dataDirectory",
         "same data directory as blue (\"/tmp/switchyard-local/pg/blue\")"}}},
      {"NestedDataDirectories",
       [](DeploymentColor& dc) { dc.spec.green.database.data_directory = "/tmp/switchyard-local"; },
       {{"spec.colors.green.database.dataDirectory",
         "must not be nested with blue's data directory \"/tmp/switchyard-local/pg/blue\""}}},
      {"PackagedClustersConfigFiles",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.config_file = "/etc/postgresql/15/shop-blue/postgresql.conf";
         dc.spec.green.database.config_file = "/etc/postgresql/15/shop-green/postgresql.conf";
       },
       {}},
      {"ConfigFileProblems",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.config_file = "/etc/postgresql/15/shop/postgresql.conf";
         dc.spec.green.database.config_file = "/etc/postgresql/15//shop/postgresql.conf";
       },
       {{"spec.colors.green.database.configFile",
         "same configFile as blue (\"/etc/postgresql/15/shop/postgresql.conf\"): each server "
         "needs its own"}}},
      {"ConfigFileInsideADataDirectory",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.config_file = "/tmp/switchyard-local/pg/green/postgresql.conf";
         dc.spec.green.database.config_file = "relative.conf";
       },
       {{"spec.colors.green.database.configFile",
         "must be an absolute path, got \"relative.conf\""},
        {"spec.colors.blue.database.configFile",
         "must lie outside the data directories (a re-clone replaces "
         "/tmp/switchyard-local/pg/green), got "
         "\"/tmp/switchyard-local/pg/green/postgresql.conf\""}}},
      // Each database on its own machine, through its agent: the usual layout, the same port,
      // data directory and configFile on both, is fine there.
      {"AgentsOnTwoMachines",
       [](DeploymentColor& dc) {
         for (Color c : kColors) {
           DatabaseRef& db = dc.spec.color(c).database;
           const std::string ip = c == Color::kBlue ? "10.0.0.1" : "10.0.0.2";
           db = {ip, 5432, "/var/lib/postgresql/15/main", "/etc/postgresql/15/main/postgresql.conf",
                 ip + ":9754"};
         }
         dc.spec.nginx.agent = "[2001:db8::5]:9754";
       },
       {}},
      // Both through one agent: one machine, whose paths and ports must lie apart.
      {"OneAgentForBothIsOneMachine",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.agent = "db.example:9754";
         dc.spec.green.database.agent = "DB.example:9754";
         dc.spec.blue.database.host = dc.spec.green.database.host = "db.example";
         dc.spec.green.database.data_directory = dc.spec.blue.database.data_directory;
       },
       {{"spec.colors.green.database.dataDirectory",
         "same data directory as blue (\"/tmp/switchyard-local/pg/blue\")"}}},
      // A host and a port name one server wherever its agent runs.
      {"TwoAgentsOneServer",
       [](DeploymentColor& dc) {
         dc.spec.blue.database = {"db.example", 5432, "/srv/pg", "", "10.0.0.1:9754"};
         dc.spec.green.database = {"db.example", 5432, "/srv/pg", "", "10.0.0.2:9754"};
       },
       {{"spec.colors.green.database.port", "same database server as blue (db.example:5432)"}}},
      // Elsewhere, a configFile inside the server's own data directory is still replaced by a
      // re-clone; inside the other machine's same path it is not.
      {"AgentsConfigFileInsideItsOwnDataDirectory",
       [](DeploymentColor& dc) {
         dc.spec.blue.database = {"10.0.0.1", 5432, "/srv/pg", "/etc/pg.conf", "10.0.0.1:9754"};
         dc.spec.green.database = {"10.0.0.2", 5432, "/srv/pg", "/srv/pg/pg.conf", "10.0.0.2:9754"};
       },
       {{"spec.colors.green.database.configFile",
         "must lie outside the data directories (a re-clone replaces /srv/pg), got "
         "\"/srv/pg/pg.conf\""}}},
      {"AgentForBlueOnly",
       [](DeploymentColor& dc) { dc.spec.blue.database.agent = "127.0.0.1:9754"; },
       {{"spec.colors.green.database.agent",
         "set for blue but not for green; either both databases are reached through agents or "
         "neither (a database on the controller's machine and one on another machine cannot be "
         "switched between): set green's agent too, or remove blue's"}}},
      {"AgentForGreenOnly",
       [](DeploymentColor& dc) { dc.spec.green.database.agent = "127.0.0.1:9755"; },
       {{"spec.colors.blue.database.agent",
         "set for green but not for blue; either both databases are reached through agents or "
         "neither (a database on the controller's machine and one on another machine cannot be "
         "switched between): set blue's agent too, or remove green's"}}},
      // The host is how the other machine reaches the server: loopback there is the standby's
      // own machine.
      {"LoopbackHostWithARemoteAgent",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.agent = "10.0.0.1:9754";
         dc.spec.green.database.agent = "10.0.0.2:9754";
         dc.spec.green.database.host = "LocalHost";
       },
       {{"spec.colors.blue.database.host",
         "must be how other machines reach the server, not a loopback address, when its agent "
         "(10.0.0.1:9754) is on another machine: the other color's standby connects to it by "
         "this name, got \"127.0.0.1\""},
        {"spec.colors.green.database.host",
         "must be how other machines reach the server, not a loopback address, when its agent "
         "(10.0.0.2:9754) is on another machine: the other color's standby connects to it by "
         "this name, got \"LocalHost\""}}},
      // Agents on this machine (a test stack): loopback names are this machine's on both ends.
      {"LoopbackHostWithALoopbackAgent",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.agent = "localhost:9754";
         dc.spec.green.database.agent = "[::1]:9755";
       },
       {}},
      {"BadAgentAddresses",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.agent = "10.0.0.1";
         dc.spec.green.database.agent = "[::1]9754";
         dc.spec.nginx.agent = "::1:9754";
       },
       {{"spec.colors.blue.database.agent", kAgent + "\"10.0.0.1\""},
        {"spec.colors.green.database.agent", kAgent + "\"[::1]9754\""},
        {"spec.nginx.agent", kAgent + "\"::1:9754\""}}},
      {"BadPaths",
       [](DeploymentColor& dc) {
         dc.spec.blue.database.data_directory = "";
         dc.spec.green.database.data_directory = "/var/lib/../../etc";
         dc.spec.nginx.upstream_file = "/etc/nginx/$(touch /tmp/x)";
         dc.spec.nginx.config_file = "nginx.conf";
         dc.spec.database.bin_directory = "/usr/lib/postgresql/15/bin; rm";
         dc.spec.database.password_file = "/home/me/`id`";
       },
       {{"spec.colors.blue.database.dataDirectory", "must be an absolute path, got \"\""},
        {"spec.colors.green.database.dataDirectory",
         "must not contain \"..\" components, got \"/var/lib/../../etc\""},
        {"spec.nginx.upstreamFile", kPathChars + "\"/etc/nginx/$(touch /tmp/x)\""},
        {"spec.nginx.configFile", "must be an absolute path, got \"nginx.conf\""},
        {"spec.database.passwordFile",  // never quoted: it may be the password itself
         "must contain only letters, digits and \"._/+-\" (the value is not shown: it may be a "
         "secret)"},
        {"spec.database.binDirectory", kPathChars + "\"/usr/lib/postgresql/15/bin; rm\""}}},
      {"PathCharactersOneByOne",
       [](DeploymentColor& dc) { dc.spec.nginx.upstream_file = "/a b/'x'\"y\";|&<>*?\\~"; },
       {{"spec.nginx.upstreamFile", kPathChars + R"("/a b/'x'\"y\";|&<>*?\\~")"}}},
      {"DotsThatAreNotDotDot",
       [](DeploymentColor& dc) { dc.spec.nginx.upstream_file = "/etc/nginx/..conf/.../a..b"; },
       {}},
      {"BadBinary",
       [](DeploymentColor& dc) { dc.spec.nginx.binary = "-nginx"; },
       {{"spec.nginx.binary",
         "must be an absolute path or a program name of letters, digits and \"._+-\", got "
         "\"-nginx\""}}},
      {"RelativeBinaryPath",
       [](DeploymentColor& dc) { dc.spec.nginx.binary = "sbin/nginx"; },
       {{"spec.nginx.binary",
         "must be an absolute path or a program name of letters, digits and \"._+-\", got "
         "\"sbin/nginx\""}}},
      {"AbsoluteBinaryFollowsPathRules",
       [](DeploymentColor& dc) { dc.spec.nginx.binary = "/usr/sbin/../nginx"; },
       {{"spec.nginx.binary", "must not contain \"..\" components, got \"/usr/sbin/../nginx\""}}},
      {"BadUpstreamName",
       [](DeploymentColor& dc) { dc.spec.nginx.upstream_name = "shop;"; },
       {{"spec.nginx.upstreamName",
         "must be an nginx upstream name of letters, digits, \"_\", \".\" and \"-\", got "
         "\"shop;\""}}},
      {"BadProbe",
       [](DeploymentColor& dc) {
         dc.spec.nginx.probe.url = "http:///path";
         dc.spec.nginx.probe.header = "X-Color:";
         dc.spec.nginx.probe.timeout_seconds = 0;
       },
       {{"spec.nginx.probe.url", R"(must be an http:// URL with a host, got "http:///path")"},
        {"spec.nginx.probe.header", R"(must be an HTTP header name (a token), got "X-Color:")"},
        {"spec.nginx.probe.timeoutSeconds", "must be in 1..3600, got 0"}}},
      {"ProbeUrls",
       [](DeploymentColor& dc) { dc.spec.nginx.probe.url = "http://127.0.0.1:99999/"; },
       {{"spec.nginx.probe.url",
         R"(must be an http:// URL with a host, got "http://127.0.0.1:99999/")"}}},
      {"ProbeUrlWithSpace",
       [](DeploymentColor& dc) { dc.spec.nginx.probe.url = "http://host/a b"; },
       {{"spec.nginx.probe.url", R"(must be an http:// URL with a host, got "http://host/a b")"}}},
      {"BadDatabaseSettings",
       [](DeploymentColor& dc) {
         dc.spec.database.user = "";
         dc.spec.database.replication_user = "repl user";
         dc.spec.database.os_user = std::string(64, 'p');
         dc.spec.database.max_lag_bytes = -1;
         dc.spec.database.catch_up_timeout_seconds = 3601;
         dc.spec.database.slot_retention_seconds = -1;
         dc.spec.database.archive_timeout_seconds = -1;
       },
       {{"spec.database.user", kUserName + "\"\""},
        {"spec.database.replicationUser", kUserName + "\"repl user\""},
        {"spec.database.osUser", kUserName + "\"" + std::string(64, 'p') + "\""},
        {"spec.database.maxLagBytes", "must not be negative, got -1"},
        {"spec.database.catchUpTimeoutSeconds", "must be in 1..3600, got 3601"},
        {"spec.database.slotRetentionSeconds", "must be in 0..604800, got -1"},
        {"spec.database.archiveTimeoutSeconds", "must be in 0..3600, got -1"}}},
      {"EmptyUpstreamNameWithoutDefaults",
       [](DeploymentColor& dc) { dc.spec.nginx.upstream_name = ""; },
       {{"spec.nginx.upstreamName",
         "must be an nginx upstream name of letters, digits, \"_\", \".\" and \"-\", got "
         "\"\""}}},
      {"MissingNameIsReportedOnce",
       [](DeploymentColor& dc) {
         dc.metadata.name = "";
         dc.spec.nginx.upstream_name = "";
       },
       {{"metadata.name", kLabel + "\"\""}}},
  };
}

class ValidateTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateTest, ReportsExactly) {
  DeploymentColor dc = Valid();
  GetParam().edit(dc);
  EXPECT_THAT(Validate(dc), ElementsAreArray(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(Table, ValidateTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ApplyDefaultsTest, FillsNamespaceAndUpstreamName) {
  DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.namespace_ = "";
  ApplyDefaults(&dc);
  EXPECT_EQ(dc.metadata.namespace_, "default");
  EXPECT_EQ(dc.spec.nginx.upstream_name, "shop");
  const DeploymentColor once = dc;
  ApplyDefaults(&dc);
  EXPECT_EQ(dc, once);  // idempotent
}

TEST(ApplyDefaultsTest, KeepsWhatIsSet) {
  DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.namespace_ = "prod";
  dc.spec.nginx.upstream_name = "shop_blue_green";
  ApplyDefaults(&dc);
  EXPECT_EQ(dc.metadata.namespace_, "prod");
  EXPECT_EQ(dc.spec.nginx.upstream_name, "shop_blue_green");
}

TEST(ApplyDefaultsTest, MemberDefaultsAreThoseOfTheDesign) {
  const DeploymentColor dc;
  EXPECT_EQ(dc.api_version, "switchyard.dev/v1alpha1");
  EXPECT_EQ(dc.kind, "DeploymentColor");
  EXPECT_FALSE(dc.spec.paused);
  EXPECT_EQ(dc.spec.blue.database.host, "127.0.0.1");
  EXPECT_EQ(dc.spec.nginx.binary, "nginx");
  EXPECT_EQ(dc.spec.nginx.config_file, "/etc/nginx/nginx.conf");
  EXPECT_EQ(dc.spec.nginx.probe.header, "X-Switchyard-Color");
  EXPECT_EQ(dc.spec.database.max_lag_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(dc.spec.database.catch_up_timeout_seconds, 30);
  EXPECT_EQ(dc.spec.database.slot_retention_seconds, 300);
  EXPECT_EQ(dc.spec.database.archive_timeout_seconds, 30);
  EXPECT_EQ(dc.spec.database.rejoin_method, RejoinMethod::kAuto);
}

// Agent addresses, one at a time (nginx's, so that no database rule joins in).
TEST(ValidateTest, AgentAddresses) {
  for (const char* good : {"10.0.0.1:9754", "agent-1.example:1", "AGENT:65535", "[::1]:9754",
                           "[2001:db8::1]:9754", "[::]:1", "[::ffff:10.0.0.1]:9754",
                           "[1:2:3:4:5:6:7:8]:9754", "[1:2:3:4:5:6:10.0.0.1]:9754"}) {
    DeploymentColor dc = Valid();
    dc.spec.nginx.agent = good;
    EXPECT_THAT(Validate(dc), IsEmpty()) << good;
  }
  for (const char* bad : {"10.0.0.1",
                          ":9754",
                          "host:",
                          "host:0",
                          "host:65536",
                          "host:+1",
                          "a b:1",
                          "999.1.1.1:1",
                          "::1:9754",
                          "[::1]",
                          "[::1]:",
                          "[::1]9754",
                          "[]:1",
                          "[1::2::3]:1",
                          "[12345::1]:1",
                          "[1:2:3:4:5:6:7]:1",
                          "[1:2:3:4:5:6:7:8:9]:1",
                          "[g::1]:1",
                          "[fe80::1%eth0]:1",
                          "[10.0.0.1::1]:1",
                          "[::1]:9754 ",
                          "http://agent:9754"}) {
    DeploymentColor dc = Valid();
    dc.spec.nginx.agent = bad;
    EXPECT_THAT(
        Validate(dc),
        ElementsAreArray(std::vector<FieldError>{{"spec.nginx.agent", kAgent + QuoteValue(bad)}}))
        << bad;
  }
}

TEST(DatabasesShareMachineTest, TheSameAgentOrNone) {
  DeploymentColor dc = Valid();
  EXPECT_TRUE(DatabasesShareMachine(dc.spec));
  dc.spec.blue.database.agent = "Db:9754";
  EXPECT_FALSE(DatabasesShareMachine(dc.spec));
  dc.spec.green.database.agent = "dB:9754";
  EXPECT_TRUE(DatabasesShareMachine(dc.spec));
  dc.spec.green.database.agent = "db:9755";
  EXPECT_FALSE(DatabasesShareMachine(dc.spec));
}

TEST(IsDns1123LabelTest, Table) {
  for (const char* good : {"a", "0", "shop", "shop-2", "a-b-c", "123"}) {
    EXPECT_TRUE(IsDns1123Label(good)) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string("-a"), std::string("a-"), std::string("A"), std::string("a.b"),
        std::string("a_b"), std::string(64, 'a'), std::string("sh\xc3\xb6p")}) {
    EXPECT_FALSE(IsDns1123Label(bad)) << bad;
  }
}

TEST(QuoteValueTest, EscapesAndCuts) {
  EXPECT_EQ(QuoteValue("purple"), "\"purple\"");
  EXPECT_EQ(QuoteValue("a\"b\n"), R"("a\"b\n")");
  EXPECT_EQ(QuoteValue("grün"), "\"grün\"");
  EXPECT_EQ(QuoteValue(std::string(100, 'x')), "\"" + std::string(80, 'x') + "\"...");
  EXPECT_EQ(QuoteValue(std::string(79, 'x') + "ü"), "\"" + std::string(79, 'x') + "\"...");
}

TEST(ValidateTest, ValidResourceHasNoProblems) { EXPECT_THAT(Validate(Valid()), IsEmpty()); }

}  // namespace
// The consent annotation has one spelling per incident: what FormatDiscardConsent prints.
TEST(DiscardConsentTest, ParsesExactlyWhatIsFormatted) {
  const DiscardConsent c{Color::kGreen, 2, "0/3000148"};
  EXPECT_EQ(FormatDiscardConsent(c), "green@tli=2,lsn=0/3000148");
  EXPECT_EQ(ParseDiscardConsent("green@tli=2,lsn=0/3000148"), c);
  EXPECT_EQ(ParseDiscardConsent("blue@tli=4294967295,lsn=FFFFFFFF/0"),
            (DiscardConsent{Color::kBlue, 4294967295u, "FFFFFFFF/0"}));
  for (const char* bad : {"green",
                          "",
                          "green@",
                          "green@tli=2",
                          "green@tli=2,lsn=",
                          "green@tli=2,lsn=0/",
                          "green@tli=02,lsn=0/3000148",
                          "green@tli=0,lsn=0/1",
                          "green@tli=-1,lsn=0/1",
                          "green@tli=4294967296,lsn=0/1",
                          "green@tli=2,lsn=0/3000148x",
                          "green@tli=2,lsn=0/300014g",
                          "green@tli=2,lsn=0/3000148,",
                          "green@lsn=0/3000148,tli=2",
                          "Green@tli=2,lsn=0/1",
                          "green@tli=2,lsn=0/3a",
                          "green@tli=2,lsn=000000000/1",
                          "green @tli=2,lsn=0/1",
                          "purple@tli=2,lsn=0/1",
                          "green@tli=2,lsn=0/123456789"}) {
    EXPECT_EQ(ParseDiscardConsent(bad), std::nullopt) << bad;
  }
}

}  // namespace sy::api
