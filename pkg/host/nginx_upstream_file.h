// The one nginx file Switchyard owns (spec.nginx.upstreamFile): rendering it for a color,
// and reading back which color an existing file sends traffic to. Both are pure, so the
// planner, the observer and the actuator agree on one format. Expects a defaulted spec
// (api::ApplyDefaults: upstreamName set).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/api/types.h"

namespace sy::host {

// The file's content when `color` is live, e.g. for default/shop on blue:
//   # Managed by Switchyard (default/shop): traffic goes to blue. Do not edit: it is rewritten.
//   upstream shop {
//       server 127.0.0.1:18081;
//       keepalive 16;
//   }
// `key` ("namespace/name") only names the owner in the comment.
std::string RenderUpstreamFile(const api::DeploymentColorSpec& spec, std::string_view key,
                               api::Color color);
std::string RenderUpstreamFile(const api::DeploymentColor& dc, api::Color color);

// The color whose upstream set equals the set of `server` addresses in the block
// `upstream <spec.nginx.upstreamName> { ... }` of `content`, wherever that block stands and
// whatever else the file holds (other blocks, comments, spacing). nullopt when the file does
// not parse, has no such block (or two), or the servers match neither color or both.
std::optional<api::Color> ParseUpstreamColor(const api::DeploymentColorSpec& spec,
                                             std::string_view content);

}  // namespace sy::host
