#include "pkg/host/pqxx_pg_client.h"

#include <exception>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sy::host {

struct PqxxPgClient::Slot {
  std::mutex mu;
  std::unique_ptr<pqxx::connection> conn;  // guarded by mu
  std::string conninfo;                    // what `conn` was opened with; guarded by mu
};

namespace {

// libpq's messages span lines (the error, then hints); the first one says it.
std::string Short(const char* what) {
  std::string s(what);
  s = s.substr(0, s.find('\n'));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// A refused connection's first line is often generic ("the database system is not accepting
// connections"); its DETAIL says why (e.g. "Hot standby mode is disabled."), and is kept.
std::string ShortWithDetail(const char* what) {
  std::string s = Short(what);
  for (absl::string_view line : absl::StrSplit(what, '\n')) {
    if (absl::ConsumePrefix(&line, "DETAIL:")) {
      absl::StrAppend(&s, " (", absl::StripAsciiWhitespace(line), ")");
      break;
    }
  }
  return s;
}

absl::Status FromSqlState(const std::string& state, const std::string& msg) {
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") || state == "53300") {
    return absl::UnavailableError(msg);
  }
  if (absl::StartsWith(state, "55") || state == "25006") {
    return absl::FailedPreconditionError(msg);
  }
  if (state == "42501" || absl::StartsWith(state, "28")) return absl::PermissionDeniedError(msg);
  if (state == "42710") return absl::AlreadyExistsError(msg);
  if (absl::StartsWith(state, "42") || absl::StartsWith(state, "22")) {
    return absl::InvalidArgumentError(msg);
  }
  return absl::InternalError(msg);
}

std::vector<PgRow> ToRows(const pqxx::result& r) {
  std::vector<PgRow> rows;
  rows.reserve(r.size());
  for (const auto& row : r) {
    PgRow out;
    out.reserve(row.size());
    for (const auto& f : row) {
      if (f.is_null()) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(f.c_str(), f.size()));
      }
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

}  // namespace

PqxxPgClient::PqxxPgClient() = default;
PqxxPgClient::~PqxxPgClient() = default;

std::shared_ptr<PqxxPgClient::Slot> PqxxPgClient::SlotFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Slot>& slot = slots_[address];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

void PqxxPgClient::Drop(const PgEndpoint& ep) {
  std::shared_ptr<Slot> slot = SlotFor(ep.Address());
  std::lock_guard<std::mutex> lock(slot->mu);
  slot->conn.reset();
}

absl::StatusOr<std::vector<PgRow>> PqxxPgClient::RunStatement(
    const PgEndpoint& ep, const std::string& sql, const std::vector<std::string>& params,
    std::chrono::milliseconds timeout) {
  std::shared_ptr<Slot> slot = SlotFor(ep.Address());
  std::lock_guard<std::mutex> lock(slot->mu);
  const std::string conninfo = ep.Conninfo();
  if (slot->conn && (slot->conninfo != conninfo || !slot->conn->is_open())) slot->conn.reset();
  for (int attempt = 0;; ++attempt) {
    const bool reused = slot->conn != nullptr;
    std::string stage = "querying";
    bool hung = false;  // the watchdog shut the socket down: no reply within `timeout`
    auto hung_error = [&] {
      return absl::UnavailableError(absl::StrCat(
          "querying ", ep.Address(), ": no reply within ", timeout.count(),
          " ms; the connection is dropped (is the server frozen or the network down?)"));
    };
    try {
      if (!slot->conn) {
        stage = "connecting to";
        slot->conn = std::make_unique<pqxx::connection>(conninfo);
        slot->conninfo = conninfo;
        stage = "querying";
      }
      pqxx::nontransaction tx(*slot->conn);
      // Disarmed when this scope ends, also by an exception: before a catch below closes the
      // socket.
      util::ScopedSocketDeadline deadline(watchdog_, slot->conn->sock(), timeout, &hung);
      pqxx::result r = params.empty()
                           ? tx.exec(sql)
                           : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
      return ToRows(r);
    } catch (const pqxx::broken_connection& e) {
      slot->conn.reset();
      if (hung) return hung_error();         // not sent again: a second wait would hang too
      if (reused && attempt == 0) continue;  // went stale between calls: one fresh try
      return absl::UnavailableError(
          absl::StrCat(stage, " ", ep.Address(), ": ", ShortWithDetail(e.what())));
    } catch (const pqxx::sql_error& e) {
      if (hung) {
        slot->conn.reset();
        return hung_error();
      }
      const std::string msg =
          absl::StrCat(ep.Address(), ": ", Short(e.what()), " (SQLSTATE ", e.sqlstate(), ")");
      absl::Status status = FromSqlState(e.sqlstate(), msg);
      if (!absl::IsUnavailable(status) && slot->conn->is_open()) return status;
      slot->conn.reset();  // e.g. 57P01: terminated by a shutdown since the last call
      if (reused && attempt == 0) continue;
      return absl::UnavailableError(msg);
    } catch (const std::exception& e) {
      slot->conn.reset();
      if (hung) return hung_error();
      return absl::InternalError(absl::StrCat(stage, " ", ep.Address(), ": ", Short(e.what())));
    }
  }
}

}  // namespace sy::host
