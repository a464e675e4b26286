// Manifests shared by the codec tests.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sy::codec::testing {

// A minimal valid manifest. Line numbers matter: the error tests quote positions in it.
inline constexpr std::string_view kShop = R"(# shop
apiVersion: switchyard.dev/v1alpha1
kind: DeploymentColor
metadata:
  name: shop
spec:
  activeColor: blue
  colors:
    blue:
      upstreams: ["127.0.0.1:18081"]
      database:
        host: 127.0.0.1
        port: 15433
        dataDirectory: /tmp/pg/blue
    green:
      upstreams: ["127.0.0.1:18082"]
      database: {host: 127.0.0.1, port: 15434, dataDirectory: /tmp/pg/green}
  nginx:
    upstreamFile: /tmp/nginx/shop.conf
    probe:
      url: http://127.0.0.1:18080/
  database:
    maxLagBytes: 16777216
)";

// kShop with the first occurrence of `from` replaced by `to` (`from` must occur).
inline std::string ShopWith(std::string_view from, std::string_view to) {
  std::string out(kShop);
  const size_t at = out.find(from);
  if (at == std::string::npos) return "test bug: not in kShop: " + std::string(from);
  return out.replace(at, from.size(), to);
}

// A file of the repository's examples/ folder, found from this source file's path.
inline std::string ExamplePath(std::string_view name) {
  return (std::filesystem::path(__FILE__).parent_path() / "../../../examples" / name)
      .lexically_normal()
      .string();
}

}  // namespace sy::codec::testing
