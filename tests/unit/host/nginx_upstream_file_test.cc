#include "pkg/host/nginx_upstream_file.h"

#include "gtest/gtest.h"
#include "pkg/host/nginx_conf.h"

namespace sy::host {
namespace {

using api::Color;

api::DeploymentColor Shop() {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.spec.nginx.upstream_name = "shop";
  dc.spec.blue.upstreams = {"127.0.0.1:18081"};
  dc.spec.green.upstreams = {"127.0.0.1:18082"};
  return dc;
}

TEST(RenderUpstreamFileTest, RendersTheExactFormat) {
  EXPECT_EQ(RenderUpstreamFile(Shop(), Color::kBlue),
            "# Managed by Switchyard (default/shop): traffic goes to blue. Do not edit: it is "
            "rewritten.\n"
            "upstream shop {\n"
            "    server 127.0.0.1:18081;\n"
            "    keepalive 16;\n"
            "}\n");
}

TEST(RenderUpstreamFileTest, OneServerLinePerUpstreamAndTheSpecOverload) {
  api::DeploymentColor dc = Shop();
  dc.spec.nginx.upstream_name = "shop_backend";
  dc.spec.green.upstreams = {"10.0.0.1:80", "10.0.0.2:80"};
  EXPECT_EQ(RenderUpstreamFile(dc.spec, "prod/shop", Color::kGreen),
            "# Managed by Switchyard (prod/shop): traffic goes to green. Do not edit: it is "
            "rewritten.\n"
            "upstream shop_backend {\n"
            "    server 10.0.0.1:80;\n"
            "    server 10.0.0.2:80;\n"
            "    keepalive 16;\n"
            "}\n");
}

TEST(ParseUpstreamColorTest, ReadsBackWhatWasRendered) {
  const api::DeploymentColor dc = Shop();
  for (Color c : api::kColors) {
    EXPECT_EQ(ParseUpstreamColor(dc.spec, RenderUpstreamFile(dc, c)), c);
  }
}

TEST(ParseUpstreamColorTest, ToleratesOddSpacingCommentsAndOtherBlocks) {
  const api::DeploymentColor dc = Shop();
  EXPECT_EQ(ParseUpstreamColor(dc.spec,
                               "upstream other { server 127.0.0.1:18081; }\n"
                               "# upstream shop { server 127.0.0.1:18081; }\n"
                               "upstream\tshop{server   127.0.0.1:18082 weight=5 max_fails=3;"
                               "keepalive 4;}  # trailing\n"
                               "map $x $y { default 1; }\n"),
            Color::kGreen);
  EXPECT_EQ(ParseUpstreamColor(dc.spec,
                               "http {\n  upstream \"shop\" {\n\n    server\n"
                               "      '127.0.0.1:18081' ;  # blue\n  }\n}\n"),
            Color::kBlue);
}

TEST(ParseUpstreamColorTest, ComparesServerSetsNotLists) {
  api::DeploymentColor dc = Shop();
  dc.spec.blue.upstreams = {"127.0.0.1:1", "127.0.0.1:2"};
  EXPECT_EQ(
      ParseUpstreamColor(dc.spec, "upstream shop { server 127.0.0.1:2; server 127.0.0.1:1; }"),
      Color::kBlue);
  EXPECT_EQ(ParseUpstreamColor(dc.spec, "upstream shop { server 127.0.0.1:2; }"), std::nullopt);
  EXPECT_EQ(ParseUpstreamColor(dc.spec,
                               "upstream shop { server 127.0.0.1:1; server 127.0.0.1:2; "
                               "server 127.0.0.1:18082; }"),
            std::nullopt);
}

TEST(ParseUpstreamColorTest, NulloptWhenTheBlockIsMissingDuplicatedOrBroken) {
  const api::DeploymentColorSpec spec = Shop().spec;
  EXPECT_EQ(ParseUpstreamColor(spec, ""), std::nullopt);
  EXPECT_EQ(ParseUpstreamColor(spec, "upstream shopx { server 127.0.0.1:18081; }"), std::nullopt);
  EXPECT_EQ(ParseUpstreamColor(spec,
                               "upstream shop { server 127.0.0.1:18081; }\n"
                               "upstream shop { server 127.0.0.1:18081; }"),
            std::nullopt);
  EXPECT_EQ(ParseUpstreamColor(spec, "upstream shop { server 127.0.0.1:18081; "), std::nullopt);
  EXPECT_EQ(ParseUpstreamColor(spec, "upstream shop { server 127.0.0.1:18081 }"), std::nullopt);
}

TEST(ParseUpstreamColorTest, NulloptWhenBothColorsNameTheSameServers) {
  api::DeploymentColor dc = Shop();
  dc.spec.green.upstreams = dc.spec.blue.upstreams;
  EXPECT_EQ(ParseUpstreamColor(dc.spec, RenderUpstreamFile(dc, Color::kBlue)), std::nullopt);
}

TEST(ParseNginxConfigTest, ParsesNestedBlocksArgumentsAndLines) {
  auto parsed = ParseNginxConfig(
      "user nobody;  # comment\n"
      "pid \"/run/my nginx.pid\";\n"
      "events { worker_connections 64; }\n"
      "http {\n  server { listen 127.0.0.1:8080; return 200 'a;b\\'c'; }\n}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[1].name, "pid");
  EXPECT_EQ((*parsed)[1].args, std::vector<std::string>{"/run/my nginx.pid"});
  EXPECT_EQ((*parsed)[1].line, 2);
  EXPECT_TRUE((*parsed)[2].has_block);
  const NginxDirective& server = (*parsed)[3].block.at(0);
  EXPECT_EQ(server.line, 5);
  EXPECT_EQ(server.block.at(1).args, (std::vector<std::string>{"200", "a;b'c"}));
}

TEST(ParseNginxConfigTest, ReportsTheLineOfSyntaxErrors) {
  EXPECT_EQ(ParseNginxConfig("a;\n}\n").status().message(), "line 2: unexpected '}'");
  EXPECT_EQ(ParseNginxConfig("a;\nb c\n").status().message(),
            "line 2: directive \"b\" is not terminated by ';'");
  EXPECT_EQ(ParseNginxConfig("a {\n").status().message(), "unexpected end of file: missing '}'");
  EXPECT_EQ(ParseNginxConfig("a 'b;\n").status().message(), "line 1: unterminated string");
  EXPECT_EQ(ParseNginxConfig("\n;").status().message(), "line 2: unexpected ';'");
}

}  // namespace
}  // namespace sy::host
