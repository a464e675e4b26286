#include "pkg/server/api_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sy::server {
namespace {

// An X509_STORE holding every certificate of `pem` (null when there is none).
X509_STORE* StoreOf(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (infos == nullptr) return nullptr;
  X509_STORE* store = X509_STORE_new();
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) == 1) ++added;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

}  // namespace

struct ApiClient::Impl {
  std::unique_ptr<httplib::Client> client;
  std::string error;  // why the client cannot be made
};

ApiClient::ApiClient(ClientConfig config)
    : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  const bool https = absl::StartsWith(config_.server, "https://");
  if (!https && !absl::StartsWith(config_.server, "http://")) {
    impl_->error = "the server must be an http:// or https:// URL, got \"" + config_.server + "\"";
    return;
  }
  while (!config_.server.empty() && config_.server.back() == '/') config_.server.pop_back();
  impl_->client = std::make_unique<httplib::Client>(config_.server);
  httplib::Client& cli = *impl_->client;
  cli.set_connection_timeout(5);
  cli.set_read_timeout(static_cast<time_t>(config_.timeout.count()));
  cli.set_write_timeout(10);
  if (!config_.token.empty()) cli.set_bearer_token_auth(config_.token);
  if (https) {
    cli.enable_server_certificate_verification(!config_.insecure_skip_verify);
    if (!config_.ca_pem.empty()) {
      X509_STORE* store = StoreOf(config_.ca_pem);
      if (store == nullptr) {
        impl_->error = "the certificate authority data holds no PEM certificate";
        impl_->client.reset();
        return;
      }
      cli.set_ca_cert_store(store);  // the client owns it from here
    }
  }
}

ApiClient::~ApiClient() = default;

absl::StatusOr<ClientResponse> ApiClient::Send(const std::string& method, const std::string& path,
                                               const std::string& body,
                                               const std::string& content_type,
                                               const std::string& accept) {
  if (!impl_->client) return absl::InvalidArgumentError(impl_->error);
  httplib::Client& cli = *impl_->client;
  const httplib::Headers headers = {{"Accept", accept}};
  httplib::Result res(nullptr, httplib::Error::Unknown);
  if (method == "GET") {
    res = cli.Get(path.c_str(), headers);
  } else if (method == "POST") {
    res = cli.Post(path.c_str(), headers, body, content_type.c_str());
  } else if (method == "PUT") {
    res = cli.Put(path.c_str(), headers, body, content_type.c_str());
  } else if (method == "PATCH") {
    res = cli.Patch(path.c_str(), headers, body, content_type.c_str());
  } else if (method == "DELETE") {
    res = cli.Delete(path.c_str(), headers, body, content_type.c_str());
  } else {
    return absl::InvalidArgumentError("unsupported method " + method);
  }
  if (!res) {
    return absl::UnavailableError(absl::StrCat("cannot reach switchyard at ", config_.server, " (",
                                               httplib::to_string(res.error()), ")"));
  }
  return ClientResponse{res->status, res->body};
}

absl::StatusOr<int> ApiClient::Stream(const std::string& path, const std::string& accept,
                                      const std::function<bool(std::string_view)>& on_line,
                                      std::string* error_body) {
  if (!impl_->client) return absl::InvalidArgumentError(impl_->error);
  int status = 0;
  std::string pending;
  bool stopped = false;
  auto res = impl_->client->Get(
      path.c_str(), {{"Accept", accept}},
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, size_t len) {
        if (status != 200) {
          if (error_body != nullptr) error_body->append(data, len);
          return true;
        }
        pending.append(data, len);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          const std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          if (line.find_first_not_of(" \r\t") == std::string::npos) continue;  // heartbeat
          if (!on_line(line)) {
            stopped = true;
            return false;
          }
        }
        return true;
      });
  if (!res && !stopped) {
    return absl::UnavailableError(absl::StrCat("cannot reach switchyard at ", config_.server, " (",
                                               httplib::to_string(res.error()), ")"));
  }
  return status;
}

}  // namespace sy::server
