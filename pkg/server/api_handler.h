// The daemon's HTTP API as a pure request -> response function (the transport, in
// http_server.h, only moves bytes): /healthz, /readyz and the read side of the Kubernetes-
// shaped resource API,
//   GET /apis/switchyard.dev/v1alpha1/namespaces/{ns}/deploymentcolors[/{name}]
//   GET /apis/switchyard.dev/v1alpha1/deploymentcolors            (all namespaces)
#pragma once

#include <functional>
#include <map>
#include <string>

#include "pkg/source/store.h"

namespace sy::server {

struct HttpRequest {
  std::string method;
  std::string path;  // without the query string
  std::multimap<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Thread-safe (the store is).
class ApiHandler {
 public:
  // `store` must outlive this object; `ready` says whether the controller serves its queue.
  ApiHandler(source::Store& store, std::function<bool()> ready);
  HttpResponse Handle(const HttpRequest& req) const;

 private:
  HttpResponse Resources(const HttpRequest& req) const;
  source::Store& store_;
  std::function<bool()> ready_;
};

// A Kubernetes Status object (kind: Status) as the body of an error response.
HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message);

}  // namespace sy::server
