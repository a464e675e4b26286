// api::SharedWith: what two resources may not share (a database server, a data directory, an
// nginx upstream file), named in both directions.
#include <gtest/gtest.h>

#include "pkg/api/validation.h"
#include "tests/unit/api/valid_resource.h"

namespace sy::api {
namespace {

using testing::ValidResource;

// ValidResource() as `name`, on servers of its own.
DeploymentColor Other(const std::string& name = "cart") {
  DeploymentColor dc = ValidResource();
  dc.metadata.name = name;
  dc.spec.blue.database = {"127.0.0.1", 25433, "/srv/cart/blue"};
  dc.spec.green.database = {"127.0.0.1", 25434, "/srv/cart/green"};
  dc.spec.nginx.upstream_file = "/srv/cart/nginx.conf";
  return dc;
}

TEST(SharedWithTest, ResourcesOnServersOfTheirOwnShareNothing) {
  EXPECT_TRUE(SharedWith(ValidResource(), Other()).empty());
  EXPECT_TRUE(SharedWith(ValidResource(), ValidResource()).empty()) << "the same resource";
  DeploymentColor elsewhere = ValidResource();
  elsewhere.metadata.namespace_ = "retail";
  EXPECT_FALSE(SharedWith(ValidResource(), elsewhere).empty()) << "same name, another namespace";
}

TEST(SharedWithTest, ADataDirectoryNamesTheOtherResourceAndField) {
  DeploymentColor cart = Other();
  cart.spec.green.database.data_directory = "/tmp/switchyard-local/pg/blue/";  // shop's blue
  EXPECT_EQ(SharedWith(cart, ValidResource()),
            (std::vector<FieldError>{{"spec.colors.green.database.dataDirectory",
                                      "\"/tmp/switchyard-local/pg/blue/\" is also "
                                      "spec.colors.blue.database.dataDirectory of default/shop"}}));
  EXPECT_EQ(
      SharedWith(ValidResource(), cart),
      (std::vector<FieldError>{{"spec.colors.blue.database.dataDirectory",
                                "\"/tmp/switchyard-local/pg/blue\" is also "
                                "spec.colors.green.database.dataDirectory of default/cart"}}));
  cart.spec.green.database.data_directory = "/tmp/switchyard-local/pg";  // holds shop's
  const std::vector<FieldError> nested = SharedWith(cart, ValidResource());
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0].message,
            "\"/tmp/switchyard-local/pg\" is nested with spec.colors.blue.database.dataDirectory "
            "of default/shop");
}

TEST(SharedWithTest, ADatabaseServerAndAnUpstreamFile) {
  DeploymentColor cart = Other();
  cart.spec.blue.database.host = "LOCALHOST";
  cart.spec.blue.database.port = 15434;  // shop's green, spelled another way
  cart.spec.nginx.upstream_file = "/tmp/switchyard-local/nginx//switchyard/./shop.conf";
  EXPECT_EQ(SharedWith(cart, ValidResource()),
            (std::vector<FieldError>{
                {"spec.colors.blue.database.port",
                 "database server LOCALHOST:15434 is also spec.colors.green.database of "
                 "default/shop"},
                {"spec.nginx.upstreamFile",
                 "\"/tmp/switchyard-local/nginx//switchyard/./shop.conf\" is also "
                 "spec.nginx.upstreamFile of default/shop"}}));
}

}  // namespace
}  // namespace sy::api
