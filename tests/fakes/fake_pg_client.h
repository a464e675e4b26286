// FakePgClient: PostgreSQL servers as the database steps see them through SQL, behind
// host::PgClient. Each server is a little state (reachable, in recovery, replay position,
// timelines, streaming standbys, slots, a pending promotion) that the statements the steps
// send read and change; faults are injected per server and statement.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/host/pg_client.h"
#include "pkg/model/lsn.h"

namespace sy::fakes {

// One server, as SQL shows it.
struct FakePgServer {
  // false: every statement fails as libpq does when nothing answers (kUnavailable).
  bool reachable = true;
  bool in_recovery = false;
  model::Lsn replay_lsn = 0;           // pg_last_wal_replay_lsn() (a standby)
  std::string data_directory;          // current_setting('data_directory')
  uint32_t timeline = 1;               // the timeline it writes (a primary) or replays
  uint32_t checkpoint_timeline = 1;    // pg_control_checkpoint(): the last checkpoint's
  std::set<std::string> streaming;     // application_name of each standby streaming from it
  std::set<std::string> slots;         // physical slots
  std::set<std::string> active_slots;  // ... of which a walsender streams through these
  // pg_promote(wait => false): whether it could signal the postmaster ("t"), and how many
  // pg_is_in_recovery() polls still see recovery after it (-1: the promotion never ends).
  bool promote_signals = true;
  int polls_until_promoted = 0;
  bool promotion_requested = false;  // set by pg_promote()
  int checkpoints = 0;               // CHECKPOINTs run
  // synchronous_standby_names as ALTER SYSTEM wrote it and as the server applies it: a
  // pg_reload_conf() applies it after `polls_until_reloaded` reads of the setting (-1: never).
  std::string sync_standby_names_written;
  std::string sync_standby_names;
  int polls_until_reloaded = 0;
  bool reload_requested = false;
  int alter_systems = 0;  // ALTER SYSTEM statements run
};

// Thread-safe.
class FakePgClient final : public host::PgClient {
 public:
  // The server at `address` ("127.0.0.1:15433"); created (reachable, a primary) when new.
  FakePgServer& Server(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    return servers_[address];
  }
  // The next statement to `address` whose text contains `sql_part` fails with `status` and
  // changes nothing (e.g. "CHECKPOINT" timing out, pg_promote() failing mid-statement).
  void FailNext(const std::string& address, const std::string& sql_part, absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back({address, sql_part, std::move(status)});
  }
  // Every statement sent, as "<address>: <sql>", in order.
  std::vector<std::string> Statements() {
    std::lock_guard<std::mutex> lock(mu_);
    return statements_;
  }
  // How many statements to `address` contained `sql_part`.
  int Count(const std::string& address, const std::string& sql_part) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const std::string& s : statements_) {
      if (absl::StartsWith(s, address + ": ") && absl::StrContains(s, sql_part)) ++n;
    }
    return n;
  }
  void Drop(const host::PgEndpoint& ep) override {
    std::lock_guard<std::mutex> lock(mu_);
    dropped_.insert(ep.Address());
  }
  // Whether Drop() was called for `address`.
  bool Dropped(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    return dropped_.count(address) > 0;
  }

 private:
  struct Failure {
    std::string address;
    std::string sql_part;
    absl::Status status;
  };
  using Rows = std::vector<host::PgRow>;

  static host::PgRow Row(std::vector<std::optional<std::string>> cells) { return cells; }
  static std::string Bool(bool b, bool long_form) {
    return long_form ? (b ? "true" : "false") : (b ? "t" : "f");
  }

  absl::StatusOr<Rows> RunStatement(const host::PgEndpoint& ep, const std::string& sql,
                                    const std::vector<std::string>& params,
                                    std::chrono::milliseconds /*timeout*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string address = ep.Address();
    statements_.push_back(address + ": " + sql);
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->address == address && absl::StrContains(sql, it->sql_part)) {
        absl::Status s = it->status;
        failures_.erase(it);
        return s;
      }
    }
    FakePgServer& s = servers_[address];
    if (!s.reachable) {
      return absl::UnavailableError(
          absl::StrCat("connecting to ", address, ": connection refused (is the server running?)"));
    }
    if (absl::StrContains(sql, "pg_stat_replication")) {
      Rows rows;
      if (!params.empty() && s.streaming.count(params[0]) > 0) rows.push_back(Row({"streaming"}));
      return rows;
    }
    if (absl::StrContains(sql, "pg_promote")) {
      if (!s.in_recovery) {
        return absl::FailedPreconditionError(
            absl::StrCat(address, ": recovery is not in progress (SQLSTATE 55000)"));
      }
      if (!s.promote_signals) return Rows{Row({"f"})};
      s.promotion_requested = true;
      return Rows{Row({"t"})};
    }
    if (absl::StrContains(sql, "pg_drop_replication_slot")) {  // the drop-slot step's query
      if (params.empty()) return absl::InvalidArgumentError("slot name missing");
      if (s.slots.count(params[0]) == 0) return Rows{};
      const bool active = s.active_slots.count(params[0]) > 0;
      if (!active) s.slots.erase(params[0]);
      return Rows{Row({active ? "true" : "false", active ? "t" : "f"})};
    }
    if (absl::StrContains(sql, "pg_create_physical_replication_slot")) {
      if (params.empty()) return absl::InvalidArgumentError("slot name missing");
      if (!s.slots.insert(params[0]).second) return Rows{};
      return Rows{Row({"(" + params[0] + ",)"})};
    }
    if (absl::StartsWith(sql, "ALTER SYSTEM SET synchronous_standby_names = '")) {
      const size_t open = sql.find('\'');
      s.sync_standby_names_written = sql.substr(open + 1, sql.rfind('\'') - open - 1);
      ++s.alter_systems;
      return Rows{};
    }
    if (absl::StrContains(sql, "pg_reload_conf()")) {
      s.reload_requested = true;
      return Rows{Row({"t"})};
    }
    if (absl::StrContains(sql, "current_setting('synchronous_standby_names')")) {
      if (s.reload_requested && s.polls_until_reloaded == 0) {
        s.sync_standby_names = s.sync_standby_names_written;
        s.reload_requested = false;
      } else if (s.reload_requested && s.polls_until_reloaded > 0) {
        --s.polls_until_reloaded;
      }
      return Rows{Row({s.sync_standby_names})};
    }
    if (absl::StrContains(sql, "current_setting('data_directory')")) {
      return Rows{Row({s.data_directory})};
    }
    if (sql == "CHECKPOINT") {
      ++s.checkpoints;
      s.checkpoint_timeline = s.timeline;
      return Rows{};
    }
    if (absl::StrContains(sql, "pg_is_in_recovery")) {
      Advance(s);
      if (absl::StrContains(sql, "pg_control_checkpoint")) {  // the checkpoint step's query
        return Rows{
            Row({Bool(s.in_recovery, true), absl::StrCat(s.checkpoint_timeline),
                 s.in_recovery ? std::nullopt
                               : std::optional<std::string>(absl::StrFormat("%08X", s.timeline))})};
      }
      if (absl::StrContains(sql, "pg_last_wal_replay_lsn")) {
        return Rows{Row({Bool(s.in_recovery, false),
                         s.in_recovery ? std::optional<std::string>(model::FormatLsn(s.replay_lsn))
                                       : std::nullopt})};
      }
      return Rows{Row({Bool(s.in_recovery, false)})};
    }
    return absl::InvalidArgumentError("FakePgClient does not know the statement: " + sql);
  }

  // A requested promotion completes after its polls: recovery ends on a new timeline.
  static void Advance(FakePgServer& s) {
    if (!s.promotion_requested || !s.in_recovery) return;
    if (s.polls_until_promoted > 0) {
      --s.polls_until_promoted;
      return;
    }
    if (s.polls_until_promoted < 0) return;
    s.in_recovery = false;
    s.promotion_requested = false;
    ++s.timeline;
  }

  std::mutex mu_;
  std::map<std::string, FakePgServer> servers_;
  std::deque<Failure> failures_;
  std::vector<std::string> statements_;
  std::set<std::string> dropped_;
};

}  // namespace sy::fakes
