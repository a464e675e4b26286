// The valid resource the api tests edit: the local stack's (examples/local.yaml), defaulted.
#pragma once

#include "pkg/api/types.h"
#include "pkg/api/validation.h"

namespace sy::api::testing {

inline DeploymentColor ValidResource() {
  DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.spec.blue = {{"127.0.0.1:18081"}, {"127.0.0.1", 15433, "/tmp/switchyard-local/pg/blue"}};
  dc.spec.green = {{"127.0.0.1:18082"}, {"127.0.0.1", 15434, "/tmp/switchyard-local/pg/green"}};
  dc.spec.nginx.upstream_file = "/tmp/switchyard-local/nginx/switchyard/shop.conf";
  ApplyDefaults(&dc);
  return dc;
}

}  // namespace sy::api::testing
