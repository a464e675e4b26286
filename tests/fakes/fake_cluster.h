// FakeCluster: a small state-based world for planner and controller tests. Two simulated
// PostgreSQL servers (fake_postgres.h), nginx, and the app upstreams of each color, behind
// the observer and actuator interfaces, with realistic effects for every step, fault
// injection, and ground-truth invariant checks ("never two primaries", "no acknowledged
// write lost").
//
//   FakeCluster cluster(spec);                   // blue primary, green streaming, nginx on blue
//   observe::WorldObserver observer(cluster, cluster, cluster);
//   Reconciler r(observer, cluster, store, cluster.clock(), ...);
//
// Model (PostgreSQL 15 as measured): WAL is a list of records with simulation-unique ids, so
// "a prefix of the primary's history" is exact. A connected streaming standby receives every
// record at once (unless `SetLagging`) and replays it (unless `PauseReplay`). A fast shutdown
// of a primary writes a shutdown checkpoint and ships it to connected, non-lagging
// standbys only. Promotion replays what was received, then forks timeline max+1 there;
// pg_control shows the new timeline only after the next checkpoint (the promote step takes
// one; a promotion by someone else or a crash in between leaves it stale), pg_wal at once.
// A frozen postmaster (SIGSTOP) leaves a promotion request pending and a shutdown request
// queued until it is thawed; then the shutdown wins. pg_controldata may fail or call its
// output untrustworthy on a stopped server's directory.
// What is observed is what the real observer reports, quirks included: a standby without a
// walreceiver reports its restartpoint's (older) timeline, pg_last_wal_receive_lsn() only
// counts what this run of it streamed.
//
// Every step re-checks what the real actuator re-checks right before its irreversible act
// (the promotion proof, starting a primary, lifting a fence, replacing a directory): a step
// planned on a stale view fails like the real one. Ground truth is checked after every
// change: two running primaries are a violation unless the test itself made them with a
// promotion behind Switchyard's back while the other server could still run as a primary
// (an external failover).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/actuate/actuator.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/observe/observer.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_postgres.h"

namespace sy::fakes {

// A spec naming the ports, directories and upstreams FakeCluster expects.
api::DeploymentColorSpec FakeSpec(api::Color active = api::Color::kBlue);

// An acknowledged write (a commit the application saw succeed).
struct AckedWrite {
  uint64_t id = 0;
  api::Color on = api::Color::kBlue;
  // Acknowledged while the other server also ran as a primary, or by a primary an unsafe
  // external failover made: the test's risk, which a discarding rejoin may give up.
  bool split_brain = false;
  bool wiped = false;  // lost with a wiped data directory (a fault, not a step)
};

// One Run() of the actuator.
struct StepRecord {
  model::Step step;
  absl::Status status;
  std::vector<uint64_t> discarded_writes;  // writes its rewind / basebackup destroyed
  std::chrono::system_clock::time_point at;
};

// Thread-safe: every public method takes one lock (the controller may run worker threads).
class FakeCluster final : public model::PostgresObserver,
                          public model::NginxObserver,
                          public model::UpstreamProber,
                          public actuate::Actuator {
 public:
  // A converged world for `spec` with `primary` the primary on timeline 1, the other color
  // a standby streaming from it through its slot, nginx serving `primary`, upstreams healthy.
  explicit FakeCluster(api::DeploymentColorSpec spec = FakeSpec(),
                       api::Color primary = api::Color::kBlue);

  // --- model::PostgresObserver, NginxObserver, UpstreamProber ---
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override;
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override;
  model::UpstreamState Probe(const std::string& address,
                             std::chrono::milliseconds timeout) override;
  // Everything at once, as observe::WorldObserver composes it (ignores FailNextObserve).
  model::World ObserveWorld();

  // --- actuate::Actuator: executes `step` like the real actuator would (see the .cc). ---
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   actuate::StepOutcome* outcome) override;
  // Convenience for tests that hold only a spec.
  absl::Status Run(const api::DeploymentColorSpec& spec, const model::Step& step,
                   actuate::StepOutcome* outcome) {
    api::DeploymentColor dc;
    dc.spec = spec;
    return Run(dc, step, outcome);
  }

  // The clock steps advance (by a realistic duration each). Tests advance it for timeouts.
  FakeClock& clock() { return clock_; }

  // --- the application ---
  // Commits one write on the running primary (blue first if both are): kUnavailable when
  // none runs. Returns the write's id.
  absl::StatusOr<uint64_t> Write();
  // Commits one write on `color`: kUnavailable unless it runs as a primary.
  absl::StatusOr<uint64_t> WriteOn(api::Color color);

  // --- fault injection (behind the controller's back) ---
  // The next Run() of `kind` fails with `status` and changes nothing.
  void FailNext(model::StepKind kind, absl::Status status);
  // The next Observe() (any observer) fails with `status`.
  void FailNextObserve(absl::Status status);
  // The server keeps running (and replicating) but the controller's connections fail.
  void SetUnreachable(api::Color color, bool unreachable);
  // pg_ctl stop -m fast: a primary ships its shutdown checkpoint to connected standbys.
  void StopServer(api::Color color);
  // kill -9 of the postmaster: pg_control keeps its running state, postmaster.pid stays.
  void CrashServer(api::Color color);
  // pg_ctl start, as the data directory is configured.
  void StartServer(api::Color color);
  // The standby's walreceiver loses its primary: it stops receiving, and a fence does not
  // ship the last WAL to it.
  void SetDisconnected(api::Color color, bool disconnected);
  // The standby stays connected but receives nothing new (lag grows with every write).
  void SetLagging(api::Color color, bool lagging);
  void SetReplayPaused(api::Color color, bool paused);
  // How far behind in time its primary reports the standby's replay (replay_lag; -1: none).
  void SetReplayLag(api::Color color, int64_t ms);
  // Changes what the observation reads of `color`'s version, settings and privileges.
  void EditPrerequisites(api::Color color, const std::function<void(model::Prerequisites&)>& edit);
  // ALTER SYSTEM SET synchronous_standby_names = `names` and a reload on `color` (running or
  // not: its configuration file).
  void SetSyncStandbyNames(api::Color color, const std::string& names);
  // `color` removes every WAL segment before where its WAL ends now, as a checkpoint does
  // when no slot (or a lost one) holds them: a standby whose WAL ends earlier can never
  // stream from it again.
  void RemoveOldWal(api::Color color);
  // A logical replication slot (a CDC consumer's) on `color`.
  void AddLogicalSlot(api::Color color, const std::string& name);
  // A physical slot of someone else's (a backup tool's) on `color`.
  void AddForeignSlot(api::Color color, const std::string& name);
  // pg_promote() on a running standby by someone else: with the old primary still running,
  // a split brain.
  void PromoteBehindBack(api::Color color);
  // Someone removes a standby's standby.signal and restarts it: it comes up as a second
  // primary on the same timeline (no promotion, so no new timeline), a split brain that
  // positions on that timeline cannot reveal.
  void StartWithoutStandbySignal(api::Color color);
  // The data directory is emptied (crashing the server first if it runs).
  void WipeDataDirectory(api::Color color);
  // SIGSTOP (true) / SIGCONT (false) of the postmaster. Thawed, it acts on what waited: a
  // shutdown request first (a standby stops "shut down in recovery"; the promotion request
  // is then void), else a pending promotion.
  void SetFrozen(api::Color color, bool frozen);
  // A second actor starts crashed `color` (configured as a standby, e.g. fenced) and stops it
  // before its crash recovery reached the end of its WAL: pg_control then says "shut down in
  // recovery" with no minimum recovery point, whatever WAL the directory holds.
  void StopDuringCrashRecovery(api::Color color);
  // A running server shuts down cleanly, but its postmaster is killed after the shutdown
  // checkpoint and before it removed postmaster.pid: pg_control says "shut down", and a
  // stale postmaster.pid stays behind.
  void KillAfterShutdownCheckpoint(api::Color color);
  // pg_controldata on `color`'s stopped directory fails / warns that it is untrustworthy.
  void SetControlDataFault(api::Color color, ControlFault fault);
  // `action` runs right before the next step takes effect (after it was planned on what was
  // observed): a second actor acting between observe and act.
  void BeforeNextStep(std::function<void(FakeCluster&)> action);
  // The controller cannot reach `color`'s agent (`reason`, e.g. "agent 10.200.0.22:9754
  // unreachable: timeout"): its observation carries only the color and host_unknown, and a
  // step acting on it fails (kUnavailable). The server itself goes on as it was. "" lifts it.
  void SetHostUnknown(api::Color color, const std::string& reason);
  // An operation on `color`'s host is in doubt (its agent reports it unfinished, `reason`:
  // "operation <id> (promote) in doubt on <agent>"): the observation carries what the server
  // shows, marked host_unknown; a step acting on it fails (kUnavailable). "" lifts it.
  void SetOperationInDoubt(api::Color color, const std::string& reason);
  // The controller cannot reach nginx's agent: the observation carries only host_unknown, and
  // switch-traffic fails. nginx goes on serving what it served. "" lifts it.
  void SetNginxUnknown(const std::string& reason);
  void SetNginxRunning(bool running);
  void SetNginxTestFails(bool fails);  // `nginx -t` rejects the next configurations
  void SetUpstreamsHealthy(api::Color color, bool healthy);
  // Lifts every fault that can simply be lifted: reachability (of servers and of hosts),
  // disconnection, lag, paused replay, frozen postmasters (thawed: they act on what waited),
  // failing pg_controldata, nginx down or rejecting its config, unhealthy upstreams, queued
  // failures.
  // What faults did to data (stopped, crashed, promoted, wiped servers) stays.
  void ClearFaults();

  // --- ground truth and invariants ---
  FakePostgres server(api::Color color);  // a copy of its state
  bool RunningPrimary(api::Color color);
  int RunningPrimaries();
  std::set<uint64_t> WritesOn(api::Color color);
  // `a`'s WAL is the beginning of `b`'s: `b` holds everything `a` wrote or received.
  bool WalIsPrefixOf(api::Color a, api::Color b);
  std::vector<AckedWrite> AckedWrites();
  std::vector<StepRecord> Steps();
  // Invariant violations seen so far: any moment with two running primaries that no external
  // failover of the test excuses, named by the action that made it.
  std::vector<std::string> Violations();
  // Acknowledged writes an external failover may lose: those the old side held and the
  // promoted side lacked when the test promoted a standby behind Switchyard's back while the
  // other server could still run as a primary, and those acknowledged during a split brain.
  std::set<uint64_t> ExcusedWrites();
  // OK when exactly one server runs as a primary and it holds every acknowledged write but
  // those lost with a wiped directory and ExcusedWrites(). Else kFailedPrecondition /
  // kDataLoss naming what is wrong.
  absl::Status CheckNoAcknowledgedWriteLost();

 private:
  FakePostgres& Pg(api::Color c) { return c == api::Color::kBlue ? blue_ : green_; }
  // The server at `host`:`port` as a connection reaches it (both must match), or nullptr.
  FakePostgres* ByAddress(const std::string& host, int port);
  // Recomputes who streams from whom and delivers WAL; call after every change.
  void SyncLocked();
  void ShutdownLocked(FakePostgres& s);
  void CrashLocked(FakePostgres& s);
  absl::Status StartLocked(FakePostgres& s);
  void PromoteLocked(FakePostgres& s);
  absl::StatusOr<uint64_t> WriteLocked(FakePostgres& s);
  absl::Status RunLocked(const api::DeploymentColor& dc, const model::Step& step,
                         std::vector<uint64_t>* discarded, std::string* detail);
  absl::Status CloneLocked(const api::DeploymentColor& dc, const model::Step& step,
                           std::vector<uint64_t>* discarded);
  absl::Status FenceLocked(FakePostgres& t, const model::Step& step, std::string* detail);
  absl::Status PromoteStepLocked(FakePostgres& t, const model::Step& step, std::string* detail);
  absl::Status StartStepLocked(FakePostgres& t);
  absl::Status LiftFenceLocked(FakePostgres& t);
  absl::Status StopStepLocked(FakePostgres& t);
  void ThawLocked(FakePostgres& s);
  // Records a violation when two primaries run and no external failover excuses it.
  void CheckPrimariesLocked();
  absl::Status SwitchTrafficLocked(api::Color target);
  model::ServerState ObserveLocked(api::Color color);
  model::NginxState ObserveNginxLocked();
  // Why `step` cannot reach the host it acts on ("" when it can): an unknown host.
  std::string UnreachableHostLocked(const model::Step& step);
  absl::Status PopObserveFaultLocked();  // the queued FailNextObserve, or OK
  uint64_t NextRecordId() { return ++last_record_id_; }

  std::mutex mu_;
  const api::DeploymentColorSpec spec_;
  FakeClock clock_;
  FakePostgres blue_;
  FakePostgres green_;
  struct Nginx {
    bool running = true;
    std::optional<api::Color> file_color;
    std::optional<api::Color> loaded_color;  // what its workers serve
    bool test_fails = false;
    std::string host_unknown;  // the controller cannot reach nginx's agent
  } nginx_;
  std::map<api::Color, bool> upstreams_healthy_;
  std::map<model::StepKind, std::deque<absl::Status>> fail_next_;
  std::deque<absl::Status> fail_next_observe_;
  uint64_t last_record_id_ = 0;
  std::vector<AckedWrite> writes_;
  std::vector<StepRecord> steps_;
  std::vector<std::string> violations_;
  std::string action_ = "setup";  // what changed the world last, for violation messages
  std::set<uint64_t> excused_writes_;
  std::deque<std::function<void(FakeCluster&)>> before_next_step_;
};

}  // namespace sy::fakes
