// Tests of the PKI behind `yardctl certs` (pkg/app/certs.h), checked with OpenSSL the way a
// TLS peer checks: the chain to the CA for a purpose, the names, the key, the validity.
#include "pkg/app/certs.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/unit/app/x509_util.h"

namespace sy::app::testing {
namespace {

using certs::Ca;
using certs::Leaf;
using std::chrono::days;

// A fixed instant, so that validity ends are exact (certificates have second precision).
const certs::Time kNow =
    std::chrono::system_clock::from_time_t(1796000000);  // 2026-11-30T00:53:20Z

Ca MustCa(const std::string& cluster, certs::Time now = kNow) {
  absl::StatusOr<Ca> ca = certs::MintCa(cluster, 825, now);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *ca : Ca{};
}

TEST(MintCaTest, IsACaThatSignsLeavesOnly) {
  const Ca ca = MustCa("prod");
  ssl::X509Ptr cert = ReadCert(ca.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(Subject(cert.get()), "CN=Switchyard CA,OU=prod,O=Switchyard");
  // Self-signed, with the key given back, which is a P-256 key.
  ssl::KeyPtr key = ReadKey(ca.key_pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  char group[64] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof(group), nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(ca.cluster, "prod");
  EXPECT_EQ(ca.not_after, kNow + days(certs::kCaDays));
  // Backdated an hour: a verifier whose clock runs behind still takes it.
  time_t before = std::chrono::system_clock::to_time_t(kNow - std::chrono::minutes(59));
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(cert.get()), &before), 0);
  before = std::chrono::system_clock::to_time_t(kNow - std::chrono::minutes(61));
  EXPECT_GT(X509_cmp_time(X509_get0_notBefore(cert.get()), &before), 0);
}

TEST(MintLeafTest, TheLongestNamesFit) {
  const std::string longest(63, 'a');
  const Ca ca = MustCa(longest);
  absl::StatusOr<Leaf> controller = certs::MintController(ca, longest, longest, 825, kNow);
  ASSERT_TRUE(controller.ok()) << controller.status();
  ExpectLeaf(ca.cert_pem, controller->cert_pem, controller->key_pem, X509_PURPOSE_SSL_CLIENT,
             "URI:switchyard://" + longest + "/controller/" + longest);
  const std::string host = longest + "." + longest + "." + longest + "." + std::string(61, 'b');
  ASSERT_EQ(host.size(), 253u);
  absl::StatusOr<Leaf> agent = certs::MintAgent(ca, longest, longest, host, 825, kNow);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ExpectLeaf(ca.cert_pem, agent->cert_pem, agent->key_pem, X509_PURPOSE_SSL_SERVER, "DNS:" + host);
}

TEST(MintCaTest, OutlivesLongerLeaves) {
  absl::StatusOr<Ca> ca = certs::MintCa("prod", 5000, kNow);
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(ca->not_after, kNow + days(5000));
}

TEST(MintControllerTest, IsAClientCertificateNamingTheController) {
  const Ca ca = MustCa("prod");
  absl::StatusOr<Leaf> leaf = certs::MintController(ca, "prod", "c1", 825, kNow);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  ExpectLeaf(ca.cert_pem, leaf->cert_pem, leaf->key_pem, X509_PURPOSE_SSL_CLIENT,
             "URI:switchyard://prod/controller/c1");
  EXPECT_EQ(Subject(ReadCert(leaf->cert_pem).get()), "CN=c1,OU=prod,O=Switchyard");
  EXPECT_EQ(leaf->not_after, kNow + days(825));
}

TEST(MintAgentTest, IsAServerCertificateForItsAddress) {
  const Ca ca = MustCa("prod");
  struct Case {
    std::string host;
    std::string san;
    std::string other;  // an address the certificate must not pass for
  };
  for (const Case& c :
       {Case{"10.0.0.5", "IP:10.0.0.5", "10.0.0.6"}, Case{"fd00::5", "IP:fd00::5", "fd00::6"},
        Case{"db1.example.com", "DNS:db1.example.com", "db2.example.com"}}) {
    SCOPED_TRACE(c.host);
    absl::StatusOr<Leaf> leaf = certs::MintAgent(ca, "prod", "db1", c.host, 825, kNow);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    ExpectLeaf(ca.cert_pem, leaf->cert_pem, leaf->key_pem, X509_PURPOSE_SSL_SERVER, c.san);
    ssl::X509Ptr cert = ReadCert(leaf->cert_pem);
    EXPECT_EQ(Subject(cert.get()), "CN=db1,OU=prod,O=Switchyard");
    // What the controller checks when it dials the address of the spec.
    const bool ip = c.san.starts_with("IP:");
    auto matches = [&](const std::string& host) {
      return ip ? X509_check_ip_asc(cert.get(), host.c_str(), 0)
                : X509_check_host(cert.get(), host.c_str(), host.size(), 0, nullptr);
    };
    EXPECT_EQ(matches(c.host), 1);
    EXPECT_EQ(matches(c.other), 0);
  }
  EXPECT_FALSE(certs::MintAgent(ca, "prod", "db1", "10.0.0.256", 825, kNow).ok());
  EXPECT_FALSE(certs::MintAgent(ca, "prod", "db1", "db 1", 825, kNow).ok());
}

TEST(MintLeafTest, SerialsAreRandomAndLong) {
  const Ca ca = MustCa("prod");
  auto serial = [&](const std::string& pem) {
    ssl::X509Ptr cert = ReadCert(pem);
    ssl::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
    return bn;
  };
  absl::StatusOr<Leaf> a = certs::MintController(ca, "prod", "c1", 825, kNow);
  absl::StatusOr<Leaf> b = certs::MintController(ca, "prod", "c1", 825, kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  ssl::BignumPtr sa = serial(a->cert_pem);
  ssl::BignumPtr sb = serial(b->cert_pem);
  EXPECT_NE(BN_cmp(sa.get(), sb.get()), 0);
  EXPECT_LE(BN_num_bits(sa.get()), 128);
  // Both below 2^96 happens once in 2^64 runs: a short serial is a bug.
  EXPECT_GT(std::max(BN_num_bits(sa.get()), BN_num_bits(sb.get())), 96);
  EXPECT_NE(a->key_pem, b->key_pem);
}

TEST(MintLeafTest, EndsWithTheCaAtTheLatest) {
  const Ca ca = MustCa("prod");
  const certs::Time late = kNow + days(certs::kCaDays - 100);
  absl::StatusOr<Leaf> leaf = certs::MintAgent(ca, "prod", "db1", "10.0.0.5", 825, late);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(leaf->not_after, ca.not_after);
  ssl::X509Ptr cert = ReadCert(leaf->cert_pem);
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(cert.get()),
                              X509_get0_notAfter(ReadCert(ca.cert_pem).get())),
            0);
  // An expired CA signs nothing.
  EXPECT_EQ(
      certs::MintAgent(ca, "prod", "db1", "10.0.0.5", 825, ca.not_after + days(1)).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(LoadCaTest, ReadsBackWhatWasMinted) {
  const Ca ca = MustCa("prod");
  absl::StatusOr<Ca> loaded = certs::LoadCa(ca.cert_pem, ca.key_pem, kNow);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->cluster, "prod");
  EXPECT_EQ(loaded->not_after, ca.not_after);
  EXPECT_EQ(loaded->cert_pem, ca.cert_pem);
}

TEST(LoadCaTest, RefusesWhatCannotSign) {
  const Ca ca = MustCa("prod");
  const Ca other = MustCa("prod");
  absl::StatusOr<Leaf> leaf = certs::MintController(ca, "prod", "c1", 825, kNow);
  ASSERT_TRUE(leaf.ok());
  struct Case {
    std::string cert;
    std::string key;
    certs::Time now;
    std::string message;
  };
  for (const Case& c : {
           Case{ca.cert_pem, other.key_pem, kNow, "the key is not the certificate's"},
           Case{leaf->cert_pem, leaf->key_pem, kNow, "the certificate is no CA"},
           Case{"garbage", ca.key_pem, kNow, "the certificate is not PEM"},
           Case{ca.cert_pem, "", kNow, "the key is not an unencrypted PEM private key"},
           Case{ca.cert_pem, ca.key_pem, ca.not_after, "the certificate has expired"},
       }) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<Ca> loaded = certs::LoadCa(c.cert, c.key, c.now);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(loaded.status().message(), c.message)) << loaded.status();
  }
}

TEST(ParseAgentArgTest, AddressesWithAndWithoutPorts) {
  struct Case {
    std::string arg;
    std::string name;
    std::string host;
    bool ip;
  };
  for (const Case& c : {
           Case{"db1=10.0.0.5", "db1", "10.0.0.5", true},
           Case{"db1=10.0.0.5:7443", "db1", "10.0.0.5", true},
           Case{"db_1.a-b=db1.example.com:7443", "db_1.a-b", "db1.example.com", false},
           Case{"db1=localhost", "db1", "localhost", false},
           Case{"db1=fd00::5", "db1", "fd00::5", true},
           Case{"db1=[fd00::5]", "db1", "fd00::5", true},
           Case{"db1=[fd00::5]:7443", "db1", "fd00::5", true},
       }) {
    SCOPED_TRACE(c.arg);
    absl::StatusOr<certs::AgentArg> a = certs::ParseAgentArg(c.arg);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->name, c.name);
    EXPECT_EQ(a->host, c.host);
    EXPECT_EQ(a->ip, c.ip);
  }
}

TEST(ParseAgentArgTest, RefusesSayingWhy) {
  struct Case {
    std::string arg;
    std::string message;
  };
  for (const Case& c : {
           Case{"db1", "--agent db1: want NAME=ADDRESS, e.g. db1=10.0.0.5:7443"},
           Case{"db/1=10.0.0.5",
                "--agent db/1=10.0.0.5: the name \"db/1\" must be 1 to 63 of A-Za-z0-9_.-"},
           Case{"=10.0.0.5", "--agent =10.0.0.5: the name \"\" must be 1 to 63 of A-Za-z0-9_.-"},
           Case{"db1=", "--agent db1=: \"\" is neither an IP address nor a DNS name"},
           Case{"db1=10.0.0.5:",
                "--agent db1=10.0.0.5:: the port must be a number from 1 to 65535"},
           Case{"db1=10.0.0.5:0",
                "--agent db1=10.0.0.5:0: the port must be a number from 1 to 65535"},
           Case{"db1=10.0.0.5:65536",
                "--agent db1=10.0.0.5:65536: the port must be a number from 1 to 65535"},
           Case{"db1=10.0.0.5:+1",
                "--agent db1=10.0.0.5:+1: the port must be a number from 1 to 65535"},
           Case{"db1=10.0.0.256",
                "--agent db1=10.0.0.256: \"10.0.0.256\" is neither an IP address nor a DNS name"},
           Case{"db1=db_1.example",
                "--agent db1=db_1.example: \"db_1.example\" is neither an IP address nor a DNS "
                "name"},
           Case{"db1=-db.example",
                "--agent db1=-db.example: \"-db.example\" is neither an IP address nor a DNS name"},
           Case{"db1=db..example",
                "--agent db1=db..example: \"db..example\" is neither an IP address nor a DNS name"},
           Case{"db1=[10.0.0.5]:7443",
                "--agent db1=[10.0.0.5]:7443: \"10.0.0.5\" in brackets is no IPv6 address"},
           Case{"db1=[fd00::5]x",
                "--agent db1=[fd00::5]x: write an IPv6 address with a port as [ADDRESS]:PORT"},
           Case{"db1=[fd00::5",
                "--agent db1=[fd00::5: write an IPv6 address with a port as "
                "[ADDRESS]:PORT"},
           Case{"db1=fd00::5::7443",
                "--agent db1=fd00::5::7443: \"fd00::5::7443\" is neither an IP address nor a DNS "
                "name"},
       }) {
    absl::StatusOr<certs::AgentArg> a = certs::ParseAgentArg(c.arg);
    ASSERT_FALSE(a.ok()) << c.arg;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(a.status().message(), c.message);
  }
}

TEST(CheckNameTest, OneToSixtyThreeOfTheAlphabet) {
  EXPECT_TRUE(certs::CheckName("--controller", "c-1.a_B").ok());
  EXPECT_TRUE(certs::CheckName("--controller", std::string(63, 'a')).ok());
  EXPECT_FALSE(certs::CheckName("--controller", std::string(64, 'a')).ok());
  for (const char* bad : {"", "a b", "a/b", "a:b", "a,b", "é", "a=b"}) {
    EXPECT_FALSE(certs::CheckName("--controller", bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace sy::app::testing
