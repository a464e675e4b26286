// Synchronous replication as the planner sees it: synchronous_standby_names parsed as
// PostgreSQL 15 parses it, and whether a server's commits wait (or would wait, once it is
// promoted) for a standby that is not there (pkg/observe/README.md #29). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/world.h"

namespace sy::model {

// A parsed synchronous_standby_names: commits wait until `num_sync` of the standbys whose
// application_name matches one of `names` ("*" matches any; the comparison ignores case)
// have flushed them. num_sync 0: the setting is empty and commits wait for no standby.
struct SyncStandbys {
  bool quorum = false;  // ANY: any num_sync of them; else FIRST (priority in list order)
  int num_sync = 0;
  std::vector<std::string> names;
  bool operator==(const SyncStandbys&) const = default;
};

// Parses `s` with PostgreSQL 15's grammar: `name [, ...]`, `[FIRST] n (name [, ...])` or
// `ANY n (name [, ...])`, names bare or double-quoted ("" inside quotes is one "), keywords
// in any case. nullopt when it does not parse (PostgreSQL refuses such a value).
std::optional<SyncStandbys> ParseSyncStandbys(std::string_view s);

// How many standbys named `application_name` (one server: Switchyard's standby of color C
// uses application_name C) the setting can count: 1 when a name matches, else 0.
bool SyncStandbysMatch(const SyncStandbys& s, const std::string& application_name);

// Why commits on `s`, were it (or once it is) a primary whose only possible standby is named
// `standby_name`, would wait for ever: its synchronous_standby_names asks for more standbys
// than that one, or names none that it is. "" when they would not: synchronous_commit does
// not wait for standbys (off, local), the setting is empty, or that standby satisfies it
// once it streams. Unreadable or unparsable settings are reported, never assumed empty.
std::string WhySyncStandbyUnsatisfiable(const ServerState& s, const std::string& standby_name);

// Why commits on running primary `p` do not complete now: its synchronous_standby_names asks
// for more synchronous standbys than stream from it (pg_stat_replication.sync_state), or
// commits have waited for one (wait event SyncRep) longer than kCommitWaitBound. "" when
// neither holds.
std::string WhyCommitsWait(const ServerState& p);

// The synchronous_standby_names Switchyard writes to have the standby of color `standby`
// (application_name `standby`) be the synchronous one: "\"blue\"" (quoted, so that no name
// is read as a keyword); "" without one.
std::string SyncStandbyNamesValue(std::optional<api::Color> standby);

// What spec.database.synchronousReplication keeps on server `s`, whose standby is `other`
// (the running primary; or, before a switch, the standby about to be promoted, with
// other_streams false: the old primary will not stream from it yet): required names
// `other`; preferred names it while it streams and is empty otherwise. nullopt: unmanaged.
std::optional<std::string> ManagedSyncStandbyNames(api::SynchronousReplication mode,
                                                   api::Color other, bool other_streams);

// How long a commit may wait for a synchronous standby before it counts as hung.
inline constexpr int64_t kCommitWaitBoundMs = 5'000;

// "synchronous_standby_names = 'green' (from /etc/postgresql/15/main/postgresql.conf)".
std::string DescribeSyncStandbyNames(const ServerState& s);

}  // namespace sy::model
