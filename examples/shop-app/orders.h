// Writes orders to the shop database through libpq's multi-host conninfo.
//
// Each calling thread keeps its own pqxx connection (pqxx connections are not thread-safe),
// opened on first use and replaced whenever it breaks. With `target_session_attrs=read-write`
// in the conninfo, a new connection always lands on the current primary, so the app follows
// a switchover without reconfiguration.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace shop {

struct OrderCreated {
  std::int64_t id = 0;
};

struct OrderFailed {
  std::string error;  // libpq/libpqxx message, for the 503 body and the log
};

using OrderResult = std::variant<OrderCreated, OrderFailed>;

// Inserts one row into orders(color, note). An empty note is stored as NULL.
// On a database error it drops the thread's connection, reconnects and retries once,
// except when the commit's outcome is unknown (the row may exist; retrying could duplicate).
// Thread-safe: every thread uses its own connection. `conninfo` must outlive the call.
OrderResult InsertOrder(const std::string& conninfo, const std::string& color,
                        const std::string& note);

}  // namespace shop
