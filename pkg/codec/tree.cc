#include "pkg/codec/tree.h"

#include <utility>

namespace sy::codec::internal {

bool TreeAssembler::BeginCollection(TreeNode::Kind kind, int line, int column,
                                    std::string bad_tag) {
  if (skipped_ > 0 || stack_.size() >= kMaxDepth) {
    too_deep_ = true;
    ++skipped_;
    return false;
  }
  auto node = std::make_shared<TreeNode>();
  node->kind = kind;
  node->line = line;
  node->column = column;
  node->bad_tag = std::move(bad_tag);
  stack_.push_back(Frame{std::move(node), nullptr});
  return true;
}

NodePtr TreeAssembler::EndCollection() {
  if (skipped_ > 0) {
    --skipped_;
    return nullptr;
  }
  if (stack_.empty()) return nullptr;
  NodePtr done = std::move(stack_.back().node);
  stack_.pop_back();
  Attach(done);
  return done;
}

void TreeAssembler::Leaf(NodePtr node) {
  if (skipped_ == 0) Attach(std::move(node));
}

void TreeAssembler::Attach(NodePtr node) {
  if (stack_.empty()) {
    root_ = std::move(node);
    return;
  }
  Frame& top = stack_.back();
  if (top.node->kind == TreeNode::Kind::kSequence) {
    top.node->items.push_back(std::move(node));
  } else if (top.pending_key == nullptr) {
    top.pending_key = std::move(node);
  } else {
    top.node->entries.push_back(Entry{std::move(top.pending_key), std::move(node)});
    top.pending_key = nullptr;
  }
}

}  // namespace sy::codec::internal
