// ?labelSelector= and ?fieldSelector= of lists and watches, as kubectl sends them
// (-l app=shop,tier!=db,env in (a,b),!legacy; --field-selector metadata.name=shop).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"

namespace sy::server {

class Selector {
 public:
  // kInvalidArgument saying what cannot be read; fields other than metadata.name and
  // metadata.namespace are not supported.
  static absl::StatusOr<Selector> Parse(std::string_view labels, std::string_view fields);
  bool Matches(const api::DeploymentColor& dc) const;
  bool Matches(const api::ObjectMeta& meta) const;

 private:
  enum class Op { kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    bool field = false;  // metadata.name / metadata.namespace, else a label
    std::string key;
    Op op = Op::kIn;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace sy::server
