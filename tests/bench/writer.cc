// bench_writer: the external writer of hack/bench.sh. Commits one INSERT every --interval-ms
// through a libpq connection string (the multi-host, target_session_attrs=read-write string
// the shop apps use), reconnecting at the same pace when the connection breaks, and records
// every acknowledged commit as "<id> <epoch microseconds when acknowledged>" in --acks. Ids
// are chosen by the client and never reused, so every acknowledged id must be found on the
// final primary: `bench_writer --verify` lists the ones that are not.
//
//   bench_writer --conninfo STR --acks FILE [--interval-ms 5] [--table bench_writes]
//       runs until SIGINT/SIGTERM, then prints one JSON line of counters on stdout.
//   bench_writer --conninfo STR --verify FILE [--table bench_writes]
//       prints "acked=N missing=M" and the first missing ids; exits 1 when any is missing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int /*signal*/) { g_stop = true; }

struct Options {
  std::string conninfo;
  std::string acks;
  std::string verify;
  std::string table = "bench_writes";
  int interval_ms = 5;
  int64_t first_id = 0;  // 0: derived from the clock, so that runs never reuse an id
};

int64_t EpochMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--conninfo") {
      if (!value(&o->conninfo)) return false;
    } else if (a == "--acks") {
      if (!value(&o->acks)) return false;
    } else if (a == "--verify") {
      if (!value(&o->verify)) return false;
    } else if (a == "--table") {
      if (!value(&o->table)) return false;
    } else if (a == "--interval-ms") {
      if (!value(&v)) return false;
      o->interval_ms = std::atoi(v.c_str());
    } else if (a == "--first-id") {
      if (!value(&v)) return false;
      o->first_id = std::atoll(v.c_str());
    } else {
      return false;
    }
  }
  return !o->conninfo.empty() && (o->acks.empty() != o->verify.empty());
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

int Write(const Options& o) {
  std::ofstream acks(o.acks, std::ios::out | std::ios::trunc);
  if (!acks) {
    std::cerr << "bench_writer: cannot write " << o.acks << "\n";
    return 2;
  }
  int64_t id = o.first_id > 0 ? o.first_id : EpochMicros();
  int64_t acked = 0;
  int64_t failed = 0;
  int64_t connects = 0;
  int64_t connect_failures = 0;
  std::string last_error;
  std::unique_ptr<pqxx::connection> conn;
  const std::string insert = "INSERT INTO " + o.table + " (id) VALUES ($1)";
  const auto interval = std::chrono::milliseconds(o.interval_ms);
  auto next = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    std::this_thread::sleep_until(next);
    next = std::max(next + interval, std::chrono::steady_clock::now());
    if (!conn) {
      try {
        conn = std::make_unique<pqxx::connection>(o.conninfo);
        ++connects;
      } catch (const std::exception& e) {
        ++connect_failures;
        last_error = OneLine(e.what());
        continue;
      }
    }
    const int64_t this_id = id++;
    try {
      pqxx::nontransaction tx(*conn);
      tx.exec_params(insert, this_id);
      // Autocommit: the statement's return is the commit's acknowledgement.
      acks << this_id << ' ' << EpochMicros() << '\n';
      acks.flush();  // the bench reads the file while the writer runs
      ++acked;
    } catch (const pqxx::broken_connection& e) {
      ++failed;
      last_error = OneLine(e.what());
      conn.reset();
    } catch (const std::exception& e) {
      // E.g. "terminating connection due to administrator command", or a read-only error
      // from a server that became a standby: either way, find the primary again.
      ++failed;
      last_error = OneLine(e.what());
      conn.reset();
    }
  }
  acks.flush();
  std::cout << "{\"acked\":" << acked << ",\"failed\":" << failed << ",\"connects\":" << connects
            << ",\"connect_failures\":" << connect_failures << "}\n";
  if (!last_error.empty()) std::cerr << "bench_writer: last error: " << last_error << "\n";
  return acks ? 0 : 2;
}

int Verify(const Options& o) {
  std::ifstream in(o.verify);
  if (!in) {
    std::cerr << "bench_writer: cannot read " << o.verify << "\n";
    return 2;
  }
  std::ostringstream array;
  array << '{';
  int64_t n = 0;
  int64_t id = 0;
  int64_t at = 0;
  while (in >> id >> at) {
    array << (n == 0 ? "" : ",") << id;
    ++n;
  }
  array << '}';
  try {
    pqxx::connection conn(o.conninfo);
    pqxx::nontransaction tx(conn);
    const pqxx::result r =
        tx.exec_params("SELECT x FROM unnest($1::bigint[]) AS x WHERE NOT EXISTS (SELECT 1 FROM " +
                           o.table + " w WHERE w.id = x) ORDER BY x",
                       array.str());
    std::cout << "acked=" << n << " missing=" << r.size();
    for (size_t i = 0; i < r.size() && i < 10; ++i) {
      std::cout << (i == 0 ? " first:" : "") << ' ' << r[i][0].c_str();
    }
    std::cout << "\n";
    return r.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_writer: verifying: " << OneLine(e.what()) << "\n";
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::cerr << "usage: bench_writer --conninfo STR (--acks FILE [--interval-ms N] | --verify "
                 "FILE) [--table NAME]\n";
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return o.verify.empty() ? Write(o) : Verify(o);
}
