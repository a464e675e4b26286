#include "pkg/codec/codec.h"

#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/codec/tree.h"
#include "pkg/util/files.h"

namespace sy::codec {
namespace {

absl::Status Invalid(const std::vector<Problem>& problems) {
  return absl::InvalidArgumentError(absl::StrJoin(
      problems, "\n", [](std::string* out, const Problem& p) { out->append(p.ToString()); }));
}

}  // namespace

std::string Problem::ToString() const {
  std::string out = file;
  if (line > 0) absl::StrAppend(&out, ":", line);
  if (line > 0 && column > 0) absl::StrAppend(&out, ":", column);
  if (!out.empty()) out += ": ";
  if (!field.empty()) absl::StrAppend(&out, field, ": ");
  return out + message;
}

std::vector<DecodedDocument> DecodeYamlStream(std::string_view content, std::string_view file) {
  std::vector<DecodedDocument> docs;
  for (const internal::ParsedDocument& parsed : internal::ParseYaml(content, file)) {
    const bool empty =
        parsed.root == nullptr || parsed.root->kind == internal::TreeNode::Kind::kNull;
    if (parsed.problems.empty() && empty) continue;
    docs.push_back(internal::DecodeDocument(parsed, file));
  }
  return docs;
}

absl::StatusOr<std::vector<api::DeploymentColor>> DecodeManifests(std::string_view content,
                                                                  std::string_view file) {
  std::vector<DecodedDocument> docs = DecodeYamlStream(content, file);
  if (docs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(file), ": no document found"));
  }
  std::vector<Problem> problems;
  std::vector<api::DeploymentColor> objects;
  std::map<std::string, int> lines;  // key -> line of the document that defines it
  for (DecodedDocument& doc : docs) {
    problems.insert(problems.end(), doc.problems.begin(), doc.problems.end());
    if (!doc.ok()) continue;
    const std::string key = doc.object.Key();
    if (auto [it, fresh] = lines.emplace(key, doc.line); !fresh) {
      problems.push_back(
          Problem{std::string(file), doc.line, 0, "metadata.name",
                  absl::StrCat("\"", key, "\" is defined again (first at line ", it->second, ")")});
    }
    objects.push_back(std::move(doc.object));
  }
  if (!problems.empty()) return Invalid(problems);
  return objects;
}

absl::StatusOr<std::vector<api::DeploymentColor>> ReadManifestFile(const std::string& path) {
  absl::StatusOr<std::string> content = util::ReadFile(path);
  if (!content.ok()) return content.status();
  return DecodeManifests(*content, path);
}

absl::StatusOr<api::DeploymentColor> DecodeJson(std::string_view content, std::string_view source) {
  DecodedDocument doc = internal::DecodeDocument(internal::ParseJson(content, source), source);
  if (!doc.ok()) return Invalid(doc.problems);
  return std::move(doc.object);
}

}  // namespace sy::codec
