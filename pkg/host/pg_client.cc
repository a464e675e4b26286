#include "pkg/host/pg_client.h"

#include "absl/strings/str_cat.h"
#include "pkg/host/pg_auto_conf.h"

namespace sy::host {

std::string PgEndpoint::Address() const { return absl::StrCat(host, ":", port); }

std::string PgEndpoint::Conninfo() const {
  std::string s = absl::StrCat("host=", QuoteConninfoValue(host), " port=", port,
                               " user=", QuoteConninfoValue(user),
                               " dbname=postgres connect_timeout=2 application_name=switchyard");
  if (!password_file.empty()) absl::StrAppend(&s, " passfile=", QuoteConninfoValue(password_file));
  return s;
}

PgEndpoint EndpointFor(const api::DeploymentColorSpec& spec, api::Color color) {
  const api::DatabaseRef& db = spec.color(color).database;
  return PgEndpoint{db.host, db.port, spec.database.user, spec.database.password_file};
}

}  // namespace sy::host
