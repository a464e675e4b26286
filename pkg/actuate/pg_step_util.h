// Helpers shared by the PostgreSQL actuator's source files: error context, polling, output.
// Internal to pkg/actuate (postgres_actuator.cc, pg_copy_steps.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/util/clock.h"

namespace sy::actuate::pg_internal {

std::string Name(api::Color c);  // "blue"

const std::string& DataDir(const api::DeploymentColorSpec& spec, api::Color c);

// "promoting green (127.0.0.1:15434)".
std::string Context(std::string_view verb, const api::DeploymentColorSpec& spec, api::Color c);
// "rewinding blue (127.0.0.1:15433) from green (127.0.0.1:15434)".
std::string Context(std::string_view verb, const api::DeploymentColorSpec& spec, api::Color c,
                    std::string_view preposition, api::Color other);

// `s` with "<context>: " before and `hint` after its message; OK stays OK.
absl::Status Annotated(const absl::Status& s, const std::string& context, std::string_view hint);

// Calls `done` now and then every `every` until it returns true (-> true) or `timeout`
// passes (-> false). `done` may record an error and return true to stop early.
bool PollUntil(const util::Clock& clock, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every, const std::function<bool()>& done);

int64_t MillisSince(const util::Clock& clock, std::chrono::steady_clock::time_point start);

// The end of a tool's output (at most 2000 bytes), for errors.
std::string OutputTail(const std::string& output);

}  // namespace sy::actuate::pg_internal
