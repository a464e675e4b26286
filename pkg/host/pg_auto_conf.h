// Pure reading and rewriting of `postgresql.auto.conf` and of libpq connection strings
// (`primary_conninfo`): the quoting rules of both formats in one place, used by the observer
// (what a server will follow when it starts) and the actuator (rejoining it as a standby).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::host {

// The value of setting `name` in PostgreSQL configuration file text: the last `name = value`
// line wins, as in the server. Names compare case-insensitively; quoted values are unquoted
// ('' and backslash escapes, as the server's parser does). nullopt when not set.
std::optional<std::string> ConfigValue(std::string_view content, std::string_view name);

// Quotes a value for a configuration file as ALTER SYSTEM does: 'it''s', backslashes doubled.
std::string QuoteConfigValue(std::string_view value);

// Returns `content` with every line that sets one of `settings` removed and one
// `name = 'value'` line per setting appended, in order; every other line (comments, other
// settings) is kept verbatim. An empty `content` gets ALTER SYSTEM's header comment.
std::string RewriteConfig(std::string_view content,
                          const std::vector<std::pair<std::string, std::string>>& settings);

// Quotes one value of a libpq `keyword=value` connection string when it needs it (empty, or
// holding spaces, quotes or backslashes): 'a b', with \' and \\ inside.
std::string QuoteConninfoValue(std::string_view value);

// The value of `keyword` in a libpq `keyword=value ...` connection string (the last one
// wins, as in libpq); nullopt when absent or the string is malformed. URIs are not parsed.
std::optional<std::string> ConninfoValue(std::string_view conninfo, std::string_view keyword);

// The first port of a conninfo's `port` ("5432" or "5432,5433"); 0 when absent or malformed.
int ConninfoPort(std::string_view conninfo);

// The first host of a conninfo's `host` ("db1" or "db1,db2"), else of its `hostaddr`; "" when
// neither is set (libpq then connects through a Unix-domain socket of this machine) or the
// string is malformed. Never resolved.
std::string ConninfoHost(std::string_view conninfo);

}  // namespace sy::host
