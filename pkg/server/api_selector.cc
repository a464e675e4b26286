#include "pkg/server/api_selector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sy::server {
namespace {

// Splits at commas outside parentheses.
std::vector<std::string> Terms(absl::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(cur);
  std::vector<std::string> trimmed;
  for (const auto& t : out) {
    absl::string_view v = absl::StripAsciiWhitespace(t);
    if (!v.empty()) trimmed.emplace_back(v);
  }
  return trimmed;
}

}  // namespace

absl::StatusOr<Selector> Selector::Parse(std::string_view labels_in, std::string_view fields_in) {
  const absl::string_view labels(labels_in.data(), labels_in.size());
  const absl::string_view fields(fields_in.data(), fields_in.size());
  Selector sel;
  for (const std::string& t : Terms(labels)) {
    Requirement r;
    absl::string_view v = t;
    if (absl::ConsumePrefix(&v, "!")) {
      r.key = std::string(absl::StripAsciiWhitespace(v));
      r.op = Op::kNotExists;
    } else if (size_t ne = v.find("!="); ne != absl::string_view::npos) {
      r.key = std::string(absl::StripAsciiWhitespace(v.substr(0, ne)));
      r.op = Op::kNotIn;
      r.values = {std::string(absl::StripAsciiWhitespace(v.substr(ne + 2)))};
    } else if (size_t eq = v.find('='); eq != absl::string_view::npos) {
      r.key = std::string(absl::StripAsciiWhitespace(v.substr(0, eq)));
      absl::string_view value = v.substr(eq + 1);
      absl::ConsumePrefix(&value, "=");
      r.values = {std::string(absl::StripAsciiWhitespace(value))};
    } else if (size_t open = v.find('('); open != absl::string_view::npos && v.back() == ')') {
      std::vector<std::string> head =
          absl::StrSplit(v.substr(0, open), ' ', absl::SkipWhitespace());
      if (head.size() != 2 || (head[1] != "in" && head[1] != "notin")) {
        return absl::InvalidArgumentError(absl::StrCat("labelSelector: cannot read \"", t, "\""));
      }
      r.key = head[0];
      r.op = head[1] == "in" ? Op::kIn : Op::kNotIn;
      for (absl::string_view x : absl::StrSplit(v.substr(open + 1, v.size() - open - 2), ',')) {
        r.values.emplace_back(absl::StripAsciiWhitespace(x));
      }
    } else {
      r.key = std::string(v);
      r.op = Op::kExists;
    }
    if (r.key.empty() || r.key.find_first_of(" ()!=") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("labelSelector: cannot read \"", t, "\""));
    }
    sel.requirements_.push_back(std::move(r));
  }
  for (const std::string& t : Terms(fields)) {
    Requirement r;
    r.field = true;
    const size_t ne = t.find("!=");
    const size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("fieldSelector: cannot read \"", t, "\""));
    }
    const size_t key_end = ne != std::string::npos ? ne : eq;
    r.key = std::string(absl::StripAsciiWhitespace(t.substr(0, key_end)));
    absl::string_view value =
        absl::string_view(t).substr(ne != std::string::npos ? ne + 2 : eq + 1);
    absl::ConsumePrefix(&value, "=");
    r.values = {std::string(absl::StripAsciiWhitespace(value))};
    r.op = ne != std::string::npos ? Op::kNotIn : Op::kIn;
    if (r.key != "metadata.name" && r.key != "metadata.namespace") {
      return absl::InvalidArgumentError(absl::StrCat(
          "field label not supported: ", r.key, " (only metadata.name and metadata.namespace)"));
    }
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool Selector::Matches(const api::DeploymentColor& dc) const { return Matches(dc.metadata); }

bool Selector::Matches(const api::ObjectMeta& meta) const {
  for (const Requirement& r : requirements_) {
    std::optional<std::string> value;
    if (r.field) {
      value = r.key == "metadata.name" ? meta.name : meta.namespace_;
    } else if (auto it = meta.labels.find(r.key); it != meta.labels.end()) {
      value = it->second;
    }
    const bool listed =
        value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case Op::kIn:
        ok = listed;
        break;
      case Op::kNotIn:
        ok = !listed;
        break;
      case Op::kExists:
        ok = value.has_value();
        break;
      case Op::kNotExists:
        ok = !value.has_value();
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace sy::server
