#include "pkg/model/agent_report.h"

namespace sy::model {

const std::vector<double>& AgentLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,   0.25,   0.5,   1,    2,     2.5};
  return kBuckets;
}

}  // namespace sy::model
