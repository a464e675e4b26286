// The Table (meta.k8s.io/v1) form of DeploymentColors that `kubectl get` and `yardctl get`
// print: Name, Desired, Serving, Primary, Phase, Age, and for -o wide (priority 1) Step and
// Source. Asked for with Accept: application/json;as=Table;v=v1;g=meta.k8s.io.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/server/api_handler.h"

namespace sy::server {

// The Table apiVersion `req` accepts ("meta.k8s.io/v1" or "meta.k8s.io/v1beta1"), or "" when
// it does not ask for a Table.
std::string TableVersionWanted(const HttpRequest& req);

// What each row carries besides its cells (?includeObject=): None, Metadata (the default:
// a PartialObjectMetadata) or Object.
enum class IncludeObject { kNone, kMetadata, kObject };
absl::StatusOr<IncludeObject> ParseIncludeObject(const std::string& value);

// The Table of `items` at store version `resource_version`, ages as of `now`.
nlohmann::json MakeTable(const std::vector<api::DeploymentColor>& items,
                         std::chrono::system_clock::time_point now, IncludeObject include,
                         int64_t resource_version, const std::string& api_version);

// A duration as kubectl shows ages: "45s", "3m12s", "2d4h", "3y" (Kubernetes' HumanDuration).
std::string HumanDuration(std::chrono::nanoseconds d);

}  // namespace sy::server
