#include "pkg/codec/tree.h"

#include <cstdint>
#include <string_view>
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

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace sy::codec::internal
