// The private certificate authority of one Switchyard cluster and the certificates
// `yardctl certs` signs with it, for the mutual TLS between controllers and switchyard-agents
// (pkg/agent/README.md "Authentication"). PEM in, PEM out: OpenSSL stays inside certs.cc.
// Pure apart from the randomness of keys and serials: no files, the time is given.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sy::app::certs {

using Time = std::chrono::system_clock::time_point;

// How long a new CA is valid, unless the leaves asked for are to live longer: a CA
// outlives the certificates it signs, so that adding one later does not mean a new CA.
inline constexpr int kCaDays = 3650;
// The longest --days yardctl accepts (100 years): ASN.1 times end in 9999.
inline constexpr int kMaxDays = 36500;

// A CA: its certificate and private key (PEM), the cluster it belongs to ("" for a CA
// made elsewhere, which names none) and the end of its validity.
struct Ca {
  std::string cert_pem;
  std::string key_pem;
  std::string cluster;
  Time not_after;
};

// A certificate signed by the CA, its new private key, and the end of its validity.
struct Leaf {
  std::string cert_pem;
  std::string key_pem;
  Time not_after;
};

// Mints a self-signed CA for `cluster`: an ECDSA P-256 key; subject O=Switchyard,
// OU=<cluster>, CN=Switchyard CA (a CN holds 64 characters, a cluster name up to 63);
// basicConstraints CA:TRUE with pathlen 0 (it signs leaves only), keyUsage keyCertSign and
// cRLSign; valid from an hour before `now` for max(kCaDays, days) days. kInternal when
// OpenSSL fails.
absl::StatusOr<Ca> MintCa(absl::string_view cluster, int days, Time now);

// Reads a CA back to sign more certificates with it. kInvalidArgument when either PEM
// cannot be read, the key is not the certificate's, the certificate is no CA, or it
// expired by `now`: the message says which, without file names (the caller has them).
absl::StatusOr<Ca> LoadCa(absl::string_view cert_pem, absl::string_view key_pem, Time now);

// The URI a controller's certificate carries and agents check (controllerPrefix):
// switchyard://<cluster>/controller/<id>.
std::string ControllerUri(absl::string_view cluster, absl::string_view id);

// A controller's client certificate: extendedKeyUsage clientAuth, subjectAltName the
// ControllerUri, CN = id. Valid for `days` from `now`, but never past the CA.
// kInternal when OpenSSL fails.
absl::StatusOr<Leaf> MintController(const Ca& ca, absl::string_view cluster, absl::string_view id,
                                    int days, Time now);

// An agent's server certificate: extendedKeyUsage serverAuth, subjectAltName IP or DNS =
// `host` (what the controller dials, without a port), CN = name. Valid as MintController.
// The CN is a label for people, not the agent's identity: a verifier checks the SAN only
// (OpenSSL's X509_VERIFY_PARAM_set1_ip_asc / set1_host), never cpp-httplib 0.11.4's own
// host check, which accepts a CN equal to the address dialled.
// kInvalidArgument for a host that is neither an IP address nor a DNS name.
absl::StatusOr<Leaf> MintAgent(const Ca& ca, absl::string_view cluster, absl::string_view name,
                               absl::string_view host, int days, Time now);

// The names of clusters, controllers and agents: 1 to 63 of [A-Za-z0-9_.-]. They become
// file names and part of a URI, and a CN holds 64 characters at most. kInvalidArgument
// naming `what` ("--agent db/1").
absl::Status CheckName(absl::string_view what, absl::string_view name);

// An agent as --agent NAME=ADDRESS gives it: ADDRESS is an IPv4 address, an IPv6 address
// (bare or in brackets), or a DNS name, optionally followed by :port, which a certificate
// does not name and is dropped.
struct AgentArg {
  std::string name;
  std::string host;  // the address without port or brackets
  bool ip = false;   // host is an IP address (an IP SAN), else a DNS name (a DNS SAN)
};
// kInvalidArgument quoting `arg` and saying what is wrong.
absl::StatusOr<AgentArg> ParseAgentArg(absl::string_view arg);

}  // namespace sy::app::certs
