// Internal to yardctl (pkg/app/yardctl*.cc): the connection to the daemon, manifests from
// -f, and printing the server's answers.
#pragma once

#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/app/yardctl.h"
#include "pkg/server/api_client.h"

namespace sy::app::internal {

inline constexpr char kResource[] = "deploymentcolor.switchyard.dev";
inline constexpr char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

// Where the daemon is, resolved from flags, the kubeconfig and the state directory.
struct Connection {
  server::ClientConfig client;
  std::string ns;  // the namespace to use
};
absl::StatusOr<Connection> Connect(const CtlOptions& o);

// The API paths of a collection and of one resource.
std::string CollectionPath(const std::string& ns);
std::string ItemPath(const std::string& ns, const std::string& name);

// Prints "Error from server (Reason): message" for an answer that is no success; returns 1.
int ServerError(const server::ClientResponse& r, std::ostream& err);
// Prints "error: <message>"; returns `code`.
int Fail(const absl::Status& s, std::ostream& err, int code = 1);

// The objects of every -f (file, directory searched like --manifests, or - for stdin),
// decoded and validated. kInvalidArgument lists file:line:col problems.
absl::StatusOr<std::vector<api::DeploymentColor>> ReadObjects(const CtlOptions& o);

// An object the server sent; the error names the server.
absl::StatusOr<api::DeploymentColor> DecodeServerObject(const nlohmann::json& j);

// j[key] when j is an object that has it, else null (never throws, unlike operator[]).
const nlohmann::json& At(const nlohmann::json& j, const char* key);
// The string at j.path[0].path[1]..., else "".
std::string StrAt(const nlohmann::json& j, std::initializer_list<const char*> path);

// The JSON a client sends for `dc`: its metadata (name, namespace, labels, annotations) and
// spec, without status or server-set fields.
std::string DesiredJson(const api::DeploymentColor& dc);

}  // namespace sy::app::internal
