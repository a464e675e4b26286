// yardctl: the connection (flags, kubeconfig, token file), manifests from -f, and the
// commands that need no server (config, plan, validate).
#include "pkg/app/yardctl.h"

#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/app/wiring.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/codec/codec.h"
#include "pkg/codec/yaml_json.h"
#include "pkg/plan/planner.h"
#include "pkg/server/token.h"
#include "pkg/source/manifest_source.h"
#include "pkg/util/clock.h"
#include "pkg/util/files.h"

namespace sy::app {
namespace internal {
namespace {

constexpr char kDefaultServer[] = "http://127.0.0.1:9753";

std::string Str(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The entry named `name` of a kubeconfig list ("clusters", "users", "contexts"), its `field`.
nlohmann::json Named(const nlohmann::json& cfg, const char* list, const std::string& name,
                     const char* field) {
  const auto l = cfg.find(list);
  if (l == cfg.end() || !l->is_array()) return nlohmann::json::object();
  for (const auto& e : *l) {
    if (e.is_object() && Str(e, "name") == name && e.contains(field) && e[field].is_object()) {
      return e[field];
    }
  }
  return nlohmann::json::object();
}

// Reads the current context of a kubeconfig into `c` (server, token, CA, namespace).
absl::Status ReadKubeconfig(const std::string& path, Connection* c) {
  auto content = util::ReadFile(path);
  if (!content.ok()) return content.status();
  auto json = codec::YamlToJson(*content, path);
  if (!json.ok()) return json.status();
  const nlohmann::json cfg = nlohmann::json::parse(*json, nullptr, false);
  if (!cfg.is_object()) return absl::InvalidArgumentError(path + ": not a kubeconfig");
  const std::string context_name = Str(cfg, "current-context");
  const nlohmann::json context = Named(cfg, "contexts", context_name, "context");
  const nlohmann::json cluster = Named(cfg, "clusters", Str(context, "cluster"), "cluster");
  const nlohmann::json user = Named(cfg, "users", Str(context, "user"), "user");
  c->client.server = Str(cluster, "server");
  if (c->client.server.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the current context \"", context_name, "\" has no cluster server"));
  }
  c->client.token = Str(user, "token");
  if (c->client.token.empty() && !Str(user, "tokenFile").empty()) {
    auto t = server::ReadToken(Str(user, "tokenFile"));
    if (!t.ok()) return t.status();
    c->client.token = *t;
  }
  if (!absl::Base64Unescape(Str(cluster, "certificate-authority-data"), &c->client.ca_pem)) {
    return absl::InvalidArgumentError(path + ": certificate-authority-data is not base64");
  }
  if (const std::string ca = Str(cluster, "certificate-authority"); !ca.empty()) {
    auto pem = util::ReadFile(ca);
    if (!pem.ok()) return pem.status();
    c->client.ca_pem = *pem;
  }
  const auto insecure = cluster.find("insecure-skip-tls-verify");
  c->client.insecure_skip_verify = insecure != cluster.end() && *insecure == true;
  c->ns = Str(context, "namespace");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Connection> Connect(const CtlOptions& o) {
  Connection c;
  if (!o.kubeconfig.empty()) {
    if (absl::Status s = ReadKubeconfig(o.kubeconfig, &c); !s.ok()) return s;
  }
  if (!o.server.empty()) c.client.server = o.server;
  if (c.client.server.empty()) c.client.server = kDefaultServer;
  if (!o.token_file.empty()) {
    auto t = server::ReadToken(o.token_file);
    if (!t.ok()) return t.status();
    c.client.token = *t;
  } else if (c.client.token.empty()) {
    // The daemon's own token, when this user may read it (reads work without one).
    auto t = server::ReadToken(o.state_dir + "/token");
    if (t.ok()) c.client.token = *t;
  }
  if (!o.ca_file.empty()) {
    auto pem = util::ReadFile(o.ca_file);
    if (!pem.ok()) return pem.status();
    c.client.ca_pem = *pem;
  }
  if (o.insecure) c.client.insecure_skip_verify = true;
  if (!o.namespace_.empty()) c.ns = o.namespace_;
  if (c.ns.empty()) c.ns = "default";
  return c;
}

std::string CollectionPath(const std::string& ns) {
  return absl::StrCat("/apis/switchyard.dev/v1alpha1/namespaces/", ns, "/deploymentcolors");
}

std::string ItemPath(const std::string& ns, const std::string& name) {
  return absl::StrCat(CollectionPath(ns), "/", name);
}

int ServerError(const server::ClientResponse& r, std::ostream& err) {
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status == 401) {
    err << "error: the server needs the bearer token (Unauthorized): pass --token-file, or "
           "--kubeconfig from `yardctl config`\n";
    return 1;
  }
  if (j.is_object() && j.value("kind", "") == "Status") {
    err << "Error from server (" << j.value("reason", "") << "): " << j.value("message", "")
        << "\n";
  } else {
    err << "Error from server (HTTP " << r.status << "): " << r.body << "\n";
  }
  return 1;
}

int Fail(const absl::Status& s, std::ostream& err, int code) {
  err << "error: " << s.message() << "\n";
  return code;
}

absl::StatusOr<std::vector<api::DeploymentColor>> ReadObjects(const CtlOptions& o) {
  if (o.files.empty()) return absl::InvalidArgumentError("no manifest given: use -f FILE|DIR|-");
  std::vector<api::DeploymentColor> out;
  for (const std::string& f : o.files) {
    std::vector<std::string> files;
    if (f == "-") {
      std::stringstream ss;
      ss << o.in->rdbuf();
      auto objs = codec::DecodeManifests(ss.str(), "<stdin>");
      if (!objs.ok()) return objs.status();
      out.insert(out.end(), objs->begin(), objs->end());
      continue;
    }
    auto listed = source::ManifestFiles(f);
    if (!listed.ok()) return listed.status();
    for (const std::string& file : *listed) {
      auto objs = codec::ReadManifestFile(file);
      if (!objs.ok()) return objs.status();
      out.insert(out.end(), objs->begin(), objs->end());
    }
  }
  return out;
}

absl::StatusOr<api::DeploymentColor> DecodeServerObject(const nlohmann::json& j) {
  auto dc = codec::DecodeJson(j.dump(), "the server's answer");
  if (!dc.ok()) {
    return absl::InternalError(
        absl::StrCat("the server sent an object yardctl cannot read: ", dc.status().message()));
  }
  return dc;
}

const nlohmann::json& At(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string StrAt(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) at = &At(*at, key);
  return at->is_string() ? at->get<std::string>() : "";
}

std::string DesiredJson(const api::DeploymentColor& dc) {
  api::DeploymentColor d;
  d.metadata.name = dc.metadata.name;
  d.metadata.namespace_ = dc.metadata.namespace_;
  d.metadata.labels = dc.metadata.labels;
  d.metadata.annotations = dc.metadata.annotations;
  d.spec = dc.spec;
  return codec::EncodeJson(d);
}

}  // namespace internal

bool ParseTargets(const std::vector<std::string>& args, bool kind_optional,
                  std::vector<std::string>* names, std::ostream& err) {
  auto is_kind = [](const std::string& k) {
    return k == "dc" || k == "deploymentcolor" || k == "deploymentcolors" ||
           k == "deploymentcolor.switchyard.dev" || k == "deploymentcolors.switchyard.dev";
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const size_t slash = a.find('/');
    if (slash != std::string::npos) {
      if (!is_kind(a.substr(0, slash))) {
        err << "error: the server doesn't have a resource type \"" << a.substr(0, slash) << "\"\n";
        return false;
      }
      names->push_back(a.substr(slash + 1));
    } else if (i == 0 && is_kind(a)) {
      continue;
    } else if (i == 0 && !kind_optional) {
      err << "error: the server doesn't have a resource type \"" << a
          << "\" (yardctl knows dc, deploymentcolors)\n";
      return false;
    } else {
      names->push_back(a);
    }
  }
  return true;
}

int CtlConfig(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  if (c->client.token.empty()) {
    err << "error: no token: the daemon writes it to <state-dir>/token on its first start "
           "(--state-dir "
        << o.state_dir << ", or --token-file)\n";
    return 1;
  }
  const bool https = absl::StartsWith(c->client.server, "https://");
  if (!https) {
    err << "warning: kubectl sends the token only over https: with " << c->client.server
        << " it can read but not write. Start switchyard with --tls-cert and --tls-key, then "
           "pass --server https://... --certificate-authority CERT\n";
  }
  out << "# kubeconfig for Switchyard (yardctl config): KUBECONFIG=FILE kubectl get dc\n"
      << "apiVersion: v1\nkind: Config\nclusters:\n- name: switchyard\n  cluster:\n"
      << "    server: " << c->client.server << "\n";
  if (https && !c->client.ca_pem.empty()) {
    out << "    certificate-authority-data: " << absl::Base64Escape(c->client.ca_pem) << "\n";
  }
  if (https && c->client.insecure_skip_verify) out << "    insecure-skip-tls-verify: true\n";
  out << "users:\n- name: switchyard\n  user:\n    token: " << c->client.token << "\n"
      << "contexts:\n- name: switchyard\n  context:\n    cluster: switchyard\n"
      << "    user: switchyard\n    namespace: " << c->ns << "\n"
      << "current-context: switchyard\n";
  return 0;
}

int CtlValidate(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = internal::ReadObjects(o);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 1;
  }
  for (const auto& dc : *objs) out << dc.Key() << ": valid\n";
  return 0;
}

int CtlPlan(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = internal::ReadObjects(o);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 1;
  }
  Wiring wiring;
  for (const auto& dc : *objs) {
    auto world = wiring.world_observer().Observe(dc.spec);
    if (!world.ok()) {
      err << dc.Key() << ": cannot observe: " << world.status().message() << "\n";
      return 1;
    }
    const plan::Plan p = plan::Next(dc, *world, util::RealClock::Get().Now());
    out << dc.Key() << ": " << api::PhaseName(p.phase) << " (" << p.reason << ")\n";
    out << "  next step: " << (p.step ? model::Describe(*p.step) : "none") << "\n";
    out << "  why:       " << p.message << "\n";
  }
  return 0;
}

}  // namespace sy::app
