#include "pkg/api/validation.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sy::api {
namespace {

constexpr int kMaxSeconds = 3600;  // an hour: anything longer is a typo (ms for s)
// A week: a slot kept longer pins more WAL than any disk holds under a steady load.
constexpr int64_t kMaxSlotRetention = int64_t{7} * 24 * 3600;
constexpr int kMaxPort = 65535;
constexpr size_t kMaxNameLength = 63;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True when `s` is non-empty and every character is alphanumeric or in `extra`.
bool AllOf(std::string_view s, std::string_view extra) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return IsAlnum(c) || extra.find(c) != std::string_view::npos;
  });
}

constexpr std::string_view kAgentAddress =
    "\"host:port\" with a host and a port in 1..65535 (an IPv6 address in brackets, "
    "\"[::1]:9754\")";
// Path characters: no shell metacharacters, quotes or spaces (pg_ctl runs a shell).
constexpr std::string_view kPathExtra = "._/+-";
// User names and nginx upstream names.
constexpr std::string_view kNameExtra = "_.-";
// RFC 9110 token characters (HTTP header names).
constexpr std::string_view kTokenExtra = "!#$%&'*+-.^_`|~";

// absl::StrSplit yields absl::string_view, which is not std::string_view in this Abseil.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// 1-5 decimal digits, no sign, value in [lo, hi].
bool IsNumberIn(std::string_view s, int lo, int hi) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && s.size() <= 5 && IsDigit(s.front()) && ec == std::errc() &&
         end == s.data() + s.size() && v >= lo && v <= hi;
}

bool IsIpv4(std::string_view s) {
  const std::vector<std::string_view> parts = Split(s, '.');
  return parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
           return p.size() <= 3 && IsNumberIn(p, 0, 255);
         });
}

// A DNS name (RFC 1123 labels, any case) or an IPv4 literal. An all-numeric dotted name
// must be a valid IPv4 address ("999.1.1.1" is neither).
bool IsHost(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  bool numeric = true;
  for (std::string_view label : Split(s, '.')) {
    if (label.empty() || label.size() > kMaxNameLength || !AllOf(label, "-") ||
        label.front() == '-' || label.back() == '-') {
      return false;
    }
    numeric = numeric && std::all_of(label.begin(), label.end(), IsDigit);
  }
  return !numeric || IsIpv4(s);
}

bool IsPort(std::string_view s) { return IsNumberIn(s, 1, kMaxPort); }

// "host:port", or "host" alone when `port_optional`.
bool IsHostPort(std::string_view s, bool port_optional = false) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return port_optional && IsHost(s);
  return IsHost(s.substr(0, colon)) && IsPort(s.substr(colon + 1));
}

bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// An IPv6 address as written inside brackets: groups of 1-4 hex digits, 8 of them or fewer
// with one "::", the last two possibly an IPv4 address. No zone ("%eth0").
bool IsIpv6(std::string_view s) {
  const size_t gap = s.find("::");
  if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos) {
    return false;
  }
  // Counts the groups of `part` ("" has none) into `n`; false when one is malformed.
  auto groups = [](std::string_view part, bool may_end_in_ipv4, int* n) {
    if (part.empty()) return true;
    const std::vector<std::string_view> gs = Split(part, ':');
    for (size_t i = 0; i < gs.size(); ++i) {
      if (may_end_in_ipv4 && i + 1 == gs.size() && IsIpv4(gs[i])) {
        *n += 2;
      } else if (gs[i].empty() || gs[i].size() > 4 ||
                 !std::all_of(gs[i].begin(), gs[i].end(), IsHexDigit)) {
        return false;
      } else {
        ++*n;
      }
    }
    return true;
  };
  int n = 0;
  if (gap == std::string_view::npos) return groups(s, true, &n) && n == 8;
  return groups(s.substr(0, gap), false, &n) && groups(s.substr(gap + 2), true, &n) && n <= 7;
}

// An agent's address: "host:port" with a DNS name or an IPv4 address, or "[IPv6]:port".
bool IsAgentAddress(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find("]:");
    return close != std::string_view::npos && IsIpv6(s.substr(1, close - 1)) &&
           IsPort(s.substr(close + 2));
  }
  return IsHostPort(s);
}

// The host of a valid agent address, without brackets.
std::string_view AgentHost(std::string_view agent) {
  std::string_view host = agent.substr(0, agent.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

// A name every machine gives itself: "localhost", 127.0.0.0/8, ::1.
bool IsLoopback(std::string_view host) {
  return absl::AsciiStrToLower(std::string(host)) == "localhost" ||
         (IsIpv4(host) && host.substr(0, 4) == "127.") || host == "::1";
}

// An http:// URL with a valid host[:port]; the rest printable ASCII without spaces.
bool IsHttpUrl(std::string_view s) {
  constexpr std::string_view kScheme = "http://";
  if (s.substr(0, kScheme.size()) != kScheme) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    return false;
  }
  std::string_view rest = s.substr(kScheme.size());
  return IsHostPort(rest.substr(0, rest.find_first_of("/?#")), /*port_optional=*/true);
}

// `url` with what may be user information ("user:password@") shown as "***@": an invalid
// URL is quoted in errors, and a password in it must not be. Everything up to the last "@"
// goes, since a password written unencoded may hold "/", "?" or "#".
std::string WithoutUserinfo(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t from = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < from) return std::string(url);
  return absl::StrCat(std::string(url.substr(0, from)), "***", std::string(url.substr(at)));
}

// Returns why `path` is not a safe absolute path, or nullopt.
std::optional<std::string> PathProblem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "must be an absolute path, got ";
  for (std::string_view part : Split(path, '/')) {
    if (part == "..") return "must not contain \"..\" components, got ";
  }
  if (!AllOf(path, kPathExtra)) return "must contain only letters, digits and \"._/+-\", got ";
  return std::nullopt;
}

// `path` without repeated, trailing or "." components, for comparing directories.
std::string NormalizePath(const std::string& path) {
  std::string out;
  for (std::string_view part : Split(path, '/')) {
    if (!part.empty() && part != ".") (out += '/') += part;
  }
  return out.empty() ? "/" : out;
}

// Normalized `dir` lies below normalized `parent`.
bool Inside(const std::string& dir, const std::string& parent) {
  return dir.size() > parent.size() && dir.compare(0, parent.size(), parent) == 0 &&
         (parent == "/" || dir[parent.size()] == '/');
}

// One database server as host:port, "localhost" spelled as 127.0.0.1.
std::string ServerAddress(const DatabaseRef& db) {
  std::string host = absl::AsciiStrToLower(db.host);
  if (host == "localhost") host = "127.0.0.1";
  return absl::StrCat(host, ":", db.port);
}

// Collects problems under field paths.
class Checker {
 public:
  explicit Checker(std::vector<FieldError>* out) : out_(*out) {}

  void Add(std::string field, std::string message) {
    out_.push_back({std::move(field), std::move(message)});
  }
  void Expect(bool ok, const std::string& field, std::string_view want, const std::string& got) {
    if (!ok) Add(field, absl::StrCat("must be ", std::string(want), ", got ", QuoteValue(got)));
  }
  void Range(const std::string& field, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi) {
      Add(field, absl::StrCat("must be in ", lo, "..", hi, ", got ", value));
    }
  }
  // `secret`: the value is never shown (a password put in the wrong field would otherwise
  // reach the status, the logs and API errors).
  void Path(const std::string& field, const std::string& path, bool secret = false) {
    std::optional<std::string> problem = PathProblem(path);
    if (!problem) return;
    if (!secret) {
      Add(field, *problem + QuoteValue(path));
      return;
    }
    constexpr std::string_view kGot = ", got ";  // every PathProblem ends with it
    problem->resize(problem->size() - kGot.size());
    Add(field, *problem + " (the value is not shown: it may be a secret)");
  }
  void Name(const std::string& field, const std::string& name) {
    Expect(name.size() <= kMaxNameLength && AllOf(name, kNameExtra), field,
           "a name of letters, digits, \"_\", \".\" and \"-\" (at most 63)", name);
  }

 private:
  std::vector<FieldError>& out_;
};

void CheckMetadata(const DeploymentColor& dc, Checker& c) {
  c.Expect(dc.api_version == kApiVersion, "apiVersion",
           absl::StrCat("\"", std::string(kApiVersion), "\""), dc.api_version);
  c.Expect(dc.kind == kKind, "kind", absl::StrCat("\"", std::string(kKind), "\""), dc.kind);
  constexpr std::string_view kLabel =
      "a DNS-1123 label (at most 63 of a-z, 0-9 and \"-\", alphanumeric at both ends)";
  c.Expect(IsDns1123Label(dc.metadata.name), "metadata.name", kLabel, dc.metadata.name);
  c.Expect(IsDns1123Label(dc.metadata.namespace_), "metadata.namespace", kLabel,
           dc.metadata.namespace_);
  const auto& annotations = dc.metadata.annotations;
  if (auto it = annotations.find(std::string(kAllowDiscardAnnotation)); it != annotations.end()) {
    // Rule: consent names one incident. A bare color (the old form) would give up every
    // later divergence of that color while the annotation stays, so it is refused, not read.
    const std::string field =
        absl::StrCat("metadata.annotations[", std::string(kAllowDiscardAnnotation), "]");
    if (ParseColor(it->second)) {
      c.Add(field, absl::StrCat("must name the incident, not only a color: set the value the "
                                "Ready condition gives, \"",
                                it->second,
                                "@tli=<timeline>,lsn=<end of its WAL>\" (a bare color would "
                                "allow discarding every later divergence of ",
                                it->second, ")"));
    } else {
      c.Expect(ParseDiscardConsent(it->second).has_value(), field,
               "\"<color>@tli=<timeline>,lsn=<LSN>\" as the Ready condition gives it, e.g. "
               "\"green@tli=2,lsn=0/3000148\"",
               it->second);
    }
  }
  if (auto it = annotations.find(std::string(kAllowLosingLogicalSlotsAnnotation));
      it != annotations.end()) {
    c.Expect(
        it->second == "true",
        absl::StrCat("metadata.annotations[", std::string(kAllowLosingLogicalSlotsAnnotation), "]"),
        "\"true\" (remove the annotation to refuse)", it->second);
  }
}

void CheckColor(const ColorSpec& spec, const std::string& field, Checker& c) {
  if (spec.upstreams.empty()) c.Add(field + ".upstreams", "must list at least one \"host:port\"");
  for (size_t i = 0; i < spec.upstreams.size(); ++i) {
    const std::string& u = spec.upstreams[i];
    const std::string at = absl::StrCat(field, ".upstreams[", i, "]");
    c.Expect(IsHostPort(u), at, "\"host:port\" with a port in 1..65535", u);
    if (std::find(spec.upstreams.begin(), spec.upstreams.begin() + i, u) !=
        spec.upstreams.begin() + i) {
      c.Add(at, absl::StrCat("duplicate upstream ", QuoteValue(u)));
    }
  }
  const DatabaseRef& db = spec.database;
  c.Expect(IsHost(db.host), field + ".database.host", "a hostname or an IPv4 address", db.host);
  c.Range(field + ".database.port", db.port, 1, kMaxPort);
  c.Path(field + ".database.dataDirectory", db.data_directory);
  if (!db.config_file.empty()) c.Path(field + ".database.configFile", db.config_file);
  if (db.agent.empty()) return;
  if (!IsAgentAddress(db.agent)) {
    c.Expect(false, field + ".database.agent", kAgentAddress, db.agent);
    return;
  }
  // Rule: with an agent, the host is how the other machine reaches the server (the standby's
  // primary_conninfo names it); a loopback name there would make the standby stream from its
  // own machine. Only a server whose agent runs on the controller's machine may use one.
  if (IsLoopback(db.host) && !IsLoopback(AgentHost(db.agent))) {
    c.Add(field + ".database.host",
          absl::StrCat("must be how other machines reach the server, not a loopback address, "
                       "when its agent (",
                       db.agent,
                       ") is on another machine: the other color's standby connects to it by "
                       "this name, got ",
                       QuoteValue(db.host)));
  }
}

// Rule: the two databases are either both reached through agents or both on the
// controller's machine. A switch between a local server and a remote one would mix what the
// controller does itself with what an agent does for it, for one pair of servers.
void CheckAgents(const DeploymentColorSpec& spec, Checker& c) {
  const bool blue = !spec.blue.database.agent.empty();
  const bool green = !spec.green.database.agent.empty();
  if (blue == green) return;
  const std::string with(ColorName(blue ? Color::kBlue : Color::kGreen));
  const std::string without(ColorName(blue ? Color::kGreen : Color::kBlue));
  c.Add(absl::StrCat("spec.colors.", without, ".database.agent"),
        absl::StrCat("set for ", with, " but not for ", without,
                     "; either both databases are reached through agents or neither (a "
                     "database on the controller's machine and one on another machine cannot "
                     "be switched between): set ",
                     without, "'s agent too, or remove ", with, "'s"));
}

// Switching traffic means nothing when both colors name the same app server.
void CheckUpstreamsApart(const DeploymentColorSpec& spec, Checker& c) {
  for (size_t i = 0; i < spec.green.upstreams.size(); ++i) {
    const std::string& u = spec.green.upstreams[i];
    if (std::find(spec.blue.upstreams.begin(), spec.blue.upstreams.end(), u) !=
        spec.blue.upstreams.end()) {
      c.Add(absl::StrCat("spec.colors.green.upstreams[", i, "]"),
            absl::StrCat(QuoteValue(u), " is also an upstream of blue"));
    }
  }
}

// A configFile lies outside the data directories (a re-clone replaces a data directory with
// a copy of the other's, which would carry the other server's file), and each server has its
// own: it names the data directory, pid files and port of one cluster. The other color's
// directory and file matter only on the same machine.
void CheckConfigFiles(const DeploymentColorSpec& spec, bool one_machine, Checker& c) {
  for (Color color : kColors) {
    const std::string& file = spec.color(color).database.config_file;
    if (file.empty() || PathProblem(file)) continue;
    const std::string field =
        absl::StrCat("spec.colors.", std::string(ColorName(color)), ".database.configFile");
    for (Color owner : kColors) {
      const std::string& dir = spec.color(owner).database.data_directory;
      if (owner != color && !one_machine) continue;
      if (Inside(NormalizePath(file), NormalizePath(dir))) {
        c.Add(field, absl::StrCat("must lie outside the data directories (a re-clone replaces ",
                                  NormalizePath(dir), "), got ", QuoteValue(file)));
      }
    }
  }
  const std::string& b = spec.blue.database.config_file;
  const std::string& g = spec.green.database.config_file;
  if (one_machine && !b.empty() && !PathProblem(b) && NormalizePath(b) == NormalizePath(g)) {
    c.Add("spec.colors.green.database.configFile",
          absl::StrCat("same configFile as blue (", QuoteValue(b), "): each server needs its own"));
  }
}

// Blue and green must be two database servers, and on one machine their data directories
// must lie apart. Problems are reported on green's fields.
void CheckDatabasesApart(const DeploymentColorSpec& spec, Checker& c) {
  const DatabaseRef& b = spec.blue.database;
  const DatabaseRef& g = spec.green.database;
  // A host and a port name one server wherever the agents run. An invalid port is reported
  // already; two of them are not also "the same server".
  if (absl::AsciiStrToLower(b.host) == absl::AsciiStrToLower(g.host) && b.port == g.port &&
      b.port >= 1 && b.port <= kMaxPort) {
    c.Add("spec.colors.green.database.port",
          absl::StrCat("same database server as blue (", b.host, ":", b.port, ")"));
  }
  // Two machines may use the same paths (the usual layout: /var/lib/postgresql/15/main on
  // each); one machine may not.
  if (PathProblem(b.data_directory) || PathProblem(g.data_directory)) return;  // said already
  const bool one_machine = DatabasesShareMachine(spec);
  const std::string bd = NormalizePath(b.data_directory);
  const std::string gd = NormalizePath(g.data_directory);
  const std::string field = "spec.colors.green.database.dataDirectory";
  if (one_machine && bd == gd) {
    c.Add(field, absl::StrCat("same data directory as blue (", QuoteValue(b.data_directory), ")"));
  } else if (one_machine && (Inside(bd, gd) || Inside(gd, bd))) {
    c.Add(field, absl::StrCat("must not be nested with blue's data directory ",
                              QuoteValue(b.data_directory)));
  }
  CheckConfigFiles(spec, one_machine, c);
}

void CheckNginx(const DeploymentColor& dc, Checker& c) {
  const NginxSpec& n = dc.spec.nginx;
  c.Path("spec.nginx.upstreamFile", n.upstream_file);
  c.Path("spec.nginx.configFile", n.config_file);
  if (!n.binary.empty() && n.binary.front() == '/') {
    c.Path("spec.nginx.binary", n.binary);
  } else {
    c.Expect(AllOf(n.binary, "._+-") && IsAlnum(n.binary.front()), "spec.nginx.binary",
             "an absolute path or a program name of letters, digits and \"._+-\"", n.binary);
  }
  // An empty upstreamName defaults to metadata.name, whose own problem is reported already.
  if (!n.upstream_name.empty() || !dc.metadata.name.empty()) {
    c.Expect(AllOf(n.upstream_name, kNameExtra), "spec.nginx.upstreamName",
             "an nginx upstream name of letters, digits, \"_\", \".\" and \"-\"", n.upstream_name);
  }
  c.Expect(IsHttpUrl(n.probe.url), "spec.nginx.probe.url", "an http:// URL with a host",
           WithoutUserinfo(n.probe.url));
  c.Expect(AllOf(n.probe.header, kTokenExtra), "spec.nginx.probe.header",
           "an HTTP header name (a token)", n.probe.header);
  c.Range("spec.nginx.probe.timeoutSeconds", n.probe.timeout_seconds, 1, kMaxSeconds);
  if (!n.agent.empty()) {
    c.Expect(IsAgentAddress(n.agent), "spec.nginx.agent", kAgentAddress, n.agent);
  }
}

void CheckDatabase(const DatabaseSpec& d, Checker& c) {
  c.Name("spec.database.user", d.user);
  c.Name("spec.database.replicationUser", d.replication_user);
  c.Name("spec.database.osUser", d.os_user);
  if (!d.password_file.empty()) {
    c.Path("spec.database.passwordFile", d.password_file, /*secret=*/true);
  }
  c.Path("spec.database.binDirectory", d.bin_directory);
  if (d.max_lag_bytes < 0) {
    c.Add("spec.database.maxLagBytes", absl::StrCat("must not be negative, got ", d.max_lag_bytes));
  }
  c.Range("spec.database.maxReplayLagSeconds", d.max_replay_lag_seconds, 1, kMaxSeconds);
  c.Range("spec.database.catchUpTimeoutSeconds", d.catch_up_timeout_seconds, 1, kMaxSeconds);
  c.Range("spec.database.slotRetentionSeconds", d.slot_retention_seconds, 0, kMaxSlotRetention);
  c.Range("spec.database.archiveTimeoutSeconds", d.archive_timeout_seconds, 0, kMaxSeconds);
}

}  // namespace

void ApplyDefaults(DeploymentColor* dc) {
  if (dc->metadata.namespace_.empty()) dc->metadata.namespace_ = "default";
  if (dc->spec.nginx.upstream_name.empty()) dc->spec.nginx.upstream_name = dc->metadata.name;
}

std::vector<FieldError> Validate(const DeploymentColor& dc) {
  std::vector<FieldError> errors;
  Checker c(&errors);
  CheckMetadata(dc, c);
  for (Color color : kColors) {
    CheckColor(dc.spec.color(color), absl::StrCat("spec.colors.", std::string(ColorName(color))),
               c);
  }
  CheckAgents(dc.spec, c);
  CheckUpstreamsApart(dc.spec, c);
  CheckDatabasesApart(dc.spec, c);
  CheckNginx(dc, c);
  CheckDatabase(dc.spec.database, c);
  return errors;
}

bool IsDns1123Label(const std::string& s) {
  return s.size() <= kMaxNameLength && AllOf(s, "-") && s.front() != '-' && s.back() != '-' &&
         std::none_of(s.begin(), s.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

std::string QuoteValue(std::string_view value) {
  constexpr size_t kMaxShown = 80;
  size_t cut = std::min(value.size(), kMaxShown);
  while (cut < value.size() && cut > 0 && (value[cut] & 0xC0) == 0x80) --cut;  // keep UTF-8
  std::string out = "\"";
  for (char c : value.substr(0, cut)) {
    if (c == '"' || c == '\\') {
      (out += '\\') += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  out += '"';
  if (cut < value.size()) out += "...";
  return out;
}

std::vector<FieldError> SharedWith(const DeploymentColor& dc, const DeploymentColor& other) {
  std::vector<FieldError> out;
  if (dc.Key() == other.Key()) return out;
  const std::string of = " of " + other.Key();
  for (Color c : kColors) {
    const DatabaseRef& mine = dc.spec.color(c).database;
    const std::string field = absl::StrCat("spec.colors.", std::string(ColorName(c)), ".database");
    for (Color o : kColors) {
      const DatabaseRef& theirs = other.spec.color(o).database;
      const std::string other_field =
          absl::StrCat("spec.colors.", std::string(ColorName(o)), ".database");
      if (mine.port >= 1 && mine.port <= kMaxPort && ServerAddress(mine) == ServerAddress(theirs)) {
        out.push_back({field + ".port", absl::StrCat("database server ", mine.host, ":", mine.port,
                                                     " is also ", other_field, of)});
      }
      // The same path on another machine is another directory.
      if (!SameMachine(mine.agent, theirs.agent) || PathProblem(mine.data_directory) ||
          PathProblem(theirs.data_directory)) {
        continue;
      }
      const std::string md = NormalizePath(mine.data_directory);
      const std::string td = NormalizePath(theirs.data_directory);
      if (md == td || Inside(md, td) || Inside(td, md)) {
        out.push_back(
            {field + ".dataDirectory", absl::StrCat(QuoteValue(mine.data_directory),
                                                    md == td ? " is also " : " is nested with ",
                                                    other_field, ".dataDirectory", of)});
      }
    }
  }
  const std::string& file = dc.spec.nginx.upstream_file;
  if (SameMachine(dc.spec.nginx.agent, other.spec.nginx.agent) && !PathProblem(file) &&
      !PathProblem(other.spec.nginx.upstream_file) &&
      NormalizePath(file) == NormalizePath(other.spec.nginx.upstream_file)) {
    out.push_back({"spec.nginx.upstreamFile",
                   absl::StrCat(QuoteValue(file), " is also spec.nginx.upstreamFile", of)});
  }
  return out;
}

}  // namespace sy::api
