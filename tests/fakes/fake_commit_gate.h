// FakeCommitGate: an actuate::CommitGate that records every act it is asked about and refuses
// the one act a test names (or every act), as switchyard-agent refuses once a higher epoch
// arrived.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pkg/actuate/actuator.h"

namespace sy::fakes {

// Thread-safe.
class FakeCommitGate final : public actuate::CommitGate {
 public:
  // The status a refusal answers with.
  static absl::Status Refusal(std::string_view act) {
    return absl::AbortedError("refused by the test gate: " + std::string(act));
  }

  // Refuse `act` from now on (every act when "*"); allow everything with nullopt.
  void Refuse(std::optional<std::string> act) {
    std::lock_guard<std::mutex> lock(mu_);
    refused_ = std::move(act);
  }
  std::vector<std::string> Asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

  absl::Status Allow(std::string_view act) override {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.emplace_back(act);
    if (refused_ && (*refused_ == "*" || *refused_ == act)) return Refusal(act);
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::optional<std::string> refused_;
  std::vector<std::string> asked_;
};

}  // namespace sy::fakes
