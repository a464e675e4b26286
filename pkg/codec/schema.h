// Internal to pkg/codec: the one description of the manifest's shape (the types of
// pkg/api/types.h: field names, flags and order), read by the decoder and the encoder alike,
// so the two cannot disagree on a field name or order.
//
// A visitor V provides
//   v.Field(key, member, flags)   a scalar, list, string map, optional or nested struct;
//   v.Group(key, flags, fn)       a mapping that is no struct of its own (spec.colors).
// Describe() takes `T&` for decoding and `const T&` for encoding.
#pragma once

#include <concepts>
#include <optional>
#include <type_traits>
#include <vector>

#include "pkg/api/types.h"

namespace sy::codec::internal {

// Field flags.
inline constexpr unsigned kOptional = 0;
// Decoding: absent or null is an error. Encoding: always written.
inline constexpr unsigned kRequired = 1;
// Encoding: left out when equal to its default-constructed value (server-set, status and
// optional fields). Other fields are always written, so the output shows the effective spec.
inline constexpr unsigned kOmitEmpty = 2;

// The containers the visitors handle besides scalars and described structs.
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T, typename U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

void Describe(auto& v, Is<api::DatabaseRef> auto& db) {
  v.Field("host", db.host);
  v.Field("port", db.port, kRequired);
  v.Field("dataDirectory", db.data_directory, kRequired);
  v.Field("configFile", db.config_file, kOmitEmpty);
  v.Field("agent", db.agent, kOmitEmpty);
}

void Describe(auto& v, Is<api::ColorSpec> auto& c) {
  v.Field("upstreams", c.upstreams, kRequired);
  v.Field("database", c.database, kRequired);
}

void Describe(auto& v, Is<api::ProbeSpec> auto& p) {
  v.Field("url", p.url);
  v.Field("header", p.header);
  v.Field("timeoutSeconds", p.timeout_seconds);
}

void Describe(auto& v, Is<api::NginxSpec> auto& n) {
  v.Field("upstreamFile", n.upstream_file);
  v.Field("upstreamName", n.upstream_name, kOmitEmpty);
  v.Field("binary", n.binary);
  v.Field("configFile", n.config_file);
  v.Field("probe", n.probe);
  v.Field("agent", n.agent, kOmitEmpty);
}

void Describe(auto& v, Is<api::DatabaseSpec> auto& d) {
  v.Field("user", d.user);
  v.Field("passwordFile", d.password_file, kOmitEmpty);
  v.Field("replicationUser", d.replication_user);
  v.Field("osUser", d.os_user);
  v.Field("binDirectory", d.bin_directory);
  v.Field("maxLagBytes", d.max_lag_bytes);
  v.Field("maxReplayLagSeconds", d.max_replay_lag_seconds);
  v.Field("catchUpTimeoutSeconds", d.catch_up_timeout_seconds);
  v.Field("slotRetentionSeconds", d.slot_retention_seconds);
  v.Field("archiveTimeoutSeconds", d.archive_timeout_seconds);
  v.Field("rejoinMethod", d.rejoin_method);
  v.Field("synchronousReplication", d.synchronous_replication, kOmitEmpty);
}

void Describe(auto& v, Is<api::DeploymentColorSpec> auto& s) {
  v.Field("activeColor", s.active_color, kRequired);
  v.Field("paused", s.paused);
  v.Group("colors", kRequired, [&](auto& colors) {
    colors.Field("blue", s.blue, kRequired);
    colors.Field("green", s.green, kRequired);
  });
  v.Field("nginx", s.nginx);
  v.Field("database", s.database);
}

void Describe(auto& v, Is<api::ObjectMeta> auto& m) {
  v.Field("name", m.name, kRequired);
  v.Field("namespace", m.namespace_);
  v.Field("labels", m.labels, kOmitEmpty);
  v.Field("annotations", m.annotations, kOmitEmpty);
  v.Field("uid", m.uid, kOmitEmpty);
  v.Field("generation", m.generation, kOmitEmpty);
  v.Field("resourceVersion", m.resource_version, kOmitEmpty);
  v.Field("creationTimestamp", m.creation_timestamp, kOmitEmpty);
}

void Describe(auto& v, Is<api::Condition> auto& c) {
  v.Field("type", c.type, kOmitEmpty);
  v.Field("status", c.status, kOmitEmpty);
  v.Field("reason", c.reason, kOmitEmpty);
  v.Field("message", c.message, kOmitEmpty);
  v.Field("lastTransitionTime", c.last_transition_time, kOmitEmpty);
  v.Field("observedGeneration", c.observed_generation, kOmitEmpty);
}

void Describe(auto& v, Is<api::Switchover> auto& s) {
  v.Field("from", s.from, kOmitEmpty);
  v.Field("to", s.to, kOmitEmpty);
  v.Field("startedAt", s.started_at, kOmitEmpty);
  v.Field("finishedAt", s.finished_at, kOmitEmpty);
  v.Field("writeUnavailableMs", s.write_unavailable_ms, kOmitEmpty);
}

void Describe(auto& v, Is<api::FenceRecord> auto& f) {
  v.Field("color", f.color, kOmitEmpty);
  v.Field("checkpointLsn", f.checkpoint_lsn, kOmitEmpty);
  v.Field("timeline", f.timeline, kOmitEmpty);
  v.Field("fencedAt", f.fenced_at, kOmitEmpty);
}

void Describe(auto& v, Is<api::RewindFailure> auto& f) {
  v.Field("color", f.color, kOmitEmpty);
  v.Field("message", f.message, kOmitEmpty);
  v.Field("failedAt", f.failed_at, kOmitEmpty);
}

void Describe(auto& v, Is<api::AbandonedSwitch> auto& a) {
  v.Field("color", a.color, kOmitEmpty);
  v.Field("generation", a.generation, kOmitEmpty);
  v.Field("reason", a.reason, kOmitEmpty);
  v.Field("message", a.message, kOmitEmpty);
  v.Field("abandonedAt", a.abandoned_at, kOmitEmpty);
}

void Describe(auto& v, Is<api::DeploymentColorStatus> auto& s) {
  v.Field("observedGeneration", s.observed_generation, kOmitEmpty);
  v.Field("phase", s.phase, kOmitEmpty);
  v.Field("servingColor", s.serving_color, kOmitEmpty);
  v.Field("primaryColor", s.primary_color, kOmitEmpty);
  v.Field("step", s.step, kOmitEmpty);
  v.Field("conditions", s.conditions, kOmitEmpty);
  v.Field("lastSwitchover", s.last_switchover, kOmitEmpty);
  v.Field("fence", s.fence, kOmitEmpty);
  v.Field("rewindFailure", s.rewind_failure, kOmitEmpty);
  v.Field("abandonedSwitch", s.abandoned_switch, kOmitEmpty);
  v.Field("source", s.source, kOmitEmpty);
}

void Describe(auto& v, Is<api::DeploymentColor> auto& dc) {
  v.Field("apiVersion", dc.api_version, kRequired);
  v.Field("kind", dc.kind, kRequired);
  v.Field("metadata", dc.metadata, kRequired);
  v.Field("spec", dc.spec, kRequired);
  v.Field("status", dc.status, kOmitEmpty);
}

// True for the structs described above (decoded and encoded as mappings). Describe()
// returns void, so this checks only the overloads' constraints, not their bodies.
template <typename T>
concept Described = requires(int& v, T& t) {
  Describe(v, t);
};

}  // namespace sy::codec::internal
