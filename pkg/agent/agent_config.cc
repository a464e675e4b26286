#include "pkg/agent/agent_config.h"

#include <functional>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/codec/yaml_tree.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::agent {
namespace {

using codec::YamlNode;

// Reads one mapping strictly: each key read is remembered, and Finish() reports the first
// key that was not, so a misspelt key is an error rather than a setting silently ignored.
class MapReader {
 public:
  MapReader(const YamlNode& node, std::string path, std::string_view file, absl::Status* problem)
      : node_(node), path_(std::move(path)), file_(file), problem_(problem) {
    if (node_.kind != YamlNode::Kind::kMapping) Fail(node_, path_, "must be a mapping");
  }

  void String(const std::string& key, std::string* out, bool required) {
    const YamlNode* v = Find(key, required);
    if (v == nullptr) return;
    if (v->kind != YamlNode::Kind::kScalar) return Fail(*v, Path(key), "must be a string");
    *out = v->scalar;
  }
  // An absolute path.
  void PathField(const std::string& key, std::string* out, bool required) {
    String(key, out, required);
    if (!out->empty() && out->front() != '/') {
      Fail(*Find(key, false), Path(key), "must be an absolute path");
    }
  }
  void Int(const std::string& key, int* out, bool required) {
    const YamlNode* v = Find(key, required);
    if (v == nullptr) return;
    if (v->kind != YamlNode::Kind::kScalar || v->quoted || !absl::SimpleAtoi(v->scalar, out)) {
      return Fail(*v, Path(key), "must be an integer");
    }
  }
  void Bool(const std::string& key, bool* out) {
    const YamlNode* v = Find(key, false);
    if (v == nullptr) return;
    if (v->kind == YamlNode::Kind::kScalar && !v->quoted && v->scalar == "true") {
      *out = true;
    } else if (v->kind == YamlNode::Kind::kScalar && !v->quoted && v->scalar == "false") {
      *out = false;
    } else {
      Fail(*v, Path(key), "must be true or false");
    }
  }
  // The mapping under `key` (nullptr when absent).
  const YamlNode* Child(const std::string& key, bool required) { return Find(key, required); }
  // Calls each(item, path) for every item of the sequence under `key`.
  void Each(const std::string& key, const std::function<void(const YamlNode&, std::string)>& each) {
    const YamlNode* v = Find(key, false);
    if (v == nullptr) return;
    if (v->kind != YamlNode::Kind::kSequence) return Fail(*v, Path(key), "must be a list");
    for (size_t i = 0; i < v->items.size() && problem_->ok(); ++i) {
      each(v->items[i], absl::StrCat(Path(key), "[", i, "]"));
    }
  }
  void Finish() {
    if (node_.kind != YamlNode::Kind::kMapping) return;
    for (const codec::YamlEntry& e : node_.entries) {
      if (read_.count(e.key) == 0) return Fail(e.key_line, Path(e.key), "unknown key");
    }
  }
  std::string Path(const std::string& key) const {
    return path_.empty() ? key : absl::StrCat(path_, ".", key);
  }
  void Fail(const YamlNode& at, const std::string& where, std::string_view what) {
    Fail(at.line, where, what);
  }
  void Fail(int line, const std::string& where, std::string_view what) {
    if (!problem_->ok()) return;
    *problem_ = absl::InvalidArgumentError(
        absl::StrCat(file_, ":", line, ": ", where, ": ", std::string(what)));
  }

 private:
  const YamlNode* Find(const std::string& key, bool required) {
    read_.insert(key);
    if (node_.kind == YamlNode::Kind::kMapping) {
      for (const codec::YamlEntry& e : node_.entries) {
        if (e.key == key) {
          if (e.value.kind == YamlNode::Kind::kNull) break;
          return &e.value;
        }
      }
    }
    if (required) Fail(node_, Path(key), "missing");
    return nullptr;
  }

  const YamlNode& node_;
  const std::string path_;
  const std::string file_;
  absl::Status* problem_;
  std::set<std::string> read_;
};

// "spec.colors.green.database.port 5433 is not 5432, the port this agent has for /srv/pg"
absl::Status Differs(const std::string& field, const std::string& got, const std::string& want,
                     const std::string& what, const std::string& object) {
  return absl::PermissionDeniedError(absl::StrCat(field, " \"", got, "\" is not \"", want,
                                                  "\", the ", what, " this agent has for ", object,
                                                  " (its configuration's allowlist)"));
}

}  // namespace

absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml, std::string_view file) {
  absl::StatusOr<YamlNode> root = codec::ParseYamlTree(yaml, file);
  if (!root.ok()) return root.status();
  AgentConfig c;
  absl::Status problem;
  MapReader top(*root, "", file, &problem);
  top.String("id", &c.id, true);
  top.String("listen", &c.listen, true);
  top.PathField("stateDirectory", &c.state_directory, true);
  top.Bool("insecureHttp", &c.insecure_http);
  if (const YamlNode* tls = top.Child("tls", !c.insecure_http)) {
    MapReader t(*tls, "tls", file, &problem);
    t.PathField("certFile", &c.tls.cert_file, true);
    t.PathField("keyFile", &c.tls.key_file, true);
    t.PathField("clientCAFile", &c.tls.client_ca_file, true);
    t.String("controllerPrefix", &c.tls.controller_prefix, false);
    t.Finish();
  }
  top.Each("postgres", [&](const YamlNode& item, std::string path) {
    PostgresEntry& e = c.postgres.emplace_back();
    MapReader r(item, std::move(path), file, &problem);
    r.PathField("dataDirectory", &e.data_directory, true);
    r.PathField("binDirectory", &e.bin_directory, true);
    r.String("osUser", &e.os_user, true);
    r.Int("port", &e.port, true);
    r.PathField("configFile", &e.config_file, false);
    r.Finish();
  });
  top.Each("nginx", [&](const YamlNode& item, std::string path) {
    NginxEntry& e = c.nginx.emplace_back();
    MapReader r(item, std::move(path), file, &problem);
    r.PathField("binary", &e.binary, true);
    r.PathField("configFile", &e.config_file, true);
    r.PathField("upstreamFile", &e.upstream_file, true);
    r.Finish();
  });
  top.Finish();
  if (!problem.ok()) return problem;
  std::set<std::string> objects;
  for (const std::string& o : ManagedObjects(c)) {
    if (!objects.insert(o).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(file), ": ", o, " is configured twice: one entry per managed object"));
    }
  }
  return c;
}

absl::StatusOr<AgentConfig> ReadAgentConfig(const std::string& path) {
  absl::StatusOr<std::string> text = util::ReadFile(path);
  if (!text.ok()) return util::Annotate(text.status(), "reading the configuration " + path);
  return ParseAgentConfig(*text, path);
}

std::vector<std::string> ManagedObjects(const AgentConfig& config) {
  std::vector<std::string> out;
  for (const PostgresEntry& e : config.postgres) out.push_back(e.data_directory);
  for (const NginxEntry& e : config.nginx) out.push_back(e.upstream_file);
  return out;
}

absl::StatusOr<std::string> ManagedObject(const AgentConfig& config, const api::DeploymentColor& dc,
                                          const Machine& machine, LocalHostCheck check_local_host) {
  // Safety rule (the allowlist): every path, program, user and port a step would use comes
  // from the request's spec, so each must equal what the operator configured on this machine;
  // anything else would let the controller's word choose what the agent touches.
  const api::DeploymentColorSpec& spec = dc.spec;
  if (machine.nginx) {
    const api::NginxSpec& n = spec.nginx;
    for (const NginxEntry& e : config.nginx) {
      if (e.upstream_file != n.upstream_file) continue;
      if (e.binary != n.binary) {
        return Differs("spec.nginx.binary", n.binary, e.binary, "binary", e.upstream_file);
      }
      if (e.config_file != n.config_file) {
        return Differs("spec.nginx.configFile", n.config_file, e.config_file, "configFile",
                       e.upstream_file);
      }
      return e.upstream_file;
    }
    return absl::PermissionDeniedError(absl::StrCat("spec.nginx.upstreamFile \"", n.upstream_file,
                                                    "\" is not an upstream file this agent "
                                                    "manages (its configuration's nginx list)"));
  }
  const std::string color(api::ColorName(machine.color));
  const api::DatabaseRef& db = spec.color(machine.color).database;
  const std::string field = "spec.colors." + color + ".database.";
  for (const PostgresEntry& e : config.postgres) {
    if (e.data_directory != db.data_directory) continue;
    if (e.port != db.port) {
      return Differs(field + "port", std::to_string(db.port), std::to_string(e.port), "port",
                     e.data_directory);
    }
    if (e.config_file != db.config_file) {
      return Differs(field + "configFile", db.config_file, e.config_file, "configFile",
                     e.data_directory);
    }
    if (e.bin_directory != spec.database.bin_directory) {
      return Differs("spec.database.binDirectory", spec.database.bin_directory, e.bin_directory,
                     "binDirectory", e.data_directory);
    }
    if (e.os_user != spec.database.os_user) {
      return Differs("spec.database.osUser", spec.database.os_user, e.os_user, "osUser",
                     e.data_directory);
    }
    if (absl::Status local = check_local_host(db.host); !local.ok()) {
      return absl::PermissionDeniedError(
          absl::StrCat(field, "host \"", db.host, "\": ", local.message()));
    }
    return e.data_directory;
  }
  return absl::PermissionDeniedError(absl::StrCat(field, "dataDirectory \"", db.data_directory,
                                                  "\" is not a data directory this agent "
                                                  "manages (its configuration's postgres list)"));
}

}  // namespace sy::agent
