// yardctl get [-o table|wide|yaml|json|name] [-w] and yardctl wait: reads and watches. The
// table is the server's (the Table kubectl gets too), printed as kubectl prints it.
#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/app/yardctl.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/codec/codec.h"

namespace sy::app {
namespace {

using internal::Connection;

std::string Cell(const nlohmann::json& c) {
  if (c.is_null()) return "<none>";
  return c.is_string() ? c.get<std::string>() : c.dump();
}

// The first cell (the name) of a Table row.
std::string RowName(const nlohmann::json& row) {
  const nlohmann::json& cells = internal::At(row, "cells");
  return cells.is_array() && !cells.empty() ? Cell(cells[0]) : "";
}

// Prints a server's Tables: upper-case headers, the priority-0 columns (-o wide: all),
// columns padded to the widest cell seen so far.
class TablePrinter {
 public:
  explicit TablePrinter(bool wide) : wide_(wide) {}

  // The rows of `table` as lines; the header first when `header` (and columns are known).
  std::vector<std::string> Lines(const nlohmann::json& table, bool header) {
    if (cols_.empty()) {
      int i = 0;
      const nlohmann::json& defs = internal::At(table, "columnDefinitions");
      for (const auto& c : defs.is_array() ? defs : nlohmann::json::array()) {
        if (wide_ || internal::At(c, "priority") == 0 || internal::At(c, "priority").is_null()) {
          cols_.push_back(i);
          headers_.push_back(absl::AsciiStrToUpper(internal::StrAt(c, {"name"})));
        }
        ++i;
      }
      widths_.assign(cols_.size(), 0);
      for (size_t k = 0; k < cols_.size(); ++k) widths_[k] = headers_[k].size();
    }
    std::vector<std::vector<std::string>> rows;
    if (header) rows.push_back(headers_);
    const nlohmann::json& table_rows = internal::At(table, "rows");
    for (const auto& row : table_rows.is_array() ? table_rows : nlohmann::json::array()) {
      const nlohmann::json& cells = internal::At(row, "cells");
      std::vector<std::string> r;
      for (int c : cols_) {
        const bool has = cells.is_array() && c < static_cast<int>(cells.size());
        r.push_back(has ? Cell(cells[c]) : "");
      }
      rows.push_back(std::move(r));
    }
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) widths_[i] = std::max(widths_[i], r[i].size());
    }
    std::vector<std::string> lines;
    for (const auto& r : rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size()) line += std::string(widths_[i] - r[i].size() + 3, ' ');
      }
      lines.push_back(line);
    }
    return lines;
  }

 private:
  bool wide_;
  std::vector<int> cols_;
  std::vector<std::string> headers_;
  std::vector<size_t> widths_;
};

std::string ListPath(const CtlOptions& o, const Connection& c) {
  std::string path = o.all_namespaces
                         ? std::string("/apis/switchyard.dev/v1alpha1/deploymentcolors")
                         : internal::CollectionPath(c.ns);
  if (o.names.size() == 1) path += "?fieldSelector=metadata.name%3D" + o.names[0];
  return path;
}

std::string Join(const std::string& path, const std::string& param) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + param;
}

bool Wanted(const CtlOptions& o, const std::string& name) {
  return o.names.empty() || std::find(o.names.begin(), o.names.end(), name) != o.names.end();
}

// Prints one object as -o yaml|json|name asks.
int PrintObject(const CtlOptions& o, const nlohmann::json& j, bool first, std::ostream& out,
                std::ostream& err) {
  if (o.output == "json") {
    out << j.dump(2) << "\n";
    return 0;
  }
  auto dc = internal::DecodeServerObject(j);
  if (!dc.ok()) return internal::Fail(dc.status(), err);
  if (o.output == "name") {
    out << internal::kResource << "/" << dc->metadata.name << "\n";
  } else {
    if (!first) out << "---\n";
    out << codec::EncodeYaml(*dc);
  }
  return 0;
}

}  // namespace

int CtlGet(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  server::ApiClient cli(c->client);
  const bool table = o.output == "table" || o.output == "wide";
  auto res =
      cli.Send("GET", ListPath(o, *c), "", "", table ? internal::kTableAccept : "application/json");
  if (!res.ok()) return internal::Fail(res.status(), err);
  if (res->status != 200) return internal::ServerError(*res, err);
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
  if (!body.is_object()) return internal::Fail(absl::InternalError("unexpected answer"), err);
  const std::string rv = internal::StrAt(body, {"metadata", "resourceVersion"});
  const nlohmann::json& items = internal::At(body, table ? "rows" : "items");
  std::vector<std::string> found;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& item : items) {
    const std::string name = table ? RowName(item) : internal::StrAt(item, {"metadata", "name"});
    if (!Wanted(o, name)) continue;
    found.push_back(name);
    kept.push_back(item);
  }
  body[table ? "rows" : "items"] = kept;
  int rc = 0;
  for (const std::string& n : o.names) {
    if (std::find(found.begin(), found.end(), n) == found.end()) {
      err << "Error from server (NotFound): deploymentcolors.switchyard.dev \"" << n
          << "\" not found\n";
      rc = 1;
    }
  }
  TablePrinter printer(o.output == "wide" || o.watch);
  if (table && !kept.empty()) {
    for (const auto& line : printer.Lines(body, /*header=*/true)) out << line << "\n";
  } else if (table && o.names.empty()) {
    err << "No resources found in " << (o.all_namespaces ? "any" : c->ns) << " namespace.\n";
  } else if (o.output == "json" && o.names.size() != 1) {
    out << body.dump(2) << "\n";
  } else {
    for (size_t i = 0; i < kept.size(); ++i) {
      if (PrintObject(o, kept[i], i == 0, out, err) != 0) return 1;
    }
  }
  out.flush();
  if (!o.watch || rc != 0) return rc;

  // Watch: print each change as it happens (a row only when it differs from the last one).
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  std::map<std::string, std::string> last;
  std::string from = rv;
  bool first = kept.empty();
  while (true) {
    std::string path = Join(ListPath(o, *c), "watch=true&resourceVersion=" + from);
    if (o.timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return 0;
      path = Join(path, absl::StrCat("timeoutSeconds=", (left.count() + 999) / 1000));
    }
    std::string error_body;
    bool failed = false;
    auto status = cli.Stream(
        path, table ? internal::kTableAccept : "application/json",
        [&](std::string_view line) {
          const nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
          if (!e.is_object()) return true;
          const nlohmann::json& obj = internal::At(e, "object");
          const std::string type = internal::StrAt(e, {"type"});
          if (type == "ERROR") {
            err << "error: the watch ended: " << internal::StrAt(obj, {"message"}) << "\n";
            failed = true;
            return false;
          }
          if (const auto v = internal::StrAt(obj, {"metadata", "resourceVersion"}); !v.empty()) {
            from = v;
          }
          if (!table) {
            if (!Wanted(o, internal::StrAt(obj, {"metadata", "name"}))) return true;
            if (PrintObject(o, obj, first, out, err) != 0) return false;
            first = false;
          } else {
            const nlohmann::json& rows = internal::At(obj, "rows");
            if (!rows.is_array() || rows.empty() || !Wanted(o, RowName(rows[0]))) return true;
            // The header too when the list was empty; then the one row of the event.
            const std::vector<std::string> lines = printer.Lines(obj, /*header=*/first);
            first = false;
            for (size_t i = 0; i + 1 < lines.size(); ++i) out << lines[i] << "\n";
            std::string& prev = last[RowName(rows[0])];
            if (!lines.empty() && lines.back() != prev) out << lines.back() << "\n";
            if (!lines.empty()) prev = lines.back();
          }
          out.flush();
          return true;
        },
        &error_body);
    if (!status.ok()) return internal::Fail(status.status(), err);
    if (*status != 200) return internal::ServerError({*status, error_body}, err);
    if (failed) return 1;
  }
}

int CtlWait(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  std::vector<std::string> want = absl::StrSplit(o.for_condition, '=');
  if (want.size() < 2 || want.size() > 3 || want[0] != "condition" || want[1].empty()) {
    err << "error: --for must be condition=TYPE or condition=TYPE=STATUS (e.g. "
           "--for=condition=Ready)\n";
    return 2;
  }
  const std::string type = want[1];
  const std::string value = want.size() == 3 ? want[2] : "True";
  if (o.names.empty()) {
    err << "error: name the resource to wait for (yardctl wait dc/NAME --for=...)\n";
    return 2;
  }
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  server::ApiClient cli(c->client);
  const auto timeout = o.timeout.count() > 0 ? o.timeout : std::chrono::milliseconds(30000);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const std::string& name : o.names) {
    auto res = cli.Send("GET", internal::ItemPath(c->ns, name));
    if (!res.ok()) return internal::Fail(res.status(), err);
    if (res->status != 200) return internal::ServerError(*res, err);
    // Met: the condition has the status, for the generation the controller has seen last
    // (so a change just applied is not met by the condition of the spec before it).
    auto met = [&](const nlohmann::json& j) {
      auto dc = internal::DecodeServerObject(j);
      if (!dc.ok()) return false;
      const api::Condition* cond = api::FindCondition(dc->status, type);
      if (cond == nullptr || cond->status != value) return false;
      const int64_t seen = cond->observed_generation != 0 ? cond->observed_generation
                                                          : dc->status.observed_generation;
      return seen == dc->metadata.generation;
    };
    bool done = met(nlohmann::json::parse(res->body, nullptr, false));
    while (!done) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        err << "error: timed out waiting for the condition on deploymentcolors/" << name << "\n";
        return 1;
      }
      std::string error_body;
      auto status = cli.Stream(
          absl::StrCat(internal::CollectionPath(c->ns),
                       "?watch=true&fieldSelector=metadata.name%3D", name,
                       "&timeoutSeconds=", (left.count() + 999) / 1000),
          "application/json",
          [&](std::string_view line) {
            const nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
            const std::string event = internal::StrAt(e, {"type"});
            if (event == "ERROR" || event == "DELETED") return false;
            done = met(internal::At(e, "object"));
            return !done;
          },
          &error_body);
      if (!status.ok()) return internal::Fail(status.status(), err);
      if (*status != 200) return internal::ServerError({*status, error_body}, err);
    }
    out << internal::kResource << "/" << name << " condition met\n";
  }
  return 0;
}

}  // namespace sy::app
