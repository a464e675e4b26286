// YAML text -> trees, through yaml-cpp's event parser (not YAML::Load) so that every node
// keeps its position, aliases share their anchor's node, and the documents before a syntax
// error survive it.
#include <exception>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "pkg/codec/tree.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/exceptions.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"

namespace sy::codec::internal {
namespace {

constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";

int Line(const YAML::Mark& m) { return m.is_null() ? 0 : m.line + 1; }
int Column(const YAML::Mark& m) { return m.is_null() ? 0 : m.column + 1; }

// Returns the tag when it is not one the core schema resolves ("" when fine).
std::string BadTag(const std::string& tag, std::initializer_list<std::string_view> fine) {
  if (tag == "?" || tag == "!") return "";
  for (std::string_view f : fine) {
    if (tag == absl::StrCat(std::string(kCoreTag), std::string(f))) return "";
  }
  return tag;
}

class Builder : public YAML::EventHandler {
 public:
  Builder(ParsedDocument* doc, std::string_view file) : doc_(*doc), file_(file) {}

  // Completes the document: its tree, or the structural problem that prevents decoding.
  void Finish() {
    if (tree_.TooDeep()) AddProblem(doc_.line, 1, std::string(kTooDeep));
    if (doc_.problems.empty()) doc_.root = tree_.Root();
  }

  void OnDocumentStart(const YAML::Mark& mark) override { doc_.line = Line(mark); }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto node = std::make_shared<TreeNode>();
    Place(*node, mark);
    Register(anchor, node);
    tree_.Leaf(std::move(node));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      // yaml-cpp knows the anchor, so it belongs to a node still open (a cycle) or to one
      // dropped for depth (reported by Finish()).
      if (!tree_.TooDeep()) {
        AddProblem(Line(mark), Column(mark), "alias refers to a node that contains it");
      }
      tree_.Leaf(std::make_shared<TreeNode>());
      return;
    }
    tree_.Leaf(it->second);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    auto node = std::make_shared<TreeNode>();
    node->kind = TreeNode::Kind::kScalar;
    node->scalar = value;
    node->quoted = tag == "!" || tag == absl::StrCat(std::string(kCoreTag), "str");
    node->bad_tag = BadTag(tag, {"str", "int", "bool", "null", "float"});
    Place(*node, mark);
    Register(anchor, node);
    tree_.Leaf(std::move(node));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    tree_.BeginCollection(TreeNode::Kind::kSequence, Line(mark), Column(mark),
                          BadTag(tag, {"seq"}));
    open_anchors_.push_back(anchor);
  }
  void OnSequenceEnd() override { End(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    tree_.BeginCollection(TreeNode::Kind::kMapping, Line(mark), Column(mark), BadTag(tag, {"map"}));
    open_anchors_.push_back(anchor);
  }
  void OnMapEnd() override { End(); }

 private:
  static void Place(TreeNode& node, const YAML::Mark& mark) {
    node.line = Line(mark);
    node.column = Column(mark);
  }

  void Register(YAML::anchor_t anchor, NodePtr node) {
    if (anchor != YAML::NullAnchor && node != nullptr) anchors_[anchor] = std::move(node);
  }

  void End() {
    NodePtr done = tree_.EndCollection();
    if (open_anchors_.empty()) return;
    Register(open_anchors_.back(), std::move(done));
    open_anchors_.pop_back();
  }

  void AddProblem(int line, int column, std::string message) {
    doc_.problems.push_back(Problem{std::string(file_), line, column, "", std::move(message)});
  }

  ParsedDocument& doc_;
  std::string_view file_;
  TreeAssembler tree_;
  std::map<YAML::anchor_t, NodePtr> anchors_;
  std::vector<YAML::anchor_t> open_anchors_;
};

}  // namespace

std::vector<ParsedDocument> ParseYaml(std::string_view content, std::string_view file) {
  std::vector<ParsedDocument> docs;
  std::istringstream in{std::string(content)};
  YAML::Parser parser(in);
  // Every document after the first starts with "---": more documents than that means the
  // parser is stuck (yaml-cpp 0.7 yields empty documents forever after `{"a":1},"b":2}`).
  const size_t max_docs = content.size() / 3 + 2;
  for (int index = 0;; ++index) {
    ParsedDocument doc;
    doc.index = index;
    Builder builder(&doc, file);
    std::string error;
    YAML::Mark mark = YAML::Mark::null_mark();
    try {
      if (!parser.HandleNextDocument(builder)) break;
      builder.Finish();
      if (docs.size() >= max_docs) {
        ParsedDocument stuck;
        stuck.index = index;
        stuck.line = doc.line;
        const int line = doc.root ? doc.root->line : doc.line;
        const int column = doc.root ? doc.root->column : 0;
        stuck.problems.push_back(
            Problem{std::string(file), line, column, "", "unexpected content after the document"});
        docs.push_back(std::move(stuck));
        break;
      }
      docs.push_back(std::move(doc));
      continue;
    } catch (const YAML::DeepRecursion& e) {
      error = std::string(kTooDeep);
      mark = e.mark;
    } catch (const YAML::Exception& e) {
      error = e.msg;
      mark = e.mark;
    } catch (const std::exception& e) {  // std::bad_alloc, or a yaml-cpp bug
      error = absl::StrCat("cannot parse: ", e.what());
    }
    // A syntax error ends the stream: nothing after it can be trusted.
    ParsedDocument failed;
    failed.index = index;
    failed.line = doc.line;
    failed.problems.push_back(Problem{std::string(file), Line(mark), Column(mark), "", error});
    docs.push_back(std::move(failed));
    break;
  }
  return docs;
}

}  // namespace sy::codec::internal
