#include "pkg/host/nginx_upstream_file.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/host/nginx_conf.h"

namespace sy::host {
namespace {

// Idle connections each worker keeps to the color's app servers.
constexpr int kKeepalive = 16;

// Appends every `upstream <name> { ... }` block below `directives` to `out`.
void FindUpstreams(const std::vector<NginxDirective>& directives, const std::string& name,
                   std::vector<const NginxDirective*>* out) {
  for (const NginxDirective& d : directives) {
    if (d.name == "upstream" && d.has_block && d.args.size() == 1 && d.args[0] == name) {
      out->push_back(&d);
    } else if (d.has_block) {
      FindUpstreams(d.block, name, out);
    }
  }
}

}  // namespace

std::string RenderUpstreamFile(const api::DeploymentColorSpec& spec, std::string_view key,
                               api::Color color) {
  // absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil.
  std::string out = "# Managed by Switchyard (" + std::string(key) + "): traffic goes to " +
                    std::string(api::ColorName(color)) + ". Do not edit: it is rewritten.\n" +
                    "upstream " + spec.nginx.upstream_name + " {\n";
  for (const std::string& address : spec.color(color).upstreams) {
    absl::StrAppend(&out, "    server ", address, ";\n");
  }
  absl::StrAppend(&out, "    keepalive ", kKeepalive, ";\n}\n");
  return out;
}

std::string RenderUpstreamFile(const api::DeploymentColor& dc, api::Color color) {
  return RenderUpstreamFile(dc.spec, dc.Key(), color);
}

std::optional<api::Color> ParseUpstreamColor(const api::DeploymentColorSpec& spec,
                                             std::string_view content) {
  const auto parsed = ParseNginxConfig(content);
  if (!parsed.ok()) return std::nullopt;
  std::vector<const NginxDirective*> blocks;
  FindUpstreams(*parsed, spec.nginx.upstream_name, &blocks);
  if (blocks.size() != 1) return std::nullopt;
  std::set<std::string> servers;
  for (const NginxDirective& d : blocks[0]->block) {
    if (d.name == "server" && !d.args.empty()) servers.insert(d.args[0]);
  }
  std::optional<api::Color> found;
  for (api::Color c : api::kColors) {
    const auto& ups = spec.color(c).upstreams;
    if (std::set<std::string>(ups.begin(), ups.end()) != servers) continue;
    if (found) return std::nullopt;  // both colors name the same servers
    found = c;
  }
  return found;
}

}  // namespace sy::host
