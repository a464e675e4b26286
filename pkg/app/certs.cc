#include "pkg/app/certs.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/app/ssl_ptr.h"
#include "pkg/util/status_macros.h"

namespace sy::app::certs {
namespace {

using ssl::X509Ptr;

// The subject's organization that marks a CA as made by `yardctl certs`; its
// organizational unit is then the cluster.
constexpr char kOrganization[] = "Switchyard";
// Certificates start an hour before they are made: the machines that check them may run
// a little behind the one that minted them, and a certificate "not yet valid" fails the
// handshake as surely as an expired one.
constexpr std::chrono::hours kBackdate{1};
constexpr size_t kMaxName = 63;

// OpenSSL's queued errors as one message, emptying the queue.
absl::Status SslError(absl::StatusCode code, absl::string_view what) {
  std::string detail;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&detail, detail.empty() ? "" : "; ", buf);
  }
  return absl::Status(
      code, absl::StrCat(what, detail.empty() ? "" : " (", detail, detail.empty() ? "" : ")"));
}
absl::Status Internal(absl::string_view what) {
  return SslError(absl::StatusCode::kInternal, absl::StrCat("OpenSSL cannot ", what));
}

// An IPv4 or IPv6 address in text form, as inet_pton reads it.
bool IsIp(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// A host name of RFC 1123 labels. The last label may not be all digits (RFC 3696 §2):
// "10.0.0.256" is a mistyped address, not a name.
bool IsDnsName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  const std::vector<absl::string_view> labels = absl::StrSplit(host, '.');
  for (absl::string_view l : labels) {
    if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
    for (char c : l) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  return !std::all_of(labels.back().begin(), labels.back().end(), absl::ascii_isdigit);
}

Time NotAfterOf(const X509* cert) {
  std::tm tm{};
  ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

absl::StatusOr<std::string> ToPem(const X509* cert, const EVP_PKEY* key) {
  ssl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return Internal("allocate a buffer");
  if (cert != nullptr && PEM_write_bio_X509(bio.get(), cert) != 1) {
    return Internal("write a certificate as PEM");
  }
  // PKCS #8, unencrypted: the daemon and the agent read it without a passphrase, so the
  // file's mode (0600) is what protects it.
  if (key != nullptr &&
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal("write a private key as PEM");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

ssl::BioPtr ReadBuffer(absl::string_view pem) {
  return ssl::BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Never asks for a passphrase: an encrypted key is an error, not a prompt on the terminal.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

std::string NameEntry(X509_NAME* name, int nid) {
  const int len = X509_NAME_get_text_by_NID(name, nid, nullptr, 0);
  if (len <= 0) return "";
  std::string out(static_cast<size_t>(len) + 1, '\0');
  X509_NAME_get_text_by_NID(name, nid, out.data(), len + 1);
  out.resize(static_cast<size_t>(len));
  return out;
}

// A new certificate for `key`: version 3, a random 128-bit serial, the subject
// O=Switchyard, OU=<cluster>, CN=<common_name>, valid from an hour before `now` until
// `not_after`. Issuer, extensions and signature are the caller's.
absl::StatusOr<X509Ptr> NewCertificate(EVP_PKEY* key, absl::string_view cluster,
                                       absl::string_view common_name, Time now, Time not_after) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Internal("make a certificate");
  }
  // Random serials (CA/Browser Forum: at least 64 bits of them) keep two certificates of
  // the same CA apart without a counter to store next to ca.key.
  ssl::BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Internal("draw a serial number");
  }
  const time_t from = std::chrono::system_clock::to_time_t(now - kBackdate);
  const time_t until = std::chrono::system_clock::to_time_t(not_after);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), from) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), until) == nullptr) {
    return Internal("set the validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  auto add = [subject](const char* field, absl::string_view value) {
    return X509_NAME_add_entry_by_txt(subject, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (!add("O", kOrganization) || !add("OU", cluster) || !add("CN", common_name)) {
    return Internal("set the subject");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return Internal("set the public key");
  return cert;
}

// Adds an extension given in OpenSSL's configuration syntax ("critical,CA:TRUE").
// `issuer` may be `cert` itself (a self-signed CA).
absl::Status AddExtension(X509* cert, const X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), cert, nullptr, nullptr, 0);
  ssl::ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal(absl::StrCat("add the extension ", OBJ_nid2sn(nid), " = ", value));
  }
  return absl::OkStatus();
}

// subjectAltName with one name of `type` (GEN_URI, GEN_DNS or GEN_IPADD). Built as a
// structure rather than from "URI:..." text, so no character of a name is ever syntax.
absl::Status AddAltName(X509* cert, int type, const std::string& value) {
  ssl::NamesPtr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (!names || name == nullptr || sk_GENERAL_NAME_push(names.get(), name) == 0) {
    GENERAL_NAME_free(name);
    return Internal("make a subjectAltName");
  }
  ASN1_STRING* data = nullptr;
  if (type == GEN_IPADD) {
    data = a2i_IPADDRESS(value.c_str());
  } else {
    data = ASN1_IA5STRING_new();
    if (data != nullptr &&
        ASN1_STRING_set(data, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_STRING_free(data);
      data = nullptr;
    }
  }
  if (data == nullptr) return Internal(absl::StrCat("encode the name ", value));
  GENERAL_NAME_set0_value(name, type, data);
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Internal("add the subjectAltName");
  }
  return absl::OkStatus();
}

absl::Status Sign(X509* cert, EVP_PKEY* key) {
  // EdDSA signs the message itself, without a separate digest; a CA made elsewhere may
  // hold such a key. ECDSA and RSA sign a SHA-256 hash.
  const int type = EVP_PKEY_get_base_id(key);
  const EVP_MD* md = type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448 ? nullptr : EVP_sha256();
  if (X509_sign(cert, key, md) <= 0) return Internal("sign the certificate");
  return absl::OkStatus();
}

// A CA's certificate and key as OpenSSL objects, checked to be able to sign at `now`.
struct ParsedCa {
  X509Ptr cert;
  ssl::KeyPtr key;
};
absl::StatusOr<ParsedCa> ParseCa(absl::string_view cert_pem, absl::string_view key_pem, Time now) {
  ERR_clear_error();
  ssl::BioPtr cert_in = ReadBuffer(cert_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_in.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) return SslError(absl::StatusCode::kInvalidArgument, "the certificate is not PEM");
  ssl::BioPtr key_in = ReadBuffer(key_pem);
  ssl::KeyPtr key(PEM_read_bio_PrivateKey(key_in.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return SslError(absl::StatusCode::kInvalidArgument,
                    "the key is not an unencrypted PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the key is not the certificate's");
  }
  if (X509_check_ca(cert.get()) != 1) {
    return absl::InvalidArgumentError("the certificate is no CA (basicConstraints CA:TRUE)");
  }
  if (NotAfterOf(cert.get()) <= now) {
    return absl::InvalidArgumentError("the certificate has expired");
  }
  return ParsedCa{std::move(cert), std::move(key)};
}

// A leaf for `ca`: a new P-256 key, CA:FALSE, digitalSignature (all ECDHE with ECDSA asks
// of a key), the given extendedKeyUsage and subjectAltName.
absl::StatusOr<Leaf> MintLeaf(const Ca& ca, absl::string_view cluster, absl::string_view cn,
                              const char* usage, int san_type, const std::string& san, int days,
                              Time now) {
  SY_ASSIGN_OR_RETURN(const ParsedCa issuer, ParseCa(ca.cert_pem, ca.key_pem, now));
  X509* ca_cert = issuer.cert.get();

  ssl::KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal("generate a P-256 key");
  // Never past the CA: a chain is valid only while every certificate in it is.
  const Time not_after = std::min(now + std::chrono::days(days), NotAfterOf(ca_cert));
  SY_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(key.get(), cluster, cn, now, not_after));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1) {
    return Internal("set the issuer");
  }
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE"));
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature"));
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_ext_key_usage, usage));
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_subject_key_identifier, "hash"));
  // Names the CA's key, so that a verifier holding an old and a new CA with one subject
  // (after --force) picks the right one.
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_authority_key_identifier, "keyid"));
  SY_RETURN_IF_ERROR(AddAltName(cert.get(), san_type, san));
  SY_RETURN_IF_ERROR(Sign(cert.get(), issuer.key.get()));

  SY_ASSIGN_OR_RETURN(std::string cert_pem, ToPem(cert.get(), nullptr));
  SY_ASSIGN_OR_RETURN(std::string key_pem, ToPem(nullptr, key.get()));
  return Leaf{std::move(cert_pem), std::move(key_pem), NotAfterOf(cert.get())};
}

}  // namespace

absl::StatusOr<Ca> MintCa(absl::string_view cluster, int days, Time now) {
  ERR_clear_error();  // so that an error names only what failed here
  ssl::KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal("generate a P-256 key");
  const Time not_after = now + std::chrono::days(std::max(kCaDays, days));
  SY_ASSIGN_OR_RETURN(X509Ptr cert,
                      NewCertificate(key.get(), cluster, "Switchyard CA", now, not_after));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return Internal("set the issuer");
  }
  // pathlen 0: this CA signs controllers and agents, never another CA.
  SY_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  SY_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  SY_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  SY_RETURN_IF_ERROR(Sign(cert.get(), key.get()));
  SY_ASSIGN_OR_RETURN(std::string cert_pem, ToPem(cert.get(), nullptr));
  SY_ASSIGN_OR_RETURN(std::string key_pem, ToPem(nullptr, key.get()));
  return Ca{std::move(cert_pem), std::move(key_pem), std::string(cluster), NotAfterOf(cert.get())};
}

absl::StatusOr<Ca> LoadCa(absl::string_view cert_pem, absl::string_view key_pem, Time now) {
  SY_ASSIGN_OR_RETURN(const ParsedCa parsed, ParseCa(cert_pem, key_pem, now));
  Ca ca;
  ca.cert_pem = std::string(cert_pem);
  ca.key_pem = std::string(key_pem);
  ca.not_after = NotAfterOf(parsed.cert.get());
  X509_NAME* subject = X509_get_subject_name(parsed.cert.get());
  if (NameEntry(subject, NID_organizationName) == kOrganization) {
    ca.cluster = NameEntry(subject, NID_organizationalUnitName);
  }
  return ca;
}

std::string ControllerUri(absl::string_view cluster, absl::string_view id) {
  return absl::StrCat("switchyard://", cluster, "/controller/", id);
}

absl::StatusOr<Leaf> MintController(const Ca& ca, absl::string_view cluster, absl::string_view id,
                                    int days, Time now) {
  return MintLeaf(ca, cluster, id, "clientAuth", GEN_URI, ControllerUri(cluster, id), days, now);
}

absl::StatusOr<Leaf> MintAgent(const Ca& ca, absl::string_view cluster, absl::string_view name,
                               absl::string_view host, int days, Time now) {
  const std::string h(host);
  if (IsIp(h)) return MintLeaf(ca, cluster, name, "serverAuth", GEN_IPADD, h, days, now);
  if (IsDnsName(h)) return MintLeaf(ca, cluster, name, "serverAuth", GEN_DNS, h, days, now);
  return absl::InvalidArgumentError(
      absl::StrCat("\"", host, "\" is neither an IP address nor a DNS name"));
}

absl::Status CheckName(absl::string_view what, absl::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= kMaxName && std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
      });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": the name \"", name, "\" must be 1 to ", kMaxName, " of A-Za-z0-9_.-"));
}

absl::StatusOr<AgentArg> ParseAgentArg(absl::string_view arg) {
  const std::string what = absl::StrCat("--agent ", arg);
  const size_t eq = arg.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": want NAME=ADDRESS, e.g. db1=10.0.0.5:7443"));
  }
  AgentArg out;
  out.name = std::string(arg.substr(0, eq));
  SY_RETURN_IF_ERROR(CheckName(what, out.name));
  const absl::string_view address = arg.substr(eq + 1);
  absl::string_view host = address;
  std::optional<absl::string_view> port;
  if (!address.empty() && address.front() == '[') {  // [IPv6] or [IPv6]:PORT
    const size_t close = address.find(']');
    const absl::string_view rest =
        close == absl::string_view::npos ? "" : address.substr(close + 1);
    if (close == absl::string_view::npos || (!rest.empty() && rest.front() != ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": write an IPv6 address with a port as [ADDRESS]:PORT"));
    }
    host = address.substr(1, close - 1);
    if (!rest.empty()) port = rest.substr(1);
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET6, std::string(host).c_str(), buf) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": \"", host, "\" in brackets is no IPv6 address"));
    }
  } else if (std::count(address.begin(), address.end(), ':') == 1) {  // HOST:PORT
    const size_t colon = address.find(':');
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }  // else a name, an IPv4 address, or an IPv6 address without a port
  int n = 0;
  if (port && (port->empty() || !std::all_of(port->begin(), port->end(), absl::ascii_isdigit) ||
               !absl::SimpleAtoi(*port, &n) || n < 1 || n > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the port must be a number from 1 to 65535"));
  }
  out.host = std::string(host);
  out.ip = IsIp(out.host);
  if (!out.ip && !IsDnsName(out.host)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", out.host, "\" is neither an IP address nor a DNS name"));
  }
  return out;
}

}  // namespace sy::app::certs
