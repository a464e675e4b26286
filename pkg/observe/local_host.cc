#include "pkg/observe/local_host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sy::observe {
namespace {

// One IPv4 or IPv6 address, as bytes (IPv4-mapped IPv6 addresses as IPv4).
struct Address {
  int family = AF_UNSPEC;
  unsigned char bytes[16] = {};
  bool operator==(const Address& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, sizeof bytes) == 0;
  }
};

bool FromSockaddr(const sockaddr* sa, Address* out) {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET) {
    out->family = AF_INET;
    std::memcpy(out->bytes, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const in6_addr& a6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      out->family = AF_INET;
      std::memcpy(out->bytes, a6.s6_addr + 12, 4);
    } else {
      out->family = AF_INET6;
      std::memcpy(out->bytes, a6.s6_addr, 16);
    }
    return true;
  }
  return false;
}

bool IsLoopback(const Address& a) {
  if (a.family == AF_INET) return a.bytes[0] == 127;
  static const unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a.family == AF_INET6 && std::memcmp(a.bytes, kV6Loopback, 16) == 0;
}

// The addresses of this machine's interfaces.
std::vector<Address> InterfaceAddresses() {
  std::vector<Address> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    Address a;
    if (FromSockaddr(i->ifa_addr, &a)) out.push_back(a);
  }
  ::freeifaddrs(list);
  return out;
}

bool IsLocal(const Address& a, const std::vector<Address>& interfaces) {
  if (IsLoopback(a)) return true;
  for (const Address& i : interfaces) {
    if (i == a) return true;
  }
  return false;
}

// A literal IPv4 or IPv6 address (an IPv6 one possibly in brackets or with a zone).
bool ParseLiteral(std::string text, Address* out) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  text = text.substr(0, text.find('%'));
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return FromSockaddr(reinterpret_cast<const sockaddr*>(&v4), out);
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return FromSockaddr(reinterpret_cast<const sockaddr*>(&v6), out);
  }
  return false;
}

std::string OwnHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

absl::Status NotThisMachine(std::string_view host, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      std::string(host), " is not this machine", std::string(why),
      ": without an agent Switchyard acts on data directories locally; PostgreSQL on another "
      "machine needs an agent there (database.agent)"));
}

}  // namespace

absl::Status CheckLocalHost(std::string_view host_view) {
  const std::string host(host_view);
  if (absl::EqualsIgnoreCase(host, "localhost")) return absl::OkStatus();
  Address literal;
  if (ParseLiteral(host, &literal)) {
    if (IsLoopback(literal) || IsLocal(literal, InterfaceAddresses())) return absl::OkStatus();
    return NotThisMachine(host, "");
  }
  if (const std::string own = OwnHostName(); !own.empty() && absl::EqualsIgnoreCase(host, own)) {
    return absl::OkStatus();
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int err = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (err == EAI_AGAIN) {
    return absl::UnavailableError(
        absl::StrCat("resolving ", host, ": ", ::gai_strerror(err), "; trying again later"));
  }
  if (err != 0) return NotThisMachine(host, absl::StrCat(" (", ::gai_strerror(err), ")"));
  // Safety rule: every address the name may stand for must be ours; one elsewhere could be
  // the server a connection reaches while we act on a local directory.
  const std::vector<Address> interfaces = InterfaceAddresses();
  std::string remote;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Address addr;
    if (!FromSockaddr(a->ai_addr, &addr) || IsLocal(addr, interfaces)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(addr.family, addr.bytes, text, sizeof text);
    remote = text;
    break;
  }
  ::freeaddrinfo(found);
  if (!remote.empty()) return NotThisMachine(host, absl::StrCat(" (it resolves to ", remote, ")"));
  return absl::OkStatus();
}

}  // namespace sy::observe
