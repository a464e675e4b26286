// Proof that ExecCommandRunner never goes through a shell: arguments, program names, working
// directories, users and log files holding shell syntax ("$(touch M)", backticks, ";", "|",
// "&&", redirections, newlines) are passed or used literally, and the marker file M that any
// shell would create never appears. A positive control shows that a real shell does create it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"

namespace sy::util {
namespace {

class NoShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path.empty());
    marker_ = dir_ + "/pwned";
  }

  // Each way a shell would run `touch <marker>`.
  std::vector<std::string> Payloads() const {
    const std::string t = "touch " + marker_;
    return {"$(" + t + ")", "`" + t + "`", "x;" + t,        "x|" + t,        "x&&" + t,
            "x||" + t,      "x&" + t,      "x\n" + t,       "x >" + marker_, "$({" + t + ";})",
            "'x';" + t,     "\"x\";" + t,  "x $(" + t + ")"};
  }
  // Gives a shell (if one ran) time to act, then says whether the marker exists.
  bool Pwned() const {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return PathExists(marker_);
  }

  ExecCommandRunner runner_;
  const fakes::TempDir tmp_{"sy-noshell"};
  const std::string dir_ = tmp_.path;
  std::string marker_;
};

Command Cmd(std::vector<std::string> argv) {
  Command c;
  c.argv = std::move(argv);
  c.timeout = std::chrono::milliseconds(10000);
  return c;
}

TEST_F(NoShellTest, PositiveControlAShellWouldRunIt) {
  auto r = runner_.Run(Cmd({"/bin/sh", "-c", "echo " + Payloads()[0]}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(Pwned()) << "the marker check cannot see what a shell does";
}

TEST_F(NoShellTest, ArgumentsArePassedLiterally) {
  for (const std::string& p : Payloads()) {
    auto r = runner_.Run(Cmd({"/usr/bin/printf", "%s|", p, "-D", "/tmp/x/" + p}));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->output, p + "|-D|/tmp/x/" + p + "|");  // one argv element each, unchanged
    EXPECT_FALSE(Pwned()) << p;
  }
}

TEST_F(NoShellTest, ProgramNamesAreNotCommandLines) {
  for (const std::string& p : Payloads()) {
    for (const std::string& program : {"/bin/true" + p, "true" + p, "/usr/bin/env " + p}) {
      auto r = runner_.Run(Cmd({program}));
      EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << program << ": " << r.status();
      EXPECT_FALSE(Pwned()) << program;
    }
  }
}

TEST_F(NoShellTest, WorkingDirectoryAndUserAreNotCommandLines) {
  for (const std::string& p : Payloads()) {
    Command in_dir = Cmd({"/bin/true"});
    in_dir.working_directory = dir_ + "/" + p;
    EXPECT_EQ(runner_.Run(in_dir).status().code(), absl::StatusCode::kFailedPrecondition) << p;
    Command as_user = Cmd({"/bin/true"});
    as_user.run_as = "postgres" + p;
    EXPECT_EQ(runner_.Run(as_user).status().code(), absl::StatusCode::kInvalidArgument) << p;
    EXPECT_FALSE(Pwned()) << p;
  }
}

TEST_F(NoShellTest, SpawnedDaemonsAndTheirLogsToo) {
  int n = 0;
  for (const std::string& p : Payloads()) {
    // The log file is opened by its name as it is: the payload, with '/' and newlines made
    // '_' so that it names a file inside dir_, still holds the shell syntax.
    std::string name = p;
    for (char& c : name) {
      if (c == '/' || c == '\n') c = '_';
    }
    const std::string log = dir_ + "/log" + std::to_string(n++) + name;
    auto pid = runner_.Spawn(Cmd({"/usr/bin/printf", "%s", p}), log);
    ASSERT_TRUE(pid.ok()) << pid.status();
    std::string content;
    for (int i = 0; i < 500 && content != p; ++i) {  // up to 5 s for printf to write it
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      content = ReadFile(log).value_or("");
    }
    EXPECT_EQ(content, p) << "the log is the file of that literal name";
    EXPECT_FALSE(Pwned()) << p;
  }
}

}  // namespace
}  // namespace sy::util
