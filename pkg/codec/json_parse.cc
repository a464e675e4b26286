// JSON text -> tree, through nlohmann's SAX interface: strict JSON syntax, duplicate keys
// kept for the decoder to report, nesting bounded before anything deep is built.
#include <cstdint>
#include <exception>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/codec/tree.h"

namespace sy::codec::internal {
namespace {

using Json = nlohmann::json;

// "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ...; last
// read: '...'" -> "syntax error ...": the position is the Problem's, and what nlohmann last
// read is a piece of the input, which may be a password (an unterminated string holds the
// rest of the line): messages reach the status, the logs and API errors.
std::string WithoutPrefix(std::string message) {
  constexpr std::string_view kLastRead = "; last read: '";
  if (size_t from = message.find(kLastRead); from != std::string::npos) {
    const size_t expected = message.find("'; expected ", from + kLastRead.size());
    message.erase(from, expected == std::string::npos ? std::string::npos : expected + 1 - from);
  }
  if (absl::StartsWith(message, "[json.exception.")) {
    if (size_t end = message.find("] "); end != std::string::npos) message.erase(0, end + 2);
  }
  if (absl::StartsWith(message, "parse error at line ")) {
    if (size_t colon = message.find(": "); colon != std::string::npos) {
      message.erase(0, colon + 2);
    }
  }
  return message;
}

class Builder : public nlohmann::json_sax<Json> {
 public:
  Builder(std::string_view content, std::string_view file, ParsedDocument* doc)
      : content_(content), file_(file), doc_(*doc) {}

  bool null() override { return Leaf(TreeNode::Kind::kNull, "", false); }
  bool boolean(bool val) override {
    return Leaf(TreeNode::Kind::kScalar, val ? "true" : "false", false);
  }
  bool number_integer(number_integer_t val) override {
    return Leaf(TreeNode::Kind::kScalar, absl::StrCat(val), false);
  }
  bool number_unsigned(number_unsigned_t val) override {
    return Leaf(TreeNode::Kind::kScalar, absl::StrCat(val), false);
  }
  bool number_float(number_float_t /*val*/, const string_t& s) override {
    return Leaf(TreeNode::Kind::kScalar, s, false);  // the text as written: "1.5", "1e400"
  }
  bool string(string_t& val) override { return Leaf(TreeNode::Kind::kScalar, val, true); }
  bool binary(binary_t& /*val*/) override { return false; }  // not produced by JSON text

  bool start_object(std::size_t /*elements*/) override { return Begin(TreeNode::Kind::kMapping); }
  bool key(string_t& val) override { return Leaf(TreeNode::Kind::kScalar, val, true); }
  bool end_object() override { return End(); }
  bool start_array(std::size_t /*elements*/) override { return Begin(TreeNode::Kind::kSequence); }
  bool end_array() override { return End(); }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    int line = 1;
    int column = 0;
    for (size_t i = 0; i < position && i < content_.size(); ++i) {
      if (content_[i] == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    doc_.problems.push_back(
        Problem{std::string(file_), line, column, "", WithoutPrefix(ex.what())});
    return false;
  }

  void Finish() {
    if (tree_.TooDeep()) {
      doc_.problems.push_back(Problem{std::string(file_), 0, 0, "", std::string(kTooDeep)});
    }
    if (doc_.problems.empty()) doc_.root = tree_.Root();
  }

 private:
  bool Leaf(TreeNode::Kind kind, std::string text, bool quoted) {
    auto node = std::make_shared<TreeNode>();
    node->kind = kind;
    node->scalar = std::move(text);
    node->quoted = quoted;
    tree_.Leaf(std::move(node));
    return true;
  }
  bool Begin(TreeNode::Kind kind) { return tree_.BeginCollection(kind, 0, 0); }
  bool End() {
    tree_.EndCollection();
    return true;
  }

  std::string_view content_;
  std::string_view file_;
  ParsedDocument& doc_;
  TreeAssembler tree_;
};

}  // namespace

ParsedDocument ParseJson(std::string_view content, std::string_view file) {
  ParsedDocument doc;
  doc.line = 1;
  Builder builder(content, file, &doc);
  try {
    Json::sax_parse(content.begin(), content.end(), &builder);
    builder.Finish();
  } catch (const std::exception& e) {  // nlohmann reports through parse_error(); be safe
    doc.root = nullptr;
    doc.problems.push_back(Problem{std::string(file), 0, 0, "", e.what()});
  }
  return doc;
}

}  // namespace sy::codec::internal
