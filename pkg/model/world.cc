#include "pkg/model/world.h"

#include <algorithm>

namespace sy::model {

bool Prerequisites::Has(std::string_view p) const {
  return std::find(privileges.begin(), privileges.end(), p) != privileges.end();
}

bool World::UpstreamsHealthy(api::Color c) const {
  auto it = upstreams.find(c);
  if (it == upstreams.end() || it->second.empty()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [](const UpstreamState& u) { return u.healthy; });
}

}  // namespace sy::model
