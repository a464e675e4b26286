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

// The same paths on another machine (another agent) are other directories and files; the
// same host and port name one server wherever it runs.
TEST(SharedWithTest, PathsCountOnTheirOwnMachineOnly) {
  DeploymentColor shop = ValidResource();
  DeploymentColor cart = Other();
  for (DeploymentColor* dc : {&shop, &cart}) {
    const std::string n = dc == &shop ? "1" : "2";
    dc->spec.blue.database = {"10.0." + n + ".1", 5432, "/var/lib/postgresql/15/main", "",
                              "10.0." + n + ".1:9754"};
    dc->spec.green.database = {"10.0." + n + ".2", 5432, "/var/lib/postgresql/15/main", "",
                               "10.0." + n + ".2:9754"};
    dc->spec.nginx.upstream_file = "/etc/nginx/switchyard/shop.conf";
    dc->spec.nginx.agent = "10.0." + n + ".9:9754";
  }
  EXPECT_TRUE(SharedWith(cart, shop).empty());
  cart.spec.green.database.agent = shop.spec.blue.database.agent;  // shop's blue machine
  cart.spec.nginx.agent = shop.spec.nginx.agent;
  EXPECT_EQ(SharedWith(cart, shop),
            (std::vector<FieldError>{
                {"spec.colors.green.database.dataDirectory",
                 "\"/var/lib/postgresql/15/main\" is also "
                 "spec.colors.blue.database.dataDirectory of default/shop"},
                {"spec.nginx.upstreamFile",
                 "\"/etc/nginx/switchyard/shop.conf\" is also spec.nginx.upstreamFile of "
                 "default/shop"}}));
  cart.spec.green.database.agent = "10.0.2.2:9754";
  cart.spec.nginx.agent = "10.0.2.9:9754";
  cart.spec.blue.database.host = "10.0.1.2";  // shop's green server, through another agent
  EXPECT_EQ(SharedWith(cart, shop),
            (std::vector<FieldError>{{"spec.colors.blue.database.port",
                                      "database server 10.0.1.2:5432 is also "
                                      "spec.colors.green.database of default/shop"}}));
}

}  // namespace
}  // namespace sy::api
