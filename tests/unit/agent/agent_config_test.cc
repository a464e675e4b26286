// switchyard-agent's configuration file (strict: every problem names its line and key) and
// the allowlist it defines: a request whose spec differs from the configured entry in any
// path, program, user or port is NOT_MANAGED, naming the field.
#include "pkg/agent/agent_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/agent_fixture.h"

namespace sy::agent {
namespace {

using ::testing::HasSubstr;

constexpr char kExample[] = R"(id: dbg                       # names the agent in logs and audits
listen: 10.200.0.22:9754
stateDirectory: /var/lib/switchyard-agent
tls:
  certFile: /etc/switchyard/tls/agent.crt
  keyFile: /etc/switchyard/tls/agent.key
  clientCAFile: /etc/switchyard/tls/ca.crt
  controllerPrefix: "switchyard://"
insecureHttp: false
postgres:
  - dataDirectory: /srv/switchyard/pg/shop
    binDirectory: /usr/lib/postgresql/15/bin
    osUser: postgres
    port: 5432
    configFile: ""
nginx:
  - binary: /usr/sbin/nginx
    configFile: /etc/nginx/nginx.conf
    upstreamFile: /etc/nginx/switchyard/shop.conf
)";

std::string Problem(std::string_view yaml) {
  absl::StatusOr<AgentConfig> c = ParseAgentConfig(yaml, "agent.yaml");
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  return std::string(c.status().message());
}

TEST(AgentConfigTest, ParsesTheDocumentedExample) {
  absl::StatusOr<AgentConfig> c = ParseAgentConfig(kExample, "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "dbg");
  EXPECT_EQ(c->listen, "10.200.0.22:9754");
  EXPECT_EQ(c->state_directory, "/var/lib/switchyard-agent");
  EXPECT_EQ(c->tls.client_ca_file, "/etc/switchyard/tls/ca.crt");
  EXPECT_EQ(c->tls.controller_prefix, "switchyard://");
  EXPECT_FALSE(c->insecure_http);
  ASSERT_EQ(c->postgres.size(), 1u);
  EXPECT_EQ(c->postgres[0].data_directory, "/srv/switchyard/pg/shop");
  EXPECT_EQ(c->postgres[0].port, 5432);
  EXPECT_EQ(c->postgres[0].config_file, "");
  ASSERT_EQ(c->nginx.size(), 1u);
  EXPECT_EQ(c->nginx[0].upstream_file, "/etc/nginx/switchyard/shop.conf");
  EXPECT_EQ(ManagedObjects(*c), (std::vector<std::string>{"/srv/switchyard/pg/shop",
                                                          "/etc/nginx/switchyard/shop.conf"}));
}

TEST(AgentConfigTest, AnUnknownKeyNamesItsLine) {
  std::string yaml = kExample;
  yaml.replace(yaml.find("    osUser"), 0, "    osUsr: x\n");
  EXPECT_EQ(Problem(yaml), "agent.yaml:13: postgres[0].osUsr: unknown key");
  EXPECT_EQ(Problem("id: a\nlisten: b\nstateDirectory: /s\ninsecureHttp: true\nlisen: x\n"),
            "agent.yaml:5: lisen: unknown key");
}

TEST(AgentConfigTest, WrongTypesNameTheirLine) {
  std::string yaml = kExample;
  yaml.replace(yaml.find("5432"), 4, "\"5432\"");
  EXPECT_EQ(Problem(yaml), "agent.yaml:14: postgres[0].port: must be an integer");
  EXPECT_EQ(Problem("id: a\nlisten: b\nstateDirectory: /s\ninsecureHttp: yes\n"),
            "agent.yaml:4: insecureHttp: must be true or false");
  EXPECT_EQ(Problem("id: [a]\nlisten: b\nstateDirectory: /s\ninsecureHttp: true\n"),
            "agent.yaml:1: id: must be a string");
  EXPECT_EQ(Problem("id: a\nlisten: b\nstateDirectory: /s\ninsecureHttp: true\npostgres: {}\n"),
            "agent.yaml:5: postgres: must be a list");
}

TEST(AgentConfigTest, RequiredKeysAndAbsolutePaths) {
  EXPECT_THAT(Problem("listen: b\nstateDirectory: /s\ninsecureHttp: true\n"),
              HasSubstr("id: missing"));
  EXPECT_THAT(Problem("id: a\nlisten: b\nstateDirectory: /s\n"), HasSubstr("tls: missing"));
  EXPECT_THAT(Problem("id: a\nlisten: b\nstateDirectory: state\ninsecureHttp: true\n"),
              HasSubstr("stateDirectory: must be an absolute path"));
  std::string twice = kExample;
  twice +=
      "  - binary: /usr/sbin/nginx\n    configFile: /etc/nginx/nginx.conf\n"
      "    upstreamFile: /etc/nginx/switchyard/shop.conf\n";
  EXPECT_THAT(Problem(twice), HasSubstr("configured twice"));
  absl::StatusOr<AgentConfig> plain =
      ParseAgentConfig("id: a\nlisten: b\nstateDirectory: /s\ninsecureHttp: true\n", "a.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->insecure_http);
}

// --- the allowlist ---

class AllowlistTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> Managed(const Machine& m) {
    return ManagedObject(config_, dc_, m, AnyHostIsLocal);
  }
  std::string NotManaged(const Machine& m) {
    absl::StatusOr<std::string> o = Managed(m);
    EXPECT_TRUE(absl::IsPermissionDenied(o.status())) << o.status();
    return std::string(o.status().message());
  }
  static constexpr Machine kGreen{.nginx = false, .color = api::Color::kGreen};
  static constexpr Machine kNginx{.nginx = true};

  api::DeploymentColor dc_ = Resource();
  AgentConfig config_ = ConfigFor(dc_, "/tmp/unused");
};

TEST_F(AllowlistTest, TheConfiguredObjectsAreManaged) {
  EXPECT_EQ(Managed(kGreen).value(), "/srv/pg/shop-green");
  EXPECT_EQ(Managed(Machine{.nginx = false, .color = api::Color::kBlue}).value(), "/srv/pg/shop");
  EXPECT_EQ(Managed(kNginx).value(), "/etc/nginx/switchyard/shop.conf");
}

TEST_F(AllowlistTest, EachDatabaseFieldThatDiffersIsNamed) {
  dc_.spec.green.database.data_directory = "/etc";
  EXPECT_THAT(NotManaged(kGreen), HasSubstr("spec.colors.green.database.dataDirectory \"/etc\""));
  dc_ = Resource();
  dc_.spec.green.database.port = 5999;
  EXPECT_THAT(NotManaged(kGreen),
              HasSubstr("spec.colors.green.database.port \"5999\" is not \"5433\""));
  dc_ = Resource();
  dc_.spec.green.database.config_file = "/etc/postgresql/evil.conf";
  EXPECT_THAT(NotManaged(kGreen), HasSubstr("spec.colors.green.database.configFile"));
  dc_ = Resource();
  dc_.spec.database.bin_directory = "/tmp/bin";
  EXPECT_THAT(NotManaged(kGreen), HasSubstr("spec.database.binDirectory \"/tmp/bin\""));
  dc_ = Resource();
  dc_.spec.database.os_user = "root";
  EXPECT_THAT(NotManaged(kGreen), HasSubstr("spec.database.osUser \"root\""));
}

TEST_F(AllowlistTest, EachNginxFieldThatDiffersIsNamed) {
  dc_.spec.nginx.upstream_file = "/etc/passwd";
  EXPECT_THAT(NotManaged(kNginx), HasSubstr("spec.nginx.upstreamFile \"/etc/passwd\""));
  dc_ = Resource();
  dc_.spec.nginx.binary = "/bin/sh";
  EXPECT_THAT(NotManaged(kNginx), HasSubstr("spec.nginx.binary \"/bin/sh\""));
  dc_ = Resource();
  dc_.spec.nginx.config_file = "/tmp/nginx.conf";
  EXPECT_THAT(NotManaged(kNginx), HasSubstr("spec.nginx.configFile \"/tmp/nginx.conf\""));
}

absl::Status NoHostIsLocal(std::string_view host) {
  return absl::InvalidArgumentError(std::string(host) + " is not this machine");
}

TEST_F(AllowlistTest, ADatabaseHostElsewhereIsNotManaged) {
  absl::StatusOr<std::string> o = ManagedObject(config_, dc_, kGreen, NoHostIsLocal);
  EXPECT_TRUE(absl::IsPermissionDenied(o.status()));
  EXPECT_THAT(o.status().message(), HasSubstr("spec.colors.green.database.host"));
  // nginx has no database host.
  EXPECT_TRUE(ManagedObject(config_, dc_, kNginx, NoHostIsLocal).ok());
}

}  // namespace
}  // namespace sy::agent
