#include "pkg/agent/agent_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sy::agent {
namespace {

using std::chrono::milliseconds;

// Where the refusal code travels in a status (AgentCodeOf).
constexpr char kCodePayload[] = "type.switchyard.dev/agent-code";
// How long an agent may take on top of the time it was told it may hold a request.
constexpr milliseconds kReplyMargin{500};
// Idle kept-alive connections kept per agent; more concurrent requests open more.
constexpr size_t kIdleConnections = 4;

struct HostPort {
  std::string host;
  int port = 0;
};

// "host:port" or "[v6]:port".
absl::StatusOr<HostPort> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  HostPort hp;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &hp.port) || hp.port <= 0 || hp.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent address \"", address, "\" must be host:port"));
  }
  hp.host = address.substr(0, colon);
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  return hp;
}

// Op ids are made of the era, numbers, the resource's uid and step names; anything else is
// escaped rather than trusted to be safe in a path.
std::string EscapePathSegment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// cpp-httplib's error names, as a sentence an operator reads.
std::string Describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer in time (or the connection closed)";
    case httplib::Error::Write:
      return "the request could not be sent";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "TLS certificates could not be loaded";
    case httplib::Error::SSLServerVerification:
      return "its certificate is not trusted or does not name this address";
    default:
      return Lower(httplib::to_string(e));
  }
}

}  // namespace

std::optional<Code> AgentCodeOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kCodePayload);
  if (!p) return std::nullopt;
  return ParseCode(std::string(*p));
}

struct AgentClient::Impl {
  HostPort hp;
  AgentTransport transport;
  AgentStats* stats = nullptr;
  const util::Clock* clock = nullptr;
  std::mutex mu;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle;

  std::unique_ptr<httplib::ClientImpl> NewConnection() const {
    std::unique_ptr<httplib::ClientImpl> c;
    if (transport.insecure_http) {
      c = std::make_unique<httplib::ClientImpl>(hp.host, hp.port);
    } else {
      auto ssl = std::make_unique<httplib::SSLClient>(hp.host, hp.port, transport.cert_file,
                                                      transport.key_file);
      ssl->set_ca_cert_path(transport.ca_file);
      // The agent's certificate must chain to the CA and name the address the spec gives: a
      // machine that impersonates an agent could report a running primary as stopped.
      ssl->enable_server_certificate_verification(true);
      // The name is checked by OpenSSL inside the handshake: cpp-httplib 0.11's own check
      // after it reads uninitialised memory for an IP address and falls back to the common
      // name, so it accepts a certificate for another address whose CN is this one.
      // No context: the certificate or key could not be loaded (Create reports it).
      if (ssl->ssl_context() == nullptr) return ssl;
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ssl->ssl_context());
      in6_addr ip6{};
      in_addr ip4{};
      const bool is_ip = inet_pton(AF_INET, hp.host.c_str(), &ip4) == 1 ||
                         inet_pton(AF_INET6, hp.host.c_str(), &ip6) == 1;
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, hp.host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, hp.host.c_str(), hp.host.size());
      }
      c = std::move(ssl);
    }
    // Without it every request waits for the delayed ACK: about 40 ms instead of 1.
    c->set_tcp_nodelay(true);
    c->set_keep_alive(true);
    const auto connect =
        std::chrono::duration_cast<std::chrono::microseconds>(transport.connect_timeout);
    c->set_connection_timeout(static_cast<time_t>(connect.count() / 1'000'000),
                              static_cast<time_t>(connect.count() % 1'000'000));
    c->set_write_timeout(static_cast<time_t>(connect.count() / 1'000'000) + 1);
    return c;
  }

  // A kept-alive connection (reused: true) or, with `fresh` or none idle, a new one.
  std::pair<std::unique_ptr<httplib::ClientImpl>, bool> Take(bool fresh) {
    if (!fresh) {
      std::lock_guard<std::mutex> l(mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return {std::move(c), true};
      }
    }
    return {NewConnection(), false};
  }
  void Give(std::unique_ptr<httplib::ClientImpl> c) {
    std::lock_guard<std::mutex> l(mu);
    if (idle.size() < kIdleConnections) idle.push_back(std::move(c));
  }

  struct Answer {
    int status = 0;
    std::string body;
    std::chrono::steady_clock::time_point at;
  };

  // One exchange: a transport failure is kUnavailable (recorded here); an answer is returned
  // for the caller to decode and record.
  absl::StatusOr<Answer> Exchange(const std::string& address, std::string_view verb,
                                  const std::string& method, const std::string& path,
                                  const std::string& body, milliseconds read_timeout) {
    const auto t0 = clock->MonotonicNow();
    for (int attempt = 0;; ++attempt) {
      auto [conn, reused] = Take(/*fresh=*/attempt > 0);
      const auto rt = std::chrono::duration_cast<std::chrono::microseconds>(read_timeout);
      conn->set_read_timeout(static_cast<time_t>(rt.count() / 1'000'000),
                             static_cast<time_t>(rt.count() % 1'000'000));
      const auto sent = clock->MonotonicNow();
      httplib::Result res = method == "GET" ? conn->Get(path.c_str())
                                            : conn->Post(path.c_str(), body, "application/json");
      const auto at = clock->MonotonicNow();
      if (res) {
        Answer a{res->status, res->body, at};
        Give(std::move(conn));
        return a;
      }
      // An agent closes a kept-alive connection that stayed idle: a request on it fails at
      // once. Sending it again on a new connection is harmless (observations and polls read;
      // a submission is idempotent by its op id), and avoids reporting a machine unknown for
      // a connection's age.
      if (reused && attempt == 0 && at - sent < read_timeout / 4 &&
          (res.error() == httplib::Error::Read || res.error() == httplib::Error::Write)) {
        continue;
      }
      const std::string error = absl::StrCat("agent ", address, " unreachable (", std::string(verb),
                                             "): ", Describe(res.error()));
      stats->Record(address, verb, AgentStats::kUnreachable, at - t0, false, error);
      return absl::UnavailableError(error);
    }
  }
};

AgentClient::AgentClient(std::string address, std::unique_ptr<Impl> impl)
    : address_(std::move(address)), impl_(std::move(impl)) {}
AgentClient::~AgentClient() = default;

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::Create(const std::string& address,
                                                                 const AgentTransport& transport,
                                                                 AgentStats& stats,
                                                                 const util::Clock& clock) {
  absl::StatusOr<HostPort> hp = ParseAddress(address);
  if (!hp.ok()) return hp.status();
  auto impl = std::make_unique<Impl>();
  impl->hp = *hp;
  impl->transport = transport;
  impl->stats = &stats;
  impl->clock = &clock;
  std::unique_ptr<httplib::ClientImpl> probe = impl->NewConnection();
  if (!probe->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat("agent ", address, ": the client certificate (",
                                                   transport.cert_file, ") or key (",
                                                   transport.key_file, ") cannot be loaded"));
  }
  impl->Give(std::move(probe));
  return std::unique_ptr<AgentClient>(new AgentClient(address, std::move(impl)));
}

milliseconds AgentClient::PollSlice() const {
  const milliseconds read = impl_->transport.read_timeout;
  return std::max(milliseconds(0), read - std::min(kReplyMargin, read / 4));
}

namespace {

// Decodes an answer: the expected reply for `ok_statuses`, else the agent's refusal. Records
// the request either way.
template <typename Reply, typename DecodeFn>
absl::StatusOr<Reply> Interpret(AgentStats& stats, const std::string& address,
                                std::string_view verb, std::chrono::nanoseconds latency, int status,
                                const std::string& body, bool accepted, DecodeFn decode,
                                Code* code_out) {
  auto bad = [&](const std::string& why) {
    const std::string error =
        absl::StrCat("agent ", address, " answered ", std::string(verb), " with HTTP ", status,
                     " that is not the protocol: ", why);
    stats.Record(address, verb, AgentStats::kBadReply, latency, true, error);
    return absl::InternalError(error);
  };
  if (accepted) {
    absl::StatusOr<Reply> r = decode(body);
    if (!r.ok()) return bad(std::string(r.status().message()));
    *code_out = Code::kOk;
    return r;
  }
  absl::StatusOr<ErrorReply> e = DecodeErrorReply(body);
  if (!e.ok()) return bad(body.substr(0, 200));
  *code_out = e->code;
  const std::string error = absl::StrCat("agent ", address, " refused ", std::string(verb), ": ",
                                         std::string(CodeName(e->code)), ": ", e->message);
  stats.Record(address, verb, CodeName(e->code), latency, true, error);
  absl::Status s(StatusCodeOf(e->code) == absl::StatusCode::kOk ? absl::StatusCode::kInternal
                                                                : StatusCodeOf(e->code),
                 error);
  s.SetPayload(kCodePayload, absl::Cord(std::string(CodeName(e->code))));
  return s;
}

}  // namespace

absl::StatusOr<AgentInfo> AgentClient::Info() {
  const auto t0 = impl_->clock->MonotonicNow();
  absl::StatusOr<Impl::Answer> a =
      impl_->Exchange(address_, "info", "GET", "/v1/info", "", impl_->transport.read_timeout);
  if (!a.ok()) return a.status();
  Code code = Code::kOk;
  absl::StatusOr<AgentInfo> info = Interpret<AgentInfo>(
      *impl_->stats, address_, "info", a->at - t0, a->status, a->body, a->status == 200,
      [](const std::string& b) { return DecodeAgentInfo(b); }, &code);
  if (info.ok()) impl_->stats->Record(address_, "info", "OK", a->at - t0, true, "");
  return info;
}

absl::Status AgentClient::AnnounceEpoch(const EpochRequest& request) {
  const auto t0 = impl_->clock->MonotonicNow();
  // An announcement is short by design: an agent that takes longer learns the epoch from the
  // first observation instead of delaying the daemon's start.
  absl::StatusOr<Impl::Answer> a =
      impl_->Exchange(address_, "epoch", "POST", "/v1/epoch", EncodeEpochRequest(request),
                      std::min(impl_->transport.read_timeout, milliseconds(1000)));
  if (!a.ok()) return a.status();
  Code code = Code::kOk;
  // An accepted announcement answers with the agent's state; only its code matters here.
  absl::StatusOr<ErrorReply> r = Interpret<ErrorReply>(
      *impl_->stats, address_, "epoch", a->at - t0, a->status, a->body, a->status == 200,
      [](const std::string& b) -> absl::StatusOr<ErrorReply> {
        if (absl::StatusOr<ErrorReply> e = DecodeErrorReply(b); e.ok()) return e;
        absl::StatusOr<AgentInfo> info = DecodeAgentInfo(b);
        if (!info.ok()) return info.status();
        return ErrorReply{.agent = *info, .code = Code::kOk, .message = ""};
      },
      &code);
  if (!r.ok()) return r.status();
  if (r->code != Code::kOk) {
    return Interpret<ErrorReply>(
               *impl_->stats, address_, "epoch", a->at - t0, a->status, a->body, false,
               [](const std::string& b) { return DecodeErrorReply(b); }, &code)
        .status();
  }
  impl_->stats->Record(address_, "epoch", "OK", a->at - t0, true, "");
  return absl::OkStatus();
}

absl::StatusOr<ObserveReply> AgentClient::Observe(const ObserveRequest& request) {
  const auto t0 = impl_->clock->MonotonicNow();
  absl::StatusOr<Impl::Answer> a =
      impl_->Exchange(address_, "observe", "POST", "/v1/observe", EncodeObserveRequest(request),
                      impl_->transport.read_timeout);
  if (!a.ok()) return a.status();
  Code code = Code::kOk;
  absl::StatusOr<ObserveReply> r = Interpret<ObserveReply>(
      *impl_->stats, address_, "observe", a->at - t0, a->status, a->body, a->status == 200,
      [](const std::string& b) { return DecodeObserveReply(b); }, &code);
  if (!r.ok()) return r.status();
  if (r->code != Code::kOk) {
    // A 200 that carries a refusal is one all the same.
    return Interpret<ObserveReply>(
               *impl_->stats, address_, "observe", a->at - t0, a->status, a->body, false,
               [](const std::string& b) { return DecodeObserveReply(b); }, &code)
        .status();
  }
  impl_->stats->Record(address_, "observe", "OK", a->at - t0, true, "");
  return r;
}

namespace {

absl::StatusOr<Received<OpReply>> OpAnswer(AgentStats& stats, const std::string& address,
                                           std::string_view verb, std::chrono::nanoseconds latency,
                                           int status, const std::string& body,
                                           std::chrono::steady_clock::time_point at) {
  Code code = Code::kOk;
  absl::StatusOr<OpReply> r = Interpret<OpReply>(
      stats, address, verb, latency, status, body, status == 200 || status == 202,
      [](const std::string& b) { return DecodeOpReply(b); }, &code);
  if (!r.ok()) return r.status();
  // The operation's own code (a step that failed) is its result, not a refusal of the request.
  stats.Record(address, verb, CodeName(r->state == OpState::kRefused ? r->code : Code::kOk),
               latency, true, "");
  return Received<OpReply>{*std::move(r), at, status};
}

}  // namespace

absl::StatusOr<Received<OpReply>> AgentClient::SubmitOp(const OpRequest& request) {
  const auto t0 = impl_->clock->MonotonicNow();
  absl::StatusOr<Impl::Answer> a =
      impl_->Exchange(address_, "submit", "POST", "/v1/ops", EncodeOpRequest(request),
                      impl_->transport.read_timeout);
  if (!a.ok()) return a.status();
  return OpAnswer(*impl_->stats, address_, "submit", a->at - t0, a->status, a->body, a->at);
}

absl::StatusOr<Received<OpReply>> AgentClient::PollOp(const std::string& op_id, milliseconds wait) {
  wait = std::clamp(wait, milliseconds(0), PollSlice());
  const auto t0 = impl_->clock->MonotonicNow();
  absl::StatusOr<Impl::Answer> a =
      impl_->Exchange(address_, "poll", "GET",
                      absl::StrCat("/v1/ops/", EscapePathSegment(op_id), "?wait_ms=", wait.count()),
                      "", impl_->transport.read_timeout);
  if (!a.ok()) return a.status();
  return OpAnswer(*impl_->stats, address_, "poll", a->at - t0, a->status, a->body, a->at);
}

AgentClients::AgentClients(AgentTransport transport, Epoch epoch, std::string leader,
                           const util::Clock& clock)
    : transport_(std::move(transport)),
      epoch_(std::move(epoch)),
      leader_(std::move(leader)),
      clock_(clock) {}

AgentClients::~AgentClients() = default;

absl::StatusOr<AgentClient*> AgentClients::For(const std::string& address) {
  if (!transport_.Configured()) return absl::InvalidArgumentError(kNoAgentTransport);
  std::lock_guard<std::mutex> l(mu_);
  auto it = clients_.find(address);
  if (it != clients_.end()) return it->second.get();
  absl::StatusOr<std::unique_ptr<AgentClient>> c =
      AgentClient::Create(address, transport_, stats_, clock_);
  if (!c.ok()) return c.status();
  return (clients_[address] = *std::move(c)).get();
}

std::map<std::string, absl::Status> AgentClients::AnnounceAll(
    const std::vector<std::string>& addresses) {
  std::map<std::string, absl::Status> results;
  for (const std::string& a : addresses) results[a] = absl::OkStatus();
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (auto& [address, result] : results) {
    threads.emplace_back([this, &address = address, &result = result] {
      absl::StatusOr<AgentClient*> c = For(address);
      result = c.ok() ? (*c)->AnnounceEpoch({.epoch = epoch_, .leader = leader_}) : c.status();
    });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace sy::agent
