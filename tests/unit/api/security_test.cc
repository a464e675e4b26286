// Validation as the guard against shell injection and secret leaks. Every path of the spec
// (data directories, the nginx upstream and config files and binary, the password file,
// PostgreSQL's bin directory) may reach a program that runs a shell (pg_ctl does), so each one
// refuses every shell metacharacter and "..", alone and in combination; every name that
// reaches an argv or a config file (resource name and namespace, users, the nginx upstream
// name, hosts, upstreams) refuses them too. And no message quotes a value that may be a
// password.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "pkg/api/validation.h"
#include "tests/unit/api/valid_resource.h"

namespace sy::api {
namespace {

using ::testing::IsEmpty;

// With every optional path set, so that each can carry a payload.
DeploymentColor Valid() {
  DeploymentColor dc = testing::ValidResource();
  dc.spec.nginx.binary = "/usr/sbin/nginx";
  dc.spec.database.password_file = "/etc/switchyard/pgpass";
  return dc;
}

// What an attacker (or a careless copy and paste) appends to a path or a name.
const std::vector<std::string>& Payloads() {
  static const std::vector<std::string> p = {"$(touch /tmp/sy-pwned)",
                                             "`touch /tmp/sy-pwned`",
                                             ";touch /tmp/sy-pwned",
                                             "|touch /tmp/sy-pwned",
                                             "&touch /tmp/sy-pwned",
                                             "&&touch /tmp/sy-pwned",
                                             "||touch /tmp/sy-pwned",
                                             "\ntouch /tmp/sy-pwned",
                                             " /tmp/sy-pwned",
                                             ">/tmp/sy-pwned",
                                             "</etc/passwd",
                                             "'",
                                             "\"",
                                             "\\",
                                             "*",
                                             "?",
                                             "~root",
                                             "{a,b}",
                                             "!!",
                                             "#",
                                             "%00",
                                             "${IFS}",
                                             "\t",
                                             std::string("\0x", 2),
                                             "/../../etc/passwd",
                                             "/..",
                                             "/../x"};
  return p;
}

struct Field {
  std::string path;  // as validation names it
  std::function<std::string&(DeploymentColor&)> value;
};

std::vector<Field> PathFields() {
  return {
      {"spec.colors.blue.database.dataDirectory",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.blue.database.data_directory; }},
      {"spec.colors.green.database.dataDirectory",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.green.database.data_directory; }},
      {"spec.nginx.upstreamFile",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.nginx.upstream_file; }},
      {"spec.nginx.configFile",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.nginx.config_file; }},
      {"spec.nginx.binary",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.nginx.binary; }},
      {"spec.database.passwordFile",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.database.password_file; }},
      {"spec.database.binDirectory",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.database.bin_directory; }},
  };
}

std::vector<Field> NameFields() {
  return {
      {"metadata.name", [](DeploymentColor& dc) -> std::string& { return dc.metadata.name; }},
      {"metadata.namespace",
       [](DeploymentColor& dc) -> std::string& { return dc.metadata.namespace_; }},
      {"spec.nginx.upstreamName",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.nginx.upstream_name; }},
      {"spec.database.user",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.database.user; }},
      {"spec.database.replicationUser",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.database.replication_user; }},
      {"spec.database.osUser",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.database.os_user; }},
      {"spec.colors.blue.database.host",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.blue.database.host; }},
      {"spec.colors.green.upstreams[0]",
       [](DeploymentColor& dc) -> std::string& { return dc.spec.green.upstreams[0]; }},
  };
}

std::string Show(const std::string& s) { return QuoteValue(s); }

// Exactly one problem, on `field`: the payload is refused where it is, and nothing else is
// blamed (the rest of the resource is fine).
void ExpectRefusedAt(const DeploymentColor& dc, const std::string& field, const std::string& v) {
  const std::vector<FieldError> errors = Validate(dc);
  ASSERT_EQ(errors.size(), 1u) << field << " = " << Show(v);
  EXPECT_EQ(errors[0].field, field) << Show(v) << ": " << errors[0].message;
}

TEST(ShellPayloadTest, EveryPathFieldRefusesEveryPayload) {
  ASSERT_THAT(Validate(Valid()), IsEmpty());
  for (const Field& f : PathFields()) {
    for (const std::string& payload : Payloads()) {
      for (bool inside : {false, true}) {  // appended, and in the middle of the path
        DeploymentColor dc = Valid();
        std::string& v = f.value(dc);
        v = inside ? "/tmp/x" + payload + "/y" : v + payload;
        ExpectRefusedAt(dc, f.path, v);
      }
    }
  }
}

TEST(ShellPayloadTest, PayloadsAloneAndRelativeAreRefused) {
  for (const Field& f : PathFields()) {
    for (const std::string& payload : Payloads()) {
      DeploymentColor dc = Valid();
      f.value(dc) = payload;
      ExpectRefusedAt(dc, f.path, payload);
    }
  }
  // A bare program name for nginx is looked up in PATH (no shell); it refuses them as well.
  for (const std::string& payload : Payloads()) {
    DeploymentColor dc = Valid();
    dc.spec.nginx.binary = "nginx" + payload;
    ExpectRefusedAt(dc, "spec.nginx.binary", dc.spec.nginx.binary);
  }
}

TEST(ShellPayloadTest, EveryNameFieldRefusesEveryPayload) {
  for (const Field& f : NameFields()) {
    for (const std::string& payload : Payloads()) {
      DeploymentColor dc = Valid();
      std::string& v = f.value(dc);
      v += payload;
      const std::vector<FieldError> errors = Validate(dc);
      // A bad name may also be the default of another (upstreamName from metadata.name);
      // the field itself must be among the problems.
      ASSERT_FALSE(errors.empty()) << f.path << " = " << Show(v);
      EXPECT_EQ(errors[0].field, f.path) << Show(v);
    }
  }
}

TEST(ShellPayloadTest, SafePathsStayValid) {
  DeploymentColor dc = Valid();
  dc.spec.blue.database.data_directory = "/srv/pg-15/blue.data+1";
  dc.spec.green.database.data_directory = "/srv/pg-15/green.data/./x";
  dc.spec.nginx.upstream_file = "/etc/nginx/..conf/a..b/shop.conf";
  EXPECT_THAT(Validate(dc), IsEmpty());
}

// A password put where a path belongs (passwordFile: hunter2) or in the probe URL would be
// echoed by a "got ..." message into status, logs and API errors: it never is.
TEST(SecretValueTest, PasswordFileIsNeverQuoted) {
  for (const std::string& secret :
       {std::string("sy-pw-Hunter2"), std::string("sy-pw Hunter2"), std::string("sy-pw$(x)"),
        std::string("/etc/../sy-pw-Hunter2"), std::string("/sy-pw-Hunter2;")}) {
    DeploymentColor dc = Valid();
    dc.spec.database.password_file = secret;
    const std::vector<FieldError> errors = Validate(dc);
    ASSERT_EQ(errors.size(), 1u) << secret;
    EXPECT_EQ(errors[0].field, "spec.database.passwordFile");
    EXPECT_EQ(errors[0].message.find("Hunter2"), std::string::npos) << errors[0].message;
    EXPECT_NE(errors[0].message.find("not shown"), std::string::npos) << errors[0].message;
  }
  DeploymentColor dc = Valid();
  dc.spec.database.password_file = "pgpass";
  EXPECT_EQ(Validate(dc)[0].message,
            "must be an absolute path (the value is not shown: it may be a secret)");
}

TEST(SecretValueTest, ProbeUrlUserinfoIsMasked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://admin:sy-pw-Hunter2@127.0.0.1/", R"("http://***@127.0.0.1/")"},
      {"http://admin:sy-pw/Hunter2@127.0.0.1:80/x", R"("http://***@127.0.0.1:80/x")"},
      {"http://sy-pw-Hunter2@host/a@b", R"("http://***@b")"},  // masks too much, never too little
  };
  for (const auto& [url, shown] : cases) {
    DeploymentColor dc = Valid();
    dc.spec.nginx.probe.url = url;
    const std::vector<FieldError> errors = Validate(dc);
    ASSERT_EQ(errors.size(), 1u) << url;
    EXPECT_EQ(errors[0].field, "spec.nginx.probe.url");
    EXPECT_EQ(errors[0].message, "must be an http:// URL with a host, got " + shown);
  }
  DeploymentColor dc = Valid();
  dc.spec.nginx.probe.url = "ftp://host/";  // no user information: quoted as it is
  EXPECT_EQ(Validate(dc)[0].message, R"(must be an http:// URL with a host, got "ftp://host/")");
}

}  // namespace
}  // namespace sy::api
