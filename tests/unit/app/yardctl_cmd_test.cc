// Tests of yardctl's commands against a real API server: what a user (or a script) sees, the
// exit codes, and what the store holds afterwards.
#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/app/yardctl_fixture.h"

namespace sy::app::testing {
namespace {

using api::Color;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(YardctlTest, ApplyCreatesConfiguresAndSaysUnchanged) {
  const std::string shop = Manifest("shop", Color::kBlue);
  Result r = Do(CtlApply, With({shop}));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "deploymentcolor.switchyard.dev/shop created\n");
  EXPECT_EQ(Do(CtlApply, With({shop})).out, "deploymentcolor.switchyard.dev/shop unchanged\n");
  Manifest("shop", Color::kGreen);
  r = Do(CtlApply, With({shop}));
  EXPECT_EQ(r.out, "deploymentcolor.switchyard.dev/shop configured\n");
  EXPECT_EQ(Desired("shop"), Color::kGreen);
  EXPECT_EQ(store_.Get("default/shop")->status.source, "api");

  Manifest("shop", Color::kBlue);
  CtlOptions dry = With({shop});
  dry.dry_run = true;
  EXPECT_EQ(Do(CtlApply, dry).out,
            "deploymentcolor.switchyard.dev/shop configured (server dry run)\n");
  EXPECT_EQ(Desired("shop"), Color::kGreen);
}

TEST_F(YardctlTest, ApplyDirectoryAndStdin) {
  Manifest("shop", Color::kBlue);
  Manifest("cart", Color::kGreen);
  Result r = Do(CtlApply, With({dir_}));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(store_.List().size(), 2u);
  std::istringstream in(codec::EncodeYaml(fakes::FakeResource(Color::kGreen)));
  CtlOptions o = With({"-"});
  o.in = &in;
  r = Do(CtlApply, o);
  EXPECT_EQ(r.out, "deploymentcolor.switchyard.dev/shop configured\n");
  EXPECT_EQ(Desired("shop"), Color::kGreen);
}

TEST_F(YardctlTest, ApplyRefusesInvalidManifestsWithTheirPosition) {
  const std::string bad = dir_ + "/bad.yaml";
  std::string text = codec::EncodeYaml(fakes::FakeResource());
  text.replace(text.find("activeColor: blue"), 17, "activeColor: purple");
  ASSERT_TRUE(util::WriteFileAtomically(bad, text).ok());
  const Result r = Do(CtlApply, With({bad}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, bad + ":")) << r.err;
  EXPECT_TRUE(Has(r.err, "spec.activeColor: must be \"blue\" or \"green\"")) << r.err;
  EXPECT_TRUE(store_.List().empty());
}

TEST_F(YardctlTest, FileOwnedResourcesAreRefusedNamingTheFile) {
  ASSERT_TRUE(store_.Apply(fakes::FakeResource(), "/srv/gitops/shop.yaml (commit abc)").ok());
  const Result r = Do(CtlApply, With({Manifest("shop", Color::kGreen)}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, "Error from server (Forbidden)")) << r.err;
  EXPECT_TRUE(Has(r.err, "/srv/gitops/shop.yaml (commit abc)")) << r.err;
  const Result p = Do([](const CtlOptions& o, std::ostream& out,
                         std::ostream& err) { return CtlSetPaused(o, true, out, err); },
                      Named({"shop"}));
  EXPECT_EQ(p.rc, 1);
  EXPECT_EQ(Desired("shop"), Color::kBlue);
}

TEST_F(YardctlTest, WritesWithoutTheTokenSayWhatIsMissing) {
  CtlOptions o = With({Manifest("shop", Color::kBlue)});
  o.state_dir = dir_ + "/elsewhere";
  const Result r = Do(CtlApply, o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, "token")) << r.err;
  o.token_file = dir_ + "/none";
  EXPECT_EQ(Do(CtlApply, o).rc, 1);
}

TEST_F(YardctlTest, GetPrintsTheServersTable) {
  Result empty = Do(CtlGet, opts_);
  EXPECT_EQ(empty.rc, 0);
  EXPECT_EQ(empty.err, "No resources found in default namespace.\n");
  ASSERT_EQ(Do(CtlApply, With({Manifest("shop", Color::kGreen)})).rc, 0);
  const Result r = Do(CtlGet, opts_);
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(Has(r.out, "NAME   DESIRED   SERVING   PRIMARY   PHASE    DRIFT    AGE\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "shop   green     <none>    <none>    <none>   <none>   ")) << r.out;
  CtlOptions wide = opts_;
  wide.output = "wide";
  EXPECT_TRUE(Has(Do(CtlGet, wide).out, "STEP     SOURCE")) << Do(CtlGet, wide).out;

  CtlOptions yaml = Named({"shop"});
  yaml.output = "yaml";
  const Result y = Do(CtlGet, yaml);
  auto decoded = codec::DecodeManifests(y.out, "out");
  ASSERT_TRUE(decoded.ok()) << decoded.status() << y.out;
  EXPECT_EQ((*decoded)[0], *store_.Get("default/shop"));
  CtlOptions json = Named({"shop"});
  json.output = "json";
  EXPECT_TRUE(codec::DecodeJson(Do(CtlGet, json).out, "out").ok());
  CtlOptions name = opts_;
  name.output = "name";
  EXPECT_EQ(Do(CtlGet, name).out, "deploymentcolor.switchyard.dev/shop\n");

  const Result missing = Do(CtlGet, Named({"nope"}));
  EXPECT_EQ(missing.rc, 1);
  EXPECT_EQ(missing.err,
            "Error from server (NotFound): deploymentcolors.switchyard.dev \"nope\" not found\n");
}

TEST_F(YardctlTest, GetWatchPrintsEachChange) {
  ASSERT_EQ(Do(CtlApply, With({Manifest("shop", Color::kBlue)})).rc, 0);
  CtlOptions o = Named({"shop"});
  o.watch = true;
  o.timeout = std::chrono::milliseconds(3000);
  std::thread changer([&] {
    // After the list was printed: a step in progress, then a new desired color.
    for (int i = 0; i < 400 && store_.ResourceVersion() < 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    api::DeploymentColorStatus st;
    st.phase = "Progressing";
    st.step = "fence blue";
    EXPECT_TRUE(store_.WriteStatus("default/shop", st).ok());
    Manifest("shop", Color::kGreen);
    EXPECT_EQ(Do(CtlApply, With({dir_ + "/shop.yaml"})).rc, 0);
  });
  const Result r = Do(CtlGet, o);  // returns once --timeout has passed
  changer.join();
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "STEP")) << r.out;  // a watch shows the step column
  // The row of the step (its AGE depends on how loaded the machine is).
  EXPECT_TRUE(Has(r.out, "Progressing   <none>   ")) << r.out;
  EXPECT_TRUE(Has(r.out, "    fence blue   api\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "shop   green")) << r.out;
}

TEST_F(YardctlTest, GetWatchFromNothingPrintsTheHeaderWithTheFirstRow) {
  CtlOptions o = opts_;
  o.watch = true;
  o.timeout = std::chrono::milliseconds(2000);
  std::thread creator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(Do(CtlApply, With({Manifest("shop", Color::kBlue)})).rc, 0);
  });
  const Result r = Do(CtlGet, o);
  creator.join();
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "No resources found in default namespace.\n");
  EXPECT_EQ(r.out.rfind("NAME   DESIRED", 0), 0u) << r.out;
  EXPECT_TRUE(Has(r.out, "\nshop   blue")) << r.out;
}

TEST_F(YardctlTest, DiffExitCodes) {
  const std::string shop = Manifest("shop", Color::kBlue);
  Result r = Do(CtlDiff, With({shop}));
  EXPECT_EQ(r.rc, 1);  // not there yet: everything is new
  EXPECT_TRUE(Has(r.out, "+  activeColor: blue")) << r.out;
  ASSERT_EQ(Do(CtlApply, With({shop})).rc, 0);
  r = Do(CtlDiff, With({shop}));
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  Manifest("shop", Color::kGreen);
  r = Do(CtlDiff, With({shop}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.out, "--- live/default/shop\n+++ merged/default/shop\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "-  activeColor: blue\n+  activeColor: green\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "-  generation: 1\n+  generation: 2\n")) << r.out;
  EXPECT_EQ(Desired("shop"), Color::kBlue);  // a diff changes nothing
  CtlOptions down = With({shop});
  down.server = "http://127.0.0.1:1";
  EXPECT_EQ(Do(CtlDiff, down).rc, 2);
  EXPECT_EQ(Do(CtlDiff, With({dir_ + "/none.yaml"})).rc, 2);
}

TEST_F(YardctlTest, DeleteByNameAndFile) {
  const std::string shop = Manifest("shop", Color::kBlue);
  ASSERT_EQ(Do(CtlApply, With({shop, Manifest("cart", Color::kBlue)})).rc, 0);
  Result r = Do(CtlDelete, Named({"cart"}));
  EXPECT_EQ(r.out, "deploymentcolor.switchyard.dev \"cart\" deleted\n");
  r = Do(CtlDelete, With({shop}));
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(store_.List().empty());
  r = Do(CtlDelete, Named({"shop"}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(Has(r.err, "(NotFound)")) << r.err;
  CtlOptions ignore = Named({"shop"});
  ignore.ignore_not_found = true;
  EXPECT_EQ(Do(CtlDelete, ignore).rc, 0);
  EXPECT_EQ(Do(CtlDelete, opts_).rc, 2);
}

TEST_F(YardctlTest, PauseAndResume) {
  ASSERT_EQ(Do(CtlApply, With({Manifest("shop", Color::kBlue)})).rc, 0);
  auto set = [](bool paused) {
    return [paused](const CtlOptions& o, std::ostream& out, std::ostream& err) {
      return CtlSetPaused(o, paused, out, err);
    };
  };
  EXPECT_EQ(Do(set(true), Named({"shop"})).out, "deploymentcolor.switchyard.dev/shop paused\n");
  EXPECT_TRUE(store_.Get("default/shop")->spec.paused);
  EXPECT_EQ(Do(set(false), Named({"shop"})).out, "deploymentcolor.switchyard.dev/shop resumed\n");
  EXPECT_FALSE(store_.Get("default/shop")->spec.paused);
  EXPECT_EQ(Do(set(true), Named({"nope"})).rc, 1);
  EXPECT_EQ(Do(set(true), opts_).rc, 2);
}

TEST_F(YardctlTest, WaitForACondition) {
  ASSERT_EQ(Do(CtlApply, With({Manifest("shop", Color::kBlue)})).rc, 0);
  CtlOptions o = Named({"shop"});
  o.for_condition = "condition=Ready";
  o.timeout = std::chrono::milliseconds(1500);
  Result r = Do(CtlWait, o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "error: timed out waiting for the condition on deploymentcolors/shop\n");

  std::thread ready([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    api::DeploymentColorStatus st;
    st.observed_generation = 1;
    st.conditions.push_back({"Ready", "True", "Converged", "", "", 1});
    EXPECT_TRUE(store_.WriteStatus("default/shop", st).ok());
  });
  o.timeout = std::chrono::milliseconds(10000);
  r = Do(CtlWait, o);
  ready.join();
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "deploymentcolor.switchyard.dev/shop condition met\n");
  // A new generation is not met by the old condition.
  Manifest("shop", Color::kGreen);
  ASSERT_EQ(Do(CtlApply, With({dir_ + "/shop.yaml"})).rc, 0);
  o.timeout = std::chrono::milliseconds(500);
  EXPECT_EQ(Do(CtlWait, o).rc, 1);
  o.for_condition = "Ready";
  EXPECT_EQ(Do(CtlWait, o).rc, 2);
  o.for_condition = "condition=Ready";
  o.names = {"nope"};
  EXPECT_EQ(Do(CtlWait, o).rc, 1);
}

TEST_F(YardctlTest, ConfigPrintsAKubeconfigThatYardctlReadsToo) {
  const Result r = Do(CtlConfig, opts_);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "server: " + opts_.server + "\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "token: t0ken\n")) << r.out;
  EXPECT_TRUE(Has(r.err, "kubectl sends the token only over https")) << r.err;
  const std::string kubeconfig = dir_ + "/kubeconfig";
  ASSERT_TRUE(util::WriteFileAtomically(kubeconfig, r.out).ok());
  CtlOptions o = With({Manifest("shop", Color::kBlue)});
  o.server.clear();
  o.state_dir = dir_ + "/elsewhere";
  o.kubeconfig = kubeconfig;
  EXPECT_EQ(Do(CtlApply, o).rc, 0);  // server and token from the kubeconfig

  CtlOptions none = opts_;
  none.state_dir = dir_ + "/elsewhere";
  EXPECT_EQ(Do(CtlConfig, none).rc, 1);
  CtlOptions bad = opts_;
  bad.kubeconfig = dir_ + "/shop.yaml";  // no cluster server in it
  EXPECT_EQ(Do(CtlGet, bad).rc, 1);
}

}  // namespace
}  // namespace sy::app::testing
