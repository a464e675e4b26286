// yardctl diff -f: what apply would change, asked of the server (a dry-run server-side apply)
// and shown as a unified diff of the live and the merged object.
#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/app/yardctl.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/codec/codec.h"
#include "pkg/server/api_handler.h"

namespace sy::app {
namespace {

constexpr size_t kContext = 3;

// The YAML shown for an object: metadata and spec, without status and resourceVersion (they
// change on every write, and are not what apply changes).
std::string Shown(const nlohmann::json& j) {
  auto dc = internal::DecodeServerObject(j);
  if (!dc.ok()) return "";
  dc->status = {};
  dc->metadata.resource_version.clear();
  dc->metadata.annotations.erase(std::string(server::kLastAppliedAnnotation));  // the server's
  return codec::EncodeYaml(*dc);
}

struct Edit {
  char op;  // ' ', '-', '+'
  std::string line;
};

// The shortest edit script turning `a` into `b` (longest common subsequence).
std::vector<Edit> Edits(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<Edit> out;
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out.push_back({' ', a[i++]});
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back({'-', a[i++]});  // deletions first, as diff -u prints them
    } else {
      out.push_back({'+', b[j++]});
    }
  }
  return out;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out = absl::StrSplit(s, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label) {
  if (a == b) return "";
  const std::vector<Edit> edits = Edits(Lines(a), Lines(b));
  std::ostringstream out;
  out << "--- " << a_label << "\n+++ " << b_label << "\n";
  size_t k = 0;
  while (k < edits.size()) {
    if (edits[k].op == ' ') {
      ++k;
      continue;
    }
    // A hunk: kContext lines before this change, up to kContext lines after the last change
    // that follows another within 2 * kContext unchanged lines.
    const size_t begin = k >= kContext ? k - kContext : 0;
    size_t last = k;
    for (size_t x = k + 1; x < edits.size(); ++x) {
      if (edits[x].op != ' ') {
        last = x;
      } else if (x - last > 2 * kContext) {
        break;
      }
    }
    const size_t end = std::min(edits.size(), last + 1 + kContext);
    size_t a_start = 1;
    size_t b_start = 1;
    for (size_t x = 0; x < begin; ++x) {
      if (edits[x].op != '+') ++a_start;
      if (edits[x].op != '-') ++b_start;
    }
    size_t a_len = 0;
    size_t b_len = 0;
    for (size_t x = begin; x < end; ++x) {
      if (edits[x].op != '+') ++a_len;
      if (edits[x].op != '-') ++b_len;
    }
    out << "@@ -" << (a_len == 0 ? a_start - 1 : a_start) << "," << a_len << " +"
        << (b_len == 0 ? b_start - 1 : b_start) << "," << b_len << " @@\n";
    for (size_t x = begin; x < end; ++x) out << edits[x].op << edits[x].line << "\n";
    k = end;
  }
  return out.str();
}

int CtlDiff(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = internal::ReadObjects(o);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 2;
  }
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err, 2);
  server::ApiClient cli(c->client);
  bool differs = false;
  for (const api::DeploymentColor& dc : *objs) {
    const std::string path = internal::ItemPath(dc.metadata.namespace_, dc.metadata.name);
    auto live = cli.Send("GET", path);
    if (!live.ok()) return internal::Fail(live.status(), err, 2);
    if (live->status != 200 && live->status != 404) return internal::ServerError(*live, err) + 1;
    // What apply would make of it, computed by the server and stored nowhere.
    auto merged =
        cli.Send("PATCH", path + "?fieldManager=yardctl&fieldValidation=Strict&dryRun=All",
                 internal::DesiredJson(dc), "application/apply-patch+yaml");
    if (!merged.ok()) return internal::Fail(merged.status(), err, 2);
    if (merged->status != 200 && merged->status != 201) {
      return internal::ServerError(*merged, err) + 1;
    }
    const std::string before =
        live->status == 404 ? "" : Shown(nlohmann::json::parse(live->body, nullptr, false));
    const std::string after = Shown(nlohmann::json::parse(merged->body, nullptr, false));
    const std::string name = absl::StrCat(dc.metadata.namespace_, "/", dc.metadata.name);
    const std::string d = UnifiedDiff(before, after, "live/" + name, "merged/" + name);
    if (!d.empty()) {
      differs = true;
      out << "diff live/" << name << " merged/" << name << "\n" << d;
    }
  }
  return differs ? 1 : 0;
}

}  // namespace sy::app
