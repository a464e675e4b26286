// The DeploymentColor resource (switchyard.dev/v1alpha1): spec, status and conditions
// (examples/production.yaml shows every field, commented). Plain data: no I/O, no clock.
// Defaults are the member initializers below, plus what ApplyDefaults (validation.h) derives
// from other fields; validation is in validation.h, (de)serialization in pkg/codec.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::api {

inline constexpr std::string_view kGroup = "switchyard.dev";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "switchyard.dev/v1alpha1";
inline constexpr std::string_view kKind = "DeploymentColor";
// The annotation by which an operator allows Switchyard to discard the diverged writes of
// one incident when the diverged server rejoins. Its value names the incident (DiscardConsent),
// so that an annotation left in place authorizes nothing else.
inline constexpr std::string_view kAllowDiscardAnnotation =
    "switchyard.dev/allow-discard-diverged-writes";
// The annotation by which an operator accepts that a switch loses the logical replication
// slots of the old primary (value: "true"). PostgreSQL 15 cannot carry a logical slot to
// another server: after the switch its consumers find no slot on the new primary.
inline constexpr std::string_view kAllowLosingLogicalSlotsAnnotation =
    "switchyard.dev/allow-losing-logical-slots";

enum class Color { kBlue, kGreen };
inline constexpr Color kColors[] = {Color::kBlue, Color::kGreen};

std::string_view ColorName(Color c);
std::optional<Color> ParseColor(std::string_view s);
inline Color Other(Color c) { return c == Color::kBlue ? Color::kGreen : Color::kBlue; }

// The value of kAllowDiscardAnnotation: one incident, as the Ready condition that asks for
// consent prints it, "green@tli=2,lsn=0/3000148": the diverged server's color, its timeline
// and the end of its WAL (as PostgreSQL prints an LSN: upper-case hex, no leading zeros).
// A server that runs again, takes writes or diverges anew shows another incident.
struct DiscardConsent {
  Color color = Color::kBlue;
  uint32_t timeline = 0;
  std::string lsn;
  bool operator==(const DiscardConsent&) const = default;
};
std::string FormatDiscardConsent(const DiscardConsent& c);
// nullopt unless `s` is exactly what FormatDiscardConsent prints (a bare color is not).
std::optional<DiscardConsent> ParseDiscardConsent(std::string_view s);

enum class RejoinMethod { kAuto, kBasebackup };
std::string_view RejoinMethodName(RejoinMethod m);
std::optional<RejoinMethod> ParseRejoinMethod(std::string_view s);

// Whether Switchyard manages the servers' synchronous_standby_names (pkg/plan/README.md §17):
// unmanaged leaves it alone and refuses a switch it would make hang; preferred names the
// other color while it streams and clears it while it does not (availability first);
// required always names the other color (durability first: commits wait while it is away).
enum class SynchronousReplication { kUnmanaged, kPreferred, kRequired };
std::string_view SynchronousReplicationName(SynchronousReplication m);
std::optional<SynchronousReplication> ParseSynchronousReplication(std::string_view s);

// One PostgreSQL server of a color.
struct DatabaseRef {
  // How other machines reach the server (the standby's primary_conninfo names it, and the
  // standby must reach the primary by it). Without an agent, an address of this machine.
  std::string host = "127.0.0.1";
  int port = 0;
  std::string data_directory;
  // The server's postgresql.conf when it lives outside the data directory, as in Debian's
  // packaged clusters (/etc/postgresql/15/<cluster>/postgresql.conf); empty: the one in the
  // data directory. Switchyard starts the server with it (config_file) and gives it to
  // pg_rewind (--config-file).
  std::string config_file;
  // "host:port" of the switchyard-agent on the server's machine, which does the work there
  // (its data directory, its processes); an IPv6 address in brackets. Empty: no agent, the
  // server runs on the controller's own machine. Either both colors name one or neither.
  std::string agent;
  bool operator==(const DatabaseRef&) const = default;
};

struct ColorSpec {
  std::vector<std::string> upstreams;  // host:port of this color's app servers
  DatabaseRef database;
  bool operator==(const ColorSpec&) const = default;
};

struct ProbeSpec {
  std::string url = "http://127.0.0.1:18080/";
  std::string header = "X-Switchyard-Color";
  int timeout_seconds = 5;
  bool operator==(const ProbeSpec&) const = default;
};

struct NginxSpec {
  std::string upstream_file = "/etc/nginx/switchyard/shop.conf";
  std::string upstream_name;  // defaults to metadata.name
  std::string binary = "nginx";
  std::string config_file = "/etc/nginx/nginx.conf";
  ProbeSpec probe;
  // "host:port" of the switchyard-agent on nginx's machine; empty: nginx runs on the
  // controller's own machine.
  std::string agent;
  bool operator==(const NginxSpec&) const = default;
};

struct DatabaseSpec {
  std::string user = "switchyard";
  std::string password_file;  // empty: libpq's PGPASSFILE / ~/.pgpass
  std::string replication_user = "replicator";
  std::string os_user = "postgres";
  std::string bin_directory = "/usr/lib/postgresql/15/bin";
  int64_t max_lag_bytes = int64_t{16} * 1024 * 1024;
  // How far behind in time the standby's replay may be before a switch (the primary's
  // pg_stat_replication.replay_lag): a replay that stands still (a query conflict, an apply
  // delay) shows here while the byte lag may stay small.
  int max_replay_lag_seconds = 5;
  // How long, from the old primary's fence, the standby may take to replay the rest of its
  // WAL. Past it nothing is promoted: the switch is abandoned and the old primary, shut down
  // cleanly, becomes the primary again (status.abandonedSwitch).
  int catch_up_timeout_seconds = 30;
  RejoinMethod rejoin_method = RejoinMethod::kAuto;
  SynchronousReplication synchronous_replication = SynchronousReplication::kUnmanaged;
  // How long a color that does not stream keeps its replication slot on the primary while it
  // cannot rejoin (held in a split brain, unreadable, unreachable, failing to start): the slot
  // pins the primary's WAL, which grows until the disk is full. Past it the slot is dropped;
  // it is created again when the color rejoins. 0: dropped as soon as the color is held.
  int slot_retention_seconds = 300;
  // How long, from the old primary's fence, a promotion waits for the WAL segments the old
  // primary left unarchived (archive_mode on, archive_command failing at its shutdown) to be
  // archived; then nothing is promoted (ArchiveGap). 0: no wait.
  int archive_timeout_seconds = 30;
  bool operator==(const DatabaseSpec&) const = default;
};

struct DeploymentColorSpec {
  Color active_color = Color::kBlue;
  bool paused = false;
  ColorSpec blue;
  ColorSpec green;
  NginxSpec nginx;
  DatabaseSpec database;

  const ColorSpec& color(Color c) const { return c == Color::kBlue ? blue : green; }
  ColorSpec& color(Color c) { return c == Color::kBlue ? blue : green; }
  bool operator==(const DeploymentColorSpec&) const = default;
};

// Two agent addresses ("" for none: the controller's own machine) name one machine. An
// address is compared as written (host names case-insensitively), not resolved.
bool SameMachine(std::string_view agent, std::string_view other_agent);
// Blue's and green's databases run on one machine: neither names an agent (both on the
// controller's machine), or both name the same one. Only then can they clash over a port, a
// data directory or a file, and only then does a port alone tell them apart.
bool DatabasesShareMachine(const DeploymentColorSpec& spec);

struct ObjectMeta {
  std::string name;
  std::string namespace_ = "default";
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  // Server-set fields (absent in manifests people write).
  std::string uid;
  int64_t generation = 0;
  std::string resource_version;
  std::string creation_timestamp;
  bool operator==(const ObjectMeta&) const = default;
};

// Kubernetes condition shape.
struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition_time;
  int64_t observed_generation = 0;
  bool operator==(const Condition&) const = default;
};

// Condition types.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionTrafficSwitched = "TrafficSwitched";
inline constexpr std::string_view kConditionPrimaryPromoted = "PrimaryPromoted";
inline constexpr std::string_view kConditionStandbyStreaming = "StandbyStreaming";
inline constexpr std::string_view kConditionDrifted = "Drifted";

enum class Phase { kConverged, kProgressing, kPaused, kDegraded, kFailed, kInvalid };
std::string_view PhaseName(Phase p);
std::optional<Phase> ParsePhase(std::string_view s);

struct Switchover {
  std::string from;
  std::string to;
  std::string started_at;
  std::string finished_at;
  int64_t write_unavailable_ms = 0;
  bool operator==(const Switchover&) const = default;
};

// What the fence step recorded about the old primary it stopped: its shutdown checkpoint.
struct FenceRecord {
  std::string color;
  std::string checkpoint_lsn;  // "0/3000028"
  uint32_t timeline = 0;
  std::string fenced_at;
  bool operator==(const FenceRecord&) const = default;
};

// A pg_rewind that cannot be done (the tool failed, timed out, or the clusters differ): the
// planner re-clones that color with pg_basebackup instead. Kept until the color streams.
struct RewindFailure {
  std::string color;
  std::string message;  // why pg_rewind failed, for a person
  std::string failed_at;
  bool operator==(const RewindFailure&) const = default;
};

// A switch Switchyard gave up after fencing the old primary and before promoting anything
// (the standby did not catch up in time, its replay was paused, or the old primary left WAL
// unarchived): the old primary was brought back as the primary. The switch to `color` is not
// tried again for this generation of the spec; a new generation (any spec change) retries.
struct AbandonedSwitch {
  std::string color;  // the color the switch was to
  int64_t generation = 0;
  std::string reason;   // CatchUpTimedOut, ReplayPaused or ArchiveGap
  std::string message;  // what was seen, for a person
  std::string abandoned_at;
  bool operator==(const AbandonedSwitch&) const = default;
};

struct DeploymentColorStatus {
  int64_t observed_generation = 0;
  std::string phase;          // PhaseName(); empty before the first pass
  std::string serving_color;  // "" when unknown
  std::string primary_color;  // "" when none or unknown
  std::string step;           // the step in progress, human readable
  std::vector<Condition> conditions;
  std::optional<Switchover> last_switchover;
  std::optional<FenceRecord> fence;
  std::optional<RewindFailure> rewind_failure;
  std::optional<AbandonedSwitch> abandoned_switch;
  std::string source;  // where the spec came from (file path, git commit)
  bool operator==(const DeploymentColorStatus&) const = default;
};

struct DeploymentColor {
  std::string api_version = std::string(kApiVersion);
  std::string kind = std::string(kKind);
  ObjectMeta metadata;
  DeploymentColorSpec spec;
  DeploymentColorStatus status;
  bool operator==(const DeploymentColor&) const = default;

  // "namespace/name", the key of the work queue and the store.
  std::string Key() const { return metadata.namespace_ + "/" + metadata.name; }
};

// Finds the condition of `type`, or nullptr.
const Condition* FindCondition(const DeploymentColorStatus& s, std::string_view type);

}  // namespace sy::api
