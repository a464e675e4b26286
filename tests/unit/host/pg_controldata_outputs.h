// Outputs of PostgreSQL 15.18's pg_controldata captured on this project's Debian 12 machine
// (LC_ALL=C), for the parser's and RunControlData's tests.
#pragma once

#include <string>

namespace sy::host::testdata {

// `pg_controldata --version`.
inline constexpr char kVersion15[] = "pg_controldata (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n";

// pg_controldata of a PostgreSQL 15.18 primary right after a fast shutdown (LC_ALL=C).
inline constexpr char kShutDownPrimary[] = R"(pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7712684126675136648
Database cluster state:               shut down
pg_control last modified:             Fri Nov 27 03:13:32 2026
Latest checkpoint location:           0/3000028
Latest checkpoint's REDO location:    0/3000028
Latest checkpoint's REDO WAL file:    000000010000000000000003
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
Latest checkpoint's full_page_writes: on
Latest checkpoint's NextXID:          0:724
Latest checkpoint's NextOID:          13572
Latest checkpoint's NextMultiXactId:  1
Latest checkpoint's NextMultiOffset:  0
Latest checkpoint's oldestXID:        716
Latest checkpoint's oldestXID's DB:   1
Latest checkpoint's oldestActiveXID:  0
Latest checkpoint's oldestMultiXid:   1
Latest checkpoint's oldestMulti's DB: 1
Latest checkpoint's oldestCommitTsXid:0
Latest checkpoint's newestCommitTsXid:0
Time of latest checkpoint:            Fri Nov 27 03:13:32 2026
Fake LSN counter for unlogged rels:   0/3E8
Minimum recovery ending location:     0/0
Min recovery ending loc's timeline:   0
Backup start location:                0/0
Backup end location:                  0/0
End-of-backup record required:        no
wal_level setting:                    replica
wal_log_hints setting:                on
max_connections setting:              100
max_worker_processes setting:         8
max_wal_senders setting:              10
max_prepared_xacts setting:           0
max_locks_per_xact setting:           64
track_commit_timestamp setting:       off
Maximum data alignment:               8
Database block size:                  8192
Blocks per segment of large relation: 131072
WAL block size:                       8192
Bytes per WAL segment:                16777216
Maximum length of identifiers:        64
Maximum columns in an index:          32
Maximum size of a TOAST chunk:        1996
Size of a large-object chunk:         2048
Date/time type storage:               64-bit integers
Float8 argument passing:              by value
Data page checksum version:           0
Mock authentication nonce:            bcbe3efc667a5ff33e9aa432a59ac1b495e6b36ff4fd508b8eafadacb8f14ab7
)";

// What it prints first when the CRC of global/pg_control does not match (one byte of the file
// changed); it then prints the values all the same and exits 0.
inline constexpr char kCrcWarning[] =
    "WARNING: Calculated CRC checksum does not match value stored in file.\n"
    "Either the file is corrupt, or it has a different layout than this program\n"
    "is expecting.  The results below are untrustworthy.\n"
    "\n";

// A whole untrustworthy output: the warning, then values.
inline std::string CrcMismatch() { return std::string(kCrcWarning) + kShutDownPrimary; }

}  // namespace sy::host::testdata
