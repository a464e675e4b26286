// Tests of `yardctl certs` (CtlCerts): the files it writes into a directory, their modes,
// that every leaf chains to ca.crt with the right names, usage and key, that later runs
// reuse the CA, and what it refuses.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "pkg/app/yardctl.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/app/x509_util.h"

namespace sy::app::testing {
namespace {

struct Outcome {
  int rc = -1;
  std::string out;
  std::string err;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class CertsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path.empty()); }

  CertsOptions Opts(std::vector<std::string> controllers, std::vector<std::string> agents) {
    CertsOptions o;
    o.dir = dir_;
    o.controllers = std::move(controllers);
    o.agents = std::move(agents);
    o.clock = &clock_;
    return o;
  }
  Outcome Certs(const CertsOptions& o) {
    std::ostringstream out;
    std::ostringstream err;
    Outcome r;
    r.rc = CtlCerts(o, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  std::string File(const std::string& name) { return ReadOrEmpty(dir_ + "/" + name); }

  // The leaf `base` passes a TLS peer's checks against ca.crt (ExpectLeaf), and its files
  // have their modes.
  void ExpectLeafFiles(const std::string& base, int purpose, const std::string& san) {
    SCOPED_TRACE(base);
    ExpectLeaf(File("ca.crt"), File(base + ".crt"), File(base + ".key"), purpose, san);
    EXPECT_EQ(ModeOf(dir_ + "/" + base + ".key"), 0600u);
    EXPECT_EQ(ModeOf(dir_ + "/" + base + ".crt"), 0644u);
  }

  fakes::TempDir tmp_{"yardctl_certs_test"};
  const std::string dir_ = tmp_.path + "/pki";
  fakes::FakeClock clock_;
};

TEST_F(CertsTest, MintsACaAControllerAndAgentsIntoANewDirectory) {
  const Outcome r = Certs(Opts({"c1"}, {"db1=10.0.0.5:7443", "db2=db2.example.com"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ModeOf(dir_), 0700u);
  EXPECT_EQ(ModeOf(dir_ + "/ca.key"), 0600u);
  EXPECT_EQ(ModeOf(dir_ + "/ca.crt"), 0644u);
  ExpectLeafFiles("controller-c1", X509_PURPOSE_SSL_CLIENT, "URI:switchyard://local/controller/c1");
  ExpectLeafFiles("agent-db1", X509_PURPOSE_SSL_SERVER, "IP:10.0.0.5");
  ExpectLeafFiles("agent-db2", X509_PURPOSE_SSL_SERVER, "DNS:db2.example.com");
  // No temporary file is left behind.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"agent-db1.crt", "agent-db1.key", "agent-db2.crt",
                                             "agent-db2.key", "ca.crt", "ca.key",
                                             "controller-c1.crt", "controller-c1.key"}));

  EXPECT_TRUE(Has(r.out, "wrote " + dir_ + "/ca.crt and " + dir_ +
                             "/ca.key: the CA of cluster local, valid until 2036-11-"))
      << r.out;
  EXPECT_TRUE(
      Has(r.out, "wrote " + dir_ + "/controller-c1.crt and " + dir_ +
                     "/controller-c1.key: controller c1, client, "
                     "switchyard://local/controller/c1, valid until 2029-02-28T17:00:00Z\n"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "/agent-db1.key: agent db1, server, IP 10.0.0.5, valid until")) << r.out;
  EXPECT_TRUE(Has(r.out, "/agent-db2.key: agent db2, server, DNS db2.example.com, valid until"))
      << r.out;
  // The next steps: which files go where, and the settings that name them.
  EXPECT_TRUE(Has(r.out,
                  "On the machine of controller c1: copy ca.crt, controller-c1.crt and "
                  "controller-c1.key to /etc/switchyard/tls/"))
      << r.out;
  EXPECT_TRUE(Has(r.out,
                  "--agent-ca /etc/switchyard/tls/ca.crt --agent-cert "
                  "/etc/switchyard/tls/controller-c1.crt --agent-key "
                  "/etc/switchyard/tls/controller-c1.key\n"))
      << r.out;
  EXPECT_TRUE(Has(r.out,
                  "On agent db2 (db2.example.com): copy ca.crt, agent-db2.crt and "
                  "agent-db2.key to /etc/switchyard-agent/tls/"))
      << r.out;
  EXPECT_TRUE(Has(r.out,
                  "      tls:\n"
                  "        certFile: /etc/switchyard-agent/tls/agent-db2.crt\n"
                  "        keyFile: /etc/switchyard-agent/tls/agent-db2.key\n"
                  "        clientCAFile: /etc/switchyard-agent/tls/ca.crt\n"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "switchyard://local/ admits the controllers of cluster local only"))
      << r.out;
}

TEST_F(CertsTest, ALaterRunReusesTheCaAndAddsCertificates) {
  ASSERT_EQ(Certs(Opts({"c1"}, {"db1=10.0.0.5"})).rc, 0);
  const std::string ca = File("ca.crt");
  const std::string ca_key = File("ca.key");
  const std::string db1 = File("agent-db1.crt");
  clock_.Advance(std::chrono::hours(24));
  const Outcome r = Certs(Opts({}, {"db3=10.0.0.7"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "reused " + dir_ + "/ca.crt: the CA of cluster local")) << r.out;
  EXPECT_EQ(File("ca.crt"), ca);
  EXPECT_EQ(File("ca.key"), ca_key);
  EXPECT_EQ(File("agent-db1.crt"), db1);
  ExpectLeafFiles("agent-db3", X509_PURPOSE_SSL_SERVER, "IP:10.0.0.7");
  ExpectLeafFiles("agent-db1", X509_PURPOSE_SSL_SERVER, "IP:10.0.0.5");
}

TEST_F(CertsTest, AnExistingLeafIsReplacedOnlyWithForce) {
  ASSERT_EQ(Certs(Opts({"c1"}, {"dbg=10.0.0.5"})).rc, 0);
  const std::string before = File("agent-dbg.crt");
  // Nothing is written when one file is in the way, not even the new ones beside it.
  Outcome r = Certs(Opts({"c2"}, {"dbg=10.0.0.9"}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "error: " + dir_ + "/agent-dbg.crt exists; --force replaces it\nerror: " + dir_ +
                       "/agent-dbg.key exists; --force replaces it\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(File("agent-dbg.crt"), before);
  EXPECT_FALSE(util::PathExists(dir_ + "/controller-c2.crt"));

  CertsOptions force = Opts({}, {"dbg=10.0.0.9"});
  force.force = true;
  r = Certs(force);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(File("agent-dbg.crt"), before);
  ExpectLeafFiles("agent-dbg", X509_PURPOSE_SSL_SERVER, "IP:10.0.0.9");
  EXPECT_TRUE(Has(r.out, "reused " + dir_ + "/ca.crt")) << r.out;
}

TEST_F(CertsTest, UsageErrorsWriteNothing) {
  struct Case {
    CertsOptions o;
    std::string err;
  };
  CertsOptions bad_days = Opts({}, {});
  bad_days.days = 0;
  CertsOptions bad_cluster = Opts({}, {});
  bad_cluster.cluster = "pr od";
  for (const Case& c : {
           Case{Opts({"c/1"}, {}),
                "error: --controller c/1: the name \"c/1\" must be 1 to 63 of A-Za-z0-9_.-\n"},
           Case{Opts({}, {"d b=10.0.0.5"}),
                "error: --agent d b=10.0.0.5: the name \"d b\" must be 1 to 63 of "
                "A-Za-z0-9_.-\n"},
           Case{Opts({}, {"db1=10.0.0.5", "db1=10.0.0.6"}),
                "error: --agent db1=10.0.0.6: db1 is given twice\n"},
           Case{Opts({"c1", "c1"}, {}), "error: --controller c1: c1 is given twice\n"},
           Case{Opts({}, {"db1=10.0.0.300"}),
                "error: --agent db1=10.0.0.300: \"10.0.0.300\" is neither an IP address nor a "
                "DNS name\n"},
           Case{bad_days, "error: --days 0: must be from 1 to 36500\n"},
           Case{bad_cluster,
                "error: --cluster: the name \"pr od\" must be 1 to 63 of A-Za-z0-9_.-\n"},
       }) {
    const Outcome r = Certs(c.o);
    EXPECT_EQ(r.rc, 2);
    EXPECT_EQ(r.err, c.err);
    EXPECT_FALSE(util::PathExists(dir_)) << c.err;
  }
}

TEST_F(CertsTest, ACaThatCannotSignIsReplacedOnlyWithForce) {
  ASSERT_EQ(Certs(Opts({"c1"}, {})).rc, 0);
  const std::string ca = File("ca.crt");
  // Another CA's key beside this ca.crt: a copy gone wrong.
  fakes::TempDir other;
  CertsOptions elsewhere = Opts({}, {});
  elsewhere.dir = other.path + "/pki";
  ASSERT_EQ(Certs(elsewhere).rc, 0);
  ASSERT_TRUE(
      util::WriteFileAtomically(dir_ + "/ca.key", ReadOrEmpty(other.path + "/pki/ca.key"), 0600)
          .ok());
  Outcome r = Certs(Opts({}, {"db1=10.0.0.5"}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "error: the CA in " + dir_ + "/ca.crt and " + dir_ +
                       "/ca.key cannot sign: the key is not the certificate's. --force "
                       "replaces it with a new CA (every certificate the old one signed then "
                       "stops verifying)\n");
  EXPECT_FALSE(util::PathExists(dir_ + "/agent-db1.crt"));

  CertsOptions force = Opts({}, {"db1=10.0.0.5"});
  force.force = true;
  r = Certs(force);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(File("ca.crt"), ca);
  ExpectLeafFiles("agent-db1", X509_PURPOSE_SSL_SERVER, "IP:10.0.0.5");
  EXPECT_TRUE(Has(r.out, "The CA is new: certificates the old one signed no longer verify"))
      << r.out;
  // controller-c1 was signed by the old CA and says so.
  EXPECT_NE(VerifyError(File("ca.crt"), File("controller-c1.crt"), X509_PURPOSE_SSL_CLIENT), "");
}

TEST_F(CertsTest, HalfACaIsRefused) {
  ASSERT_EQ(Certs(Opts({}, {})).rc, 0);
  ASSERT_EQ(::unlink((dir_ + "/ca.crt").c_str()), 0);
  const Outcome r = Certs(Opts({"c1"}, {}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, "cannot sign: " + dir_ + "/ca.crt is missing. --force replaces it"))
      << r.err;
  EXPECT_FALSE(util::PathExists(dir_ + "/controller-c1.crt"));
}

TEST_F(CertsTest, AnExpiredCaIsRefusedAndLeavesEndWithTheCa) {
  ASSERT_EQ(Certs(Opts({}, {})).rc, 0);
  const std::string ca = File("ca.crt");
  clock_.Advance(std::chrono::days(3650 - 100));
  Outcome r = Certs(Opts({}, {"db1=10.0.0.5"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "valid until 2036-11-23T17:00:00Z (the CA's end)")) << r.out;
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(ReadCert(File("agent-db1.crt")).get()),
                              X509_get0_notAfter(ReadCert(ca).get())),
            0);
  clock_.Advance(std::chrono::days(101));
  r = Certs(Opts({}, {"db2=10.0.0.6"}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, "cannot sign: the certificate has expired")) << r.err;
}

TEST_F(CertsTest, OneCaPerCluster) {
  CertsOptions prod = Opts({"c1"}, {});
  prod.cluster = "prod";
  ASSERT_EQ(Certs(prod).rc, 0);
  ExpectLeafFiles("controller-c1", X509_PURPOSE_SSL_CLIENT, "URI:switchyard://prod/controller/c1");
  // Without --cluster a later run takes the CA's.
  ASSERT_EQ(Certs(Opts({"c2"}, {})).rc, 0);
  ExpectLeafFiles("controller-c2", X509_PURPOSE_SSL_CLIENT, "URI:switchyard://prod/controller/c2");
  // Another cluster's controllers would be admitted by prod's agents: refused.
  CertsOptions staging = Opts({"c3"}, {});
  staging.cluster = "staging";
  const Outcome r = Certs(staging);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "error: " + dir_ +
                       "/ca.crt is the CA of cluster \"prod\", not \"staging\": mint the "
                       "certificates of \"staging\" in another --dir\n");
  EXPECT_FALSE(util::PathExists(dir_ + "/controller-c3.crt"));
}

TEST_F(CertsTest, AFileWhereTheDirectoryShouldBeIsRefused) {
  ASSERT_TRUE(util::WriteFileAtomically(dir_, "x").ok());
  const Outcome r = Certs(Opts({"c1"}, {}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, dir_ + " exists and is no directory")) << r.err;
}

}  // namespace
}  // namespace sy::app::testing
