#include "pkg/host/nginx_conf.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "pkg/util/status_macros.h"

namespace sy::host {
namespace {

struct Token {
  enum Kind { kWord, kSemicolon, kOpen, kClose, kEnd } kind = kEnd;
  std::string text;
  int line = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  absl::StatusOr<Token> Next() {
    SkipSpaceAndComments();
    Token t;
    t.line = line_;
    if (pos_ >= s_.size()) return t;
    const char c = s_[pos_];
    if (c == ';' || c == '{' || c == '}') {
      ++pos_;
      t.kind = c == ';' ? Token::kSemicolon : c == '{' ? Token::kOpen : Token::kClose;
      return t;
    }
    t.kind = Token::kWord;
    if (c == '"' || c == '\'') {
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        if (s_[pos_] == '\n') ++line_;
        t.text += s_[pos_++];
      }
      if (pos_ >= s_.size()) {
        return absl::InvalidArgumentError(absl::StrCat("line ", t.line, ": unterminated string"));
      }
      ++pos_;
      return t;
    }
    while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) &&
           s_[pos_] != ';' && s_[pos_] != '{' && s_[pos_] != '}') {
      t.text += s_[pos_++];
    }
    return t;
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < s_.size()) {
      if (s_[pos_] == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(s_[pos_]))) {
        ++pos_;
      } else if (s_[pos_] == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
};

// Reads directives until the end (depth 0) or the closing brace of the enclosing block.
absl::Status ParseBlock(Lexer& lex, bool nested, std::vector<NginxDirective>* out) {
  while (true) {
    SY_ASSIGN_OR_RETURN(Token t, lex.Next());
    if (t.kind == Token::kEnd) {
      if (nested) return absl::InvalidArgumentError("unexpected end of file: missing '}'");
      return absl::OkStatus();
    }
    if (t.kind == Token::kClose) {
      if (!nested) {
        return absl::InvalidArgumentError(absl::StrCat("line ", t.line, ": unexpected '}'"));
      }
      return absl::OkStatus();
    }
    if (t.kind != Token::kWord) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", t.line, ": unexpected '", t.kind == Token::kOpen ? "{" : ";", "'"));
    }
    NginxDirective d;
    d.name = std::move(t.text);
    d.line = t.line;
    while (true) {
      SY_ASSIGN_OR_RETURN(Token a, lex.Next());
      if (a.kind == Token::kWord) {
        d.args.push_back(std::move(a.text));
      } else if (a.kind == Token::kSemicolon) {
        break;
      } else if (a.kind == Token::kOpen) {
        d.has_block = true;
        SY_RETURN_IF_ERROR(ParseBlock(lex, true, &d.block));
        break;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", d.line, ": directive \"", d.name, "\" is not terminated by ';'"));
      }
    }
    out->push_back(std::move(d));
  }
}

}  // namespace

absl::StatusOr<std::vector<NginxDirective>> ParseNginxConfig(std::string_view content) {
  Lexer lex(content);
  std::vector<NginxDirective> out;
  SY_RETURN_IF_ERROR(ParseBlock(lex, false, &out));
  return out;
}

}  // namespace sy::host
