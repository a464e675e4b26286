// Shared by the tests of `yardctl certs`: reading what it minted with OpenSSL's C API, and
// the checks a TLS peer makes (the chain to a CA for a purpose, the names, the key usage).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "pkg/app/ssl_ptr.h"
#include "pkg/util/files.h"

namespace sy::app::testing {

inline ssl::X509Ptr ReadCert(const std::string& pem) {
  ssl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return ssl::X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

inline ssl::KeyPtr ReadKey(const std::string& pem) {
  ssl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return ssl::KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

inline std::string ReadOrEmpty(const std::string& path) {
  auto s = util::ReadFile(path);
  return s.ok() ? *s : "";
}

// "" when `leaf_pem` chains to `ca_pem` for `purpose` (X509_PURPOSE_SSL_CLIENT: a TLS
// client certificate; X509_PURPOSE_SSL_SERVER: a server's), else OpenSSL's reason.
inline std::string VerifyError(const std::string& ca_pem, const std::string& leaf_pem,
                               int purpose) {
  ssl::X509Ptr ca = ReadCert(ca_pem);
  ssl::X509Ptr leaf = ReadCert(leaf_pem);
  if (!ca || !leaf) return "not PEM";
  ssl::StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  ssl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return "";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

// The subjectAltNames as "URI:...", "DNS:...", "IP:...".
inline std::vector<std::string> AltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI || n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->type == GEN_URI ? n->d.uniformResourceIdentifier : n->d.dNSName;
      out.push_back((n->type == GEN_URI ? "URI:" : "DNS:") +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(n->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text,
                sizeof(text));
      out.push_back(std::string("IP:") + text);
    } else {
      out.push_back("other");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// The subject, RFC 2253 ("CN=db1,OU=local,O=Switchyard").
inline std::string Subject(X509* cert) {
  ssl::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// What a TLS peer checks of a leaf: it chains to `ca_pem` for `purpose` and not for the
// other one, has that purpose's extendedKeyUsage, keyUsage digitalSignature only, is no CA,
// names `san` and nothing else, and `key_pem` is its key.
inline void ExpectLeaf(const std::string& ca_pem, const std::string& cert_pem,
                       const std::string& key_pem, int purpose, const std::string& san) {
  const bool client = purpose == X509_PURPOSE_SSL_CLIENT;
  EXPECT_EQ(VerifyError(ca_pem, cert_pem, purpose), "");
  EXPECT_NE(
      VerifyError(ca_pem, cert_pem, client ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT),
      "");
  ssl::X509Ptr cert = ReadCert(cert_pem);
  ssl::KeyPtr key = ReadKey(key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()),
            static_cast<uint32_t>(client ? XKU_SSL_CLIENT : XKU_SSL_SERVER));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(AltNames(cert.get()), std::vector<std::string>{san});
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

}  // namespace sy::app::testing
