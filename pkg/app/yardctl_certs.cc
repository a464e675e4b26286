// yardctl certs: a private CA and the certificates of the mutual TLS between controllers
// and switchyard-agents, for clusters without a PKI of their own (pkg/agent/README.md
// "Authentication"). The CA is made once per directory and reused, so that certificates
// can be added later; nothing is overwritten without --force.
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "pkg/app/certs.h"
#include "pkg/app/yardctl.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::app {
namespace {

constexpr char kDefaultCluster[] = "local";
// Where the next steps suggest putting the files on each machine.
constexpr char kControllerDir[] = "/etc/switchyard/tls";
constexpr char kAgentDir[] = "/etc/switchyard-agent/tls";

// One certificate to mint: a controller's or an agent's.
struct Wanted {
  std::string name;       // the controller's ID or the agent's NAME
  certs::AgentArg agent;  // agents: the address
  bool controller = false;
  std::string base;  // "controller-c1", "agent-db1": the files' names without .crt/.key
};

// The directory both as the user wrote it (for messages) and absolute (for I/O, which
// util::WriteFileAtomically requires).
struct Dir {
  std::string shown;
  std::string abs;
  std::string Shown(const std::string& file) const { return shown + "/" + file; }
  std::string Abs(const std::string& file) const { return abs + "/" + file; }
};

// The command line checked as a whole before any file is read: names, addresses,
// duplicates, --days. kInvalidArgument is a usage error.
absl::StatusOr<std::vector<Wanted>> ReadArgs(const CertsOptions& o) {
  if (o.dir.empty()) return absl::InvalidArgumentError("--dir is required");
  if (o.days < 1 || o.days > certs::kMaxDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("--days ", o.days, ": must be from 1 to ", certs::kMaxDays));
  }
  if (!o.cluster.empty()) SY_RETURN_IF_ERROR(certs::CheckName("--cluster", o.cluster));
  std::vector<Wanted> out;
  std::set<std::string> bases;
  auto add = [&](Wanted w, const std::string& arg) {
    if (!bases.insert(w.base).second) {
      return absl::InvalidArgumentError(absl::StrCat(arg, ": ", w.name, " is given twice"));
    }
    out.push_back(std::move(w));
    return absl::OkStatus();
  };
  for (const std::string& id : o.controllers) {
    const std::string arg = "--controller " + id;
    SY_RETURN_IF_ERROR(certs::CheckName(arg, id));
    SY_RETURN_IF_ERROR(add(Wanted{id, {}, true, "controller-" + id}, arg));
  }
  for (const std::string& a : o.agents) {
    SY_ASSIGN_OR_RETURN(certs::AgentArg agent, certs::ParseAgentArg(a));
    const std::string name = agent.name;
    SY_RETURN_IF_ERROR(add(Wanted{name, std::move(agent), false, "agent-" + name}, "--agent " + a));
  }
  return out;
}

// Makes `dir` (mode 0700: it holds the CA's key) unless it exists.
absl::Status MakeDir(const Dir& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir.abs, ec)) return absl::OkStatus();
  if (std::filesystem::exists(dir.abs, ec)) {
    return absl::FailedPreconditionError(dir.shown + " exists and is no directory");
  }
  std::filesystem::create_directories(std::filesystem::path(dir.abs).parent_path(), ec);
  if (::mkdir(dir.abs.c_str(), 0700) != 0 || ::chmod(dir.abs.c_str(), 0700) != 0) {
    return util::ErrnoStatus(errno, "making " + dir.shown);
  }
  return absl::OkStatus();
}

// Where the CA of this run comes from.
enum class CaSource { kReused, kMade, kReplaced };

// The CA of `dir`, read back or newly minted. Refuses a CA that cannot sign, or half of one,
// unless `force`: replacing a CA orphans every certificate it signed. A CA that can sign is
// never replaced, not even with --force: a new CA starts in another --dir.
absl::StatusOr<certs::Ca> GetCa(const CertsOptions& o, const Dir& dir, certs::Time now,
                                CaSource* source) {
  const std::string crt = dir.Shown("ca.crt");
  const std::string key = dir.Shown("ca.key");
  SY_ASSIGN_OR_RETURN(const bool has_crt, util::Exists(dir.Abs("ca.crt")));
  SY_ASSIGN_OR_RETURN(const bool has_key, util::Exists(dir.Abs("ca.key")));
  *source = has_crt || has_key ? CaSource::kReplaced : CaSource::kMade;
  std::string why;
  if (has_crt != has_key) {
    why = has_crt ? key + " is missing" : crt + " is missing";
  } else if (has_crt) {
    absl::StatusOr<std::string> crt_pem = util::ReadFile(dir.Abs("ca.crt"));
    absl::StatusOr<std::string> key_pem = util::ReadFile(dir.Abs("ca.key"));
    absl::StatusOr<certs::Ca> ca = !crt_pem.ok()   ? crt_pem.status()
                                   : !key_pem.ok() ? key_pem.status()
                                                   : certs::LoadCa(*crt_pem, *key_pem, now);
    if (ca.ok()) {
      *source = CaSource::kReused;
      return ca;
    }
    why = std::string(ca.status().message());
  }
  if (!why.empty() && !o.force) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the CA in ", crt, " and ", key, " cannot sign: ", why,
        ". --force replaces it with a new CA (every certificate the old one signed then "
        "stops verifying)"));
  }
  return certs::MintCa(o.cluster.empty() ? kDefaultCluster : o.cluster, o.days, now);
}

std::string Until(const certs::Time t) { return "valid until " + util::FormatRfc3339(t); }

// What to copy where, and the settings that use the files.
void PrintNextSteps(const Dir& dir, const std::string& cluster, const std::vector<Wanted>& wanted,
                    CaSource ca, std::ostream& out) {
  out << "\nNext steps:\n"
      << "- " << dir.Shown("ca.key")
      << " can sign a controller that every agent admits: keep it on this machine (or "
         "offline) and copy it nowhere.\n";
  if (ca == CaSource::kReplaced) {
    out << "- The CA is new: certificates the old one signed no longer verify. Mint them again "
           "(--force) and copy ca.crt to every controller and agent.\n";
  }
  for (const Wanted& w : wanted) {
    const std::string& b = w.base;
    if (w.controller) {
      out << "- On the machine of controller " << w.name << ": copy ca.crt, " << b << ".crt and "
          << b << ".key to " << kControllerDir
          << "/ (the key mode 0600, owned by the daemon's user), and start the daemon with\n"
          << "      --agent-ca " << kControllerDir << "/ca.crt --agent-cert " << kControllerDir
          << "/" << b << ".crt --agent-key " << kControllerDir << "/" << b << ".key\n";
    } else {
      out << "- On agent " << w.name << " (" << w.agent.host << "): copy ca.crt, " << b
          << ".crt and " << b << ".key to " << kAgentDir
          << "/ (the key mode 0600, owned by the agent's user); in the agent's configuration:\n"
          << "      tls:\n"
          << "        certFile: " << kAgentDir << "/" << b << ".crt\n"
          << "        keyFile: " << kAgentDir << "/" << b << ".key\n"
          << "        clientCAFile: " << kAgentDir << "/ca.crt\n";
    }
  }
  if (std::any_of(wanted.begin(), wanted.end(), [](const Wanted& w) { return !w.controller; })) {
    out << "- Agents accept a controller whose certificate names a URI starting with their "
           "controllerPrefix (default switchyard://); switchyard://"
        << cluster << "/ admits the controllers of cluster " << cluster << " only.\n";
  }
  if (wanted.empty()) {
    out << "- Add certificates signed by this CA: yardctl certs --dir " << dir.shown
        << " --controller ID --agent NAME=ADDRESS\n";
  }
}

}  // namespace

int CtlCerts(const CertsOptions& o, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<Wanted>> wanted = ReadArgs(o);
  if (!wanted.ok()) return internal::Fail(wanted.status(), err, 2);
  Dir dir;
  dir.shown = o.dir;
  while (dir.shown.size() > 1 && dir.shown.back() == '/') dir.shown.pop_back();
  std::error_code ec;
  dir.abs = std::filesystem::absolute(dir.shown, ec).lexically_normal().string();
  if (ec) return internal::Fail(util::ErrnoStatus(ec.value(), "resolving " + dir.shown), err);
  const certs::Time now = o.clock->Now();

  CaSource source = CaSource::kMade;
  absl::StatusOr<certs::Ca> ca = GetCa(o, dir, now, &source);
  if (!ca.ok()) return internal::Fail(ca.status(), err);
  // One CA per cluster: agents of one cluster must not admit another's controllers.
  if (source == CaSource::kReused && !ca->cluster.empty() && !o.cluster.empty() &&
      o.cluster != ca->cluster) {
    err << "error: " << dir.Shown("ca.crt") << " is the CA of cluster \"" << ca->cluster
        << "\", not \"" << o.cluster << "\": mint the certificates of \"" << o.cluster
        << "\" in another --dir\n";
    return 1;
  }
  const std::string cluster =
      !o.cluster.empty() ? o.cluster : (ca->cluster.empty() ? kDefaultCluster : ca->cluster);

  // Refuse before anything is written, naming every file in the way.
  bool refused = false;
  for (const Wanted& w : *wanted) {
    for (const char* ext : {".crt", ".key"}) {
      absl::StatusOr<bool> exists = util::Exists(dir.Abs(w.base + ext));
      if (!exists.ok()) return internal::Fail(exists.status(), err);
      if (*exists && !o.force) {
        err << "error: " << dir.Shown(w.base + ext) << " exists; --force replaces it\n";
        refused = true;
      }
    }
  }
  if (refused) return 1;

  // Everything is minted before the first file is written: a failure leaves no half.
  std::vector<certs::Leaf> leaves;
  for (const Wanted& w : *wanted) {
    absl::StatusOr<certs::Leaf> leaf =
        w.controller ? certs::MintController(*ca, cluster, w.name, o.days, now)
                     : certs::MintAgent(*ca, cluster, w.name, w.agent.host, o.days, now);
    if (!leaf.ok()) return internal::Fail(leaf.status(), err);
    leaves.push_back(*std::move(leaf));
  }
  // Keys 0600: only their owner may read them. Certificates are public.
  auto write = [&](const std::string& base, const std::string& crt, const std::string& key) {
    SY_RETURN_IF_ERROR(util::WriteFileAtomically(dir.Abs(base + ".key"), key, 0600));
    return util::WriteFileAtomically(dir.Abs(base + ".crt"), crt, 0644);
  };
  if (absl::Status s = MakeDir(dir); !s.ok()) return internal::Fail(s, err);
  if (source != CaSource::kReused) {
    if (absl::Status s = write("ca", ca->cert_pem, ca->key_pem); !s.ok()) {
      return internal::Fail(s, err);
    }
    out << "wrote " << dir.Shown("ca.crt") << " and " << dir.Shown("ca.key") << ": the CA of "
        << "cluster " << cluster << ", " << Until(ca->not_after) << "\n";
  } else {
    out << "reused " << dir.Shown("ca.crt") << ": the CA of cluster " << cluster << ", "
        << Until(ca->not_after) << "\n";
  }
  for (size_t i = 0; i < wanted->size(); ++i) {
    const Wanted& w = (*wanted)[i];
    if (absl::Status s = write(w.base, leaves[i].cert_pem, leaves[i].key_pem); !s.ok()) {
      return internal::Fail(s, err);
    }
    out << "wrote " << dir.Shown(w.base + ".crt") << " and " << dir.Shown(w.base + ".key") << ": ";
    if (w.controller) {
      out << "controller " << w.name << ", client, " << certs::ControllerUri(cluster, w.name);
    } else {
      out << "agent " << w.name << ", server, " << (w.agent.ip ? "IP " : "DNS ") << w.agent.host;
    }
    out << ", " << Until(leaves[i].not_after);
    if (now + std::chrono::days(o.days) > ca->not_after) out << " (the CA's end)";
    out << "\n";
  }
  PrintNextSteps(dir, cluster, *wanted, source, out);
  return 0;
}

}  // namespace sy::app
