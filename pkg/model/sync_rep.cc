#include "pkg/model/sync_rep.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sy::model {
namespace {

// The tokens of PostgreSQL 15's syncrep_scanner.l.
struct Token {
  enum Kind { kName, kNum, kAny, kFirst, kComma, kOpen, kClose } kind;
  std::string text;
};

bool IdentStart(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool IdentCont(unsigned char c) { return IdentStart(c) || std::isdigit(c) != 0 || c == '$'; }

std::optional<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (std::isspace(c) != 0) {
      ++i;
    } else if (c == '"') {
      std::string name;
      for (++i;; ++i) {
        if (i >= s.size()) return std::nullopt;  // unterminated
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            name += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        name += s[i];
      }
      out.push_back({Token::kName, std::move(name)});
    } else if (IdentStart(c)) {
      size_t j = i + 1;
      while (j < s.size() && IdentCont(s[j])) ++j;
      std::string word(s.substr(i, j - i));
      i = j;
      if (absl::EqualsIgnoreCase(word, "any")) {
        out.push_back({Token::kAny, word});
      } else if (absl::EqualsIgnoreCase(word, "first")) {
        out.push_back({Token::kFirst, word});
      } else {
        out.push_back({Token::kName, std::move(word)});
      }
    } else if (std::isdigit(c) != 0) {
      size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) != 0) ++j;
      out.push_back({Token::kNum, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '*') {
      out.push_back({Token::kName, "*"});
      ++i;
    } else if (c == ',' || c == '(' || c == ')') {
      out.push_back({c == ',' ? Token::kComma : c == '(' ? Token::kOpen : Token::kClose, ""});
      ++i;
    } else {
      return std::nullopt;  // JUNK
    }
  }
  return out;
}

bool SynchronousCommitWaits(const SyncReplication& s) {
  // off and local never wait for a standby; on, remote_write and remote_apply do.
  return s.synchronous_commit != "off" && s.synchronous_commit != "local";
}

std::string Quoted(const std::string& s) { return absl::StrCat("'", s, "'"); }

std::string Standbys(int n) {
  return n == 1 ? "1 synchronous standby" : absl::StrCat(n, " synchronous standbys");
}

}  // namespace

std::optional<SyncStandbys> ParseSyncStandbys(std::string_view s) {
  if (s.empty()) return SyncStandbys{};
  std::optional<std::vector<Token>> tokens = Tokenize(s);
  if (!tokens || tokens->empty()) return std::nullopt;
  const std::vector<Token>& t = *tokens;
  SyncStandbys out;
  size_t i = 0;
  std::string num = "1";
  bool parenthesized = false;
  if (t[0].kind == Token::kAny || t[0].kind == Token::kFirst) {
    if (t.size() < 2 || t[1].kind != Token::kNum) return std::nullopt;
    out.quorum = t[0].kind == Token::kAny;
    num = t[1].text;
    i = 2;
    parenthesized = true;
  } else if (t[0].kind == Token::kNum && t.size() > 1 && t[1].kind == Token::kOpen) {
    num = t[0].text;
    i = 1;
    parenthesized = true;
  }
  if (parenthesized) {
    if (i >= t.size() || t[i].kind != Token::kOpen) return std::nullopt;
    ++i;
  }
  for (;;) {
    if (i >= t.size() || (t[i].kind != Token::kName && t[i].kind != Token::kNum)) {
      return std::nullopt;
    }
    out.names.push_back(t[i].text);
    ++i;
    if (i < t.size() && t[i].kind == Token::kComma) {
      ++i;
      continue;
    }
    break;
  }
  if (parenthesized) {
    if (i >= t.size() || t[i].kind != Token::kClose) return std::nullopt;
    ++i;
  }
  if (i != t.size()) return std::nullopt;
  // PostgreSQL reads the number with atoi and refuses one below 1.
  if (!absl::SimpleAtoi(num, &out.num_sync) || out.num_sync < 1) return std::nullopt;
  return out;
}

bool SyncStandbysMatch(const SyncStandbys& s, const std::string& application_name) {
  return std::any_of(s.names.begin(), s.names.end(), [&](const std::string& n) {
    return n == "*" || absl::EqualsIgnoreCase(n, application_name);
  });
}

std::string SyncStandbyNamesValue(std::optional<api::Color> standby) {
  return standby ? "\"" + std::string(api::ColorName(*standby)) + "\"" : "";
}

std::optional<std::string> ManagedSyncStandbyNames(api::SynchronousReplication mode,
                                                   api::Color other, bool other_streams) {
  switch (mode) {
    case api::SynchronousReplication::kUnmanaged:
      return std::nullopt;
    case api::SynchronousReplication::kPreferred:
      return SyncStandbyNamesValue(other_streams ? std::optional<api::Color>(other) : std::nullopt);
    case api::SynchronousReplication::kRequired:
      return SyncStandbyNamesValue(other);
  }
  return std::nullopt;
}

std::string DescribeSyncStandbyNames(const ServerState& s) {
  std::string out = absl::StrCat("synchronous_standby_names = ", Quoted(s.sync.standby_names));
  if (!s.sync.source_file.empty()) absl::StrAppend(&out, " (from ", s.sync.source_file, ")");
  return out;
}

std::string WhySyncStandbyUnsatisfiable(const ServerState& s, const std::string& standby_name) {
  if (!s.sync.known) return "its synchronous_standby_names could not be read";
  if (!SynchronousCommitWaits(s.sync)) return "";
  const std::optional<SyncStandbys> parsed = ParseSyncStandbys(s.sync.standby_names);
  if (!parsed) return absl::StrCat(DescribeSyncStandbyNames(s), " does not parse");
  if (parsed->num_sync == 0) return "";
  if (parsed->num_sync > 1) {
    return absl::StrCat(DescribeSyncStandbyNames(s), " asks for ", Standbys(parsed->num_sync),
                        ", and only ", standby_name, " can stream from it");
  }
  if (!SyncStandbysMatch(*parsed, standby_name)) {
    return absl::StrCat(DescribeSyncStandbyNames(s), " names no standby that ", standby_name,
                        " (application_name ", standby_name, ") is");
  }
  return "";
}

std::string WhyCommitsWait(const ServerState& p) {
  if (!p.sync.known) return "";
  std::string why;
  if (SynchronousCommitWaits(p.sync)) {
    const std::optional<SyncStandbys> parsed = ParseSyncStandbys(p.sync.standby_names);
    if (!parsed) {
      why = absl::StrCat(DescribeSyncStandbyNames(p), " does not parse");
    } else if (parsed->num_sync > 0) {
      const auto sync = std::count_if(
          p.replication.begin(), p.replication.end(), [](const ReplicationPeer& peer) {
            return peer.sync_state == "sync" || peer.sync_state == "quorum";
          });
      if (sync < parsed->num_sync) {
        why = absl::StrCat(DescribeSyncStandbyNames(p), " asks for ", Standbys(parsed->num_sync),
                           " and ", sync, sync == 1 ? " streams" : " stream");
      }
    }
  }
  if (p.sync.waiting_commits > 0 && p.sync.longest_wait_ms > kCommitWaitBoundMs) {
    absl::StrAppend(&why, why.empty() ? "" : "; ", p.sync.waiting_commits,
                    p.sync.waiting_commits == 1 ? " commit has" : " commits have",
                    " waited for a synchronous standby, the oldest for ",
                    p.sync.longest_wait_ms / 1000, " s");
  }
  return why;
}

}  // namespace sy::model
