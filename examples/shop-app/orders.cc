// See orders.h.
#include "orders.h"

#include <memory>
#include <pqxx/pqxx>

namespace shop {
namespace {

// One connection per worker thread, destroyed (closed) when the thread exits.
thread_local std::unique_ptr<pqxx::connection> tls_connection;

pqxx::connection& Connection(const std::string& conninfo) {
  if (!tls_connection || !tls_connection->is_open()) {
    tls_connection = std::make_unique<pqxx::connection>(conninfo);
  }
  return *tls_connection;
}

std::int64_t InsertOnce(const std::string& conninfo, const std::string& color,
                        const std::string& note) {
  pqxx::connection& conn = Connection(conninfo);
  pqxx::work txn(conn);
  const pqxx::row row = txn.exec_params1(
      "INSERT INTO orders (color, note) VALUES ($1, NULLIF($2, '')) RETURNING id", color, note);
  const auto id = row[0].as<std::int64_t>();
  txn.commit();
  return id;
}

}  // namespace

OrderResult InsertOrder(const std::string& conninfo, const std::string& color,
                        const std::string& note) {
  std::string first_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      return OrderCreated{InsertOnce(conninfo, color, note)};
    } catch (const pqxx::in_doubt_error& e) {
      tls_connection.reset();
      return OrderFailed{std::string("commit outcome unknown: ") + e.what()};
    } catch (const std::exception& e) {
      // Broken connection (a fenced or restarted server), a read-only session, a connect
      // failure while no primary exists: start over on a fresh connection, once.
      tls_connection.reset();
      if (attempt == 0) {
        first_error = e.what();
        continue;
      }
      if (first_error == e.what()) {
        return OrderFailed{first_error + " (also after reconnecting)"};
      }
      return OrderFailed{std::string(e.what()) + " (after reconnecting; first: " + first_error +
                         ")"};
    }
  }
  return OrderFailed{"unreachable"};
}

}  // namespace shop
