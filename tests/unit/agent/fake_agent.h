// An in-process switchyard-agent for the controller's adapters: pkg/server's HttpServer on
// 127.0.0.1 (plain HTTP) with a handler that speaks the protocol as each test scripts it,
// recording every request it got.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/agent/agent_client.h"
#include "pkg/agent/protocol.h"
#include "pkg/api/validation.h"
#include "pkg/server/http_server.h"

namespace sy::agent::testing {

// A request the fake agent got: "observe blue", "submit <op id>", "poll <op id>", "epoch",
// "info".
struct Call {
  std::string what;
  std::string op_id;
};

inline AgentInfo TheAgent() { return {"fake-agent", "test", {"era-1", 5}}; }

inline server::HttpResponse Json(int status, std::string body) {
  return server::HttpResponse(status, "application/json", std::move(body));
}
inline server::HttpResponse Refuse(Code code, std::string message) {
  return Json(HttpStatusOf(code), EncodeErrorReply({TheAgent(), code, std::move(message)}));
}
inline server::HttpResponse Op(int status, const std::string& id, OpState state,
                               Code code = Code::kOk, std::string message = "") {
  OpReply r;
  r.agent = TheAgent();
  r.op_id = id;
  r.state = state;
  r.code = code;
  r.message = std::move(message);
  return Json(status, EncodeOpReply(r));
}
inline server::HttpResponse Observed(const ObserveReply& r) {
  return Json(200, EncodeObserveReply(r));
}

// What the fake answers to one verb, which a test may replace while the server's threads
// still run the previous one (a handler held past the client's timeout).
template <typename... Args>
class Script {
 public:
  Script& operator=(std::function<server::HttpResponse(Args...)> f) {
    std::lock_guard<std::mutex> l(mu_);
    f_ = std::move(f);
    return *this;
  }
  // Unset: 500 with a body that is not the protocol.
  server::HttpResponse Answer(Args... args) const {
    std::function<server::HttpResponse(Args...)> f;
    {
      std::lock_guard<std::mutex> l(mu_);
      f = f_;
    }
    return f ? f(args...) : Json(500, "not scripted");
  }

 private:
  mutable std::mutex mu_;
  std::function<server::HttpResponse(Args...)> f_;
};

class FakeAgent {
 public:
  // What the handler answers, per verb.
  Script<const ObserveRequest&> on_observe;
  Script<const OpRequest&> on_submit;
  Script<const std::string& /*op_id*/, int64_t /*wait_ms*/> on_poll;
  Script<const EpochRequest&> on_epoch;

  explicit FakeAgent(server::HttpServerOptions options = {}) {
    server_ = std::make_unique<server::HttpServer>(
        [this](const server::HttpRequest& r) { return Handle(r); }, std::move(options));
    EXPECT_TRUE(server_->Start("127.0.0.1:0").ok());
  }
  ~FakeAgent() { server_->Stop(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  std::vector<OpRequest> submitted() const {
    std::lock_guard<std::mutex> l(mu_);
    return submitted_;
  }
  std::vector<ObserveRequest> observed() const {
    std::lock_guard<std::mutex> l(mu_);
    return observed_;
  }

 private:
  server::HttpResponse Handle(const server::HttpRequest& r) {
    const std::string kOps = "/v1/ops/";
    if (r.method == "POST" && r.path == "/v1/observe") {
      absl::StatusOr<ObserveRequest> req = DecodeObserveRequest(r.body);
      if (!req.ok()) return Refuse(Code::kInvalidArgument, std::string(req.status().message()));
      Record({absl::StrCat("observe ", MachineName(req->machine)), ""});
      {
        std::lock_guard<std::mutex> l(mu_);
        observed_.push_back(*req);
      }
      return on_observe.Answer(*req);
    } else if (r.method == "POST" && r.path == "/v1/ops") {
      absl::StatusOr<OpRequest> req = DecodeOpRequest(r.body);
      if (!req.ok()) return Refuse(Code::kInvalidArgument, std::string(req.status().message()));
      Record({"submit", req->op_id});
      {
        std::lock_guard<std::mutex> l(mu_);
        submitted_.push_back(*req);
      }
      return on_submit.Answer(*req);
    } else if (r.method == "GET" && absl::StartsWith(r.path, kOps)) {
      const std::string id = r.path.substr(kOps.size());
      int64_t wait_ms = -1;
      if (!absl::SimpleAtoi(r.Param("wait_ms"), &wait_ms)) wait_ms = -1;
      Record({"poll", id});
      return on_poll.Answer(id, wait_ms);
    } else if (r.method == "POST" && r.path == "/v1/epoch") {
      absl::StatusOr<EpochRequest> req = DecodeEpochRequest(r.body);
      if (!req.ok()) return Refuse(Code::kInvalidArgument, std::string(req.status().message()));
      Record({"epoch", ""});
      return on_epoch.Answer(*req);
    } else if (r.method == "GET" && r.path == "/v1/info") {
      Record({"info", ""});
      return Json(200, EncodeAgentInfo(TheAgent()));
    }
    return Json(500, "not scripted");
  }

  void Record(Call c) {
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back(std::move(c));
  }

  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::vector<OpRequest> submitted_;
  std::vector<ObserveRequest> observed_;
  std::unique_ptr<server::HttpServer> server_;
};

// An address nothing listens on: a server's, stopped.
inline std::string ClosedAddress() {
  server::HttpServer s([](const server::HttpRequest&) { return server::HttpResponse(); });
  EXPECT_TRUE(s.Start("127.0.0.1:0").ok());
  const int port = s.port();
  s.Stop();
  return absl::StrCat("127.0.0.1:", port);
}

// A resource whose databases (and nginx, unless `nginx_agent` is empty) are on agents.
inline api::DeploymentColor Resource(const std::string& blue_agent, const std::string& green_agent,
                                     const std::string& nginx_agent = "") {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.uid = "u-1";
  dc.metadata.generation = 7;
  dc.spec.blue = {{"10.200.0.31:8080"}, {"10.200.0.21", 5432, "/srv/pg/shop"}};
  dc.spec.green = {{"10.200.0.32:8080"}, {"10.200.0.22", 5433, "/srv/pg/shop-green"}};
  dc.spec.blue.database.agent = blue_agent;
  dc.spec.green.database.agent = green_agent;
  dc.spec.nginx.upstream_file = "/srv/nginx/switchyard/shop.conf";
  dc.spec.nginx.agent = nginx_agent;
  api::ApplyDefaults(&dc);
  return dc;
}

// Short timeouts, so that a test of a time-out takes a fraction of a second.
inline AgentTransport TestTransport() {
  AgentTransport t;
  t.insecure_http = true;
  t.connect_timeout = std::chrono::milliseconds(300);
  t.read_timeout = std::chrono::milliseconds(400);
  return t;
}

}  // namespace sy::agent::testing
