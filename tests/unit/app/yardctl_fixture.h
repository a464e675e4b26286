// Shared by yardctl's tests: a real API server on 127.0.0.1 (memory store, real clock) with a
// token file, manifests in a temporary directory, and a way to run a command and keep its
// exit code and output.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "pkg/app/yardctl.h"
#include "pkg/codec/codec.h"
#include "pkg/server/http_server.h"
#include "pkg/util/clock.h"
#include "pkg/util/files.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::app::testing {

struct Result {
  int rc = -1;
  std::string out;
  std::string err;
};

class YardctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/token", "t0ken\n", 0600).ok());
    server::ApiOptions o;
    o.token = "t0ken";
    o.watch_heartbeat = std::chrono::milliseconds(50);
    api_ = std::make_unique<server::ApiHandler>(
        store_, util::RealClock::Get(), [] { return true; }, o);
    http_ = std::make_unique<server::HttpServer>(
        [this](const server::HttpRequest& r) { return api_->Handle(r); });
    ASSERT_TRUE(http_->Start("127.0.0.1:0").ok());
    opts_.server = "http://127.0.0.1:" + std::to_string(http_->port());
    opts_.state_dir = dir_;  // the token file
  }
  void TearDown() override { http_->Stop(); }

  // Writes a manifest of default/`name` with `color` (and `paused`); returns its path. Each
  // name has servers of its own (two resources may not share any).
  std::string Manifest(const std::string& name, api::Color color, bool paused = false) {
    api::DeploymentColor dc = fakes::FakeResource(color);
    if (name != "shop") {
      const int n = names_.emplace(name, static_cast<int>(names_.size()) + 1).first->second;
      for (api::Color c : api::kColors) {
        api::DatabaseRef& db = dc.spec.color(c).database;
        db.port += 100 * n;
        db.data_directory += "-" + name;
      }
      dc.spec.nginx.upstream_file = "/etc/nginx/switchyard/" + name + ".conf";
    }
    dc.metadata.name = name;
    dc.metadata.generation = 0;
    dc.spec.paused = paused;
    const std::string path = dir_ + "/" + name + ".yaml";
    EXPECT_TRUE(util::WriteFileAtomically(path, codec::EncodeYaml(dc)).ok());
    return path;
  }
  template <typename F>
  Result Do(F&& command, const CtlOptions& o) {
    std::ostringstream out;
    std::ostringstream err;
    Result r;
    r.rc = command(o, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  CtlOptions With(std::vector<std::string> files) const {
    CtlOptions o = opts_;
    o.files = std::move(files);
    return o;
  }
  CtlOptions Named(std::vector<std::string> names) const {
    CtlOptions o = opts_;
    o.names = std::move(names);
    return o;
  }
  api::Color Desired(const std::string& name) {
    auto dc = store_.Get("default/" + name);
    EXPECT_TRUE(dc.has_value()) << name;
    return dc ? dc->spec.active_color : api::Color::kBlue;
  }

  fakes::TempDir tmp_{"yardctl_test"};
  const std::string dir_ = tmp_.path;
  source::Store store_{"", util::RealClock::Get()};
  std::unique_ptr<server::ApiHandler> api_;
  std::unique_ptr<server::HttpServer> http_;
  CtlOptions opts_;
  std::map<std::string, int> names_;  // Manifest(): each name's servers
};

}  // namespace sy::app::testing
