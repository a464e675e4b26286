// yardctl's commands, as functions of their options and output streams (testable without a
// process). Each returns the exit code: 0 ok, 1 failure (message on err), 2 usage error.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "pkg/api/types.h"

namespace sy::app {

struct CtlOptions {
  std::string server = "http://127.0.0.1:9753";
  std::string namespace_ = "default";
  bool all_namespaces = false;
  std::string name;
  std::string output = "table";
  std::string file;
};

int CtlGet(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlPlan(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlValidate(const CtlOptions& o, std::ostream& out, std::ostream& err);

// The table `yardctl get` prints: NAME DESIRED SERVING PRIMARY PHASE AGE (AGE from `now`).
std::string FormatTable(const std::vector<api::DeploymentColor>& items,
                        std::chrono::system_clock::time_point now);

}  // namespace sy::app
