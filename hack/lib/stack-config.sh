# shellcheck shell=bash
# What the servers of a Switchyard test stack are configured with, the same on one host
# (hack/local-up.sh) and on many (hack/multihost-up.sh): PostgreSQL's settings, pg_hba.conf,
# the bootstrap SQL, a standby's start-up configuration, nginx.conf and the upstream file
# Switchyard owns. Each function prints or writes one piece; addresses, ports and paths are
# its arguments, so each stack passes its own.
# Sourced by hack/lib/local-stack.sh; it defines functions only and uses that file's SY_*
# names (users, database, OS user).

# sy_pg_settings: the lines appended to a new cluster's postgresql.conf. listen_addresses
# and port are per server: they go on the command line, never in a file that pg_basebackup
# or pg_rewind copy to the other server (pkg/observe/README.md #2).
sy_pg_settings() {
  cat <<'EOF'

# --- Switchyard test stack (hack/lib/stack-config.sh) ---
wal_level = replica
hot_standby = on
wal_log_hints = on            # pg_rewind needs it
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
fsync = on
max_connections = 200         # each app keeps one connection per worker thread that wrote
wal_retrieve_retry_interval = 1s  # a standby whose primary restarted reconnects within 1 s, not 5
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# sy_pg_hba CIDR: trust on the Unix socket and from CIDR (the stack's own network), nothing else.
sy_pg_hba() {
  cat <<EOF
# Switchyard test stack: the Unix socket and $1 only, trust.
local   all          all                  trust
local   replication  all                  trust
host    all          all   $1   trust
host    replication  all   $1   trust
EOF
}

# sy_pg_write_config DATADIR CIDR: after initdb, appends the settings to DATADIR's
# postgresql.conf and replaces its pg_hba.conf, both owned by the OS user.
sy_pg_write_config() {
  local datadir=$1 cidr=$2
  sy_pg_settings >>"$datadir/postgresql.conf"
  sy_pg_hba "$cidr" >"$datadir/pg_hba.conf"
  chown "$SY_OS_USER:$SY_OS_USER" "$datadir/postgresql.conf" "$datadir/pg_hba.conf"
}

# sy_bootstrap_sql: roles, database and green's slot, for psql on the primary's postgres
# database as postgres. Every statement is a no-op when its object exists, so it can run on
# every bring-up while blue is the primary.
sy_bootstrap_sql() {
  cat <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$SY_SUPERUSER') THEN
    CREATE ROLE $SY_SUPERUSER SUPERUSER LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$SY_REPLICATION_USER') THEN
    CREATE ROLE $SY_REPLICATION_USER REPLICATION LOGIN;
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $SY_DATABASE OWNER $SY_SUPERUSER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$SY_DATABASE') \gexec
-- immediately_reserve: WAL is kept from now on, so the clone made next can never miss any.
SELECT pg_create_physical_replication_slot('switchyard_green', true)
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'switchyard_green');
EOF
}

# sy_orders_sql: the shop app's table, for psql on the shop database as the superuser.
sy_orders_sql() {
  cat <<'EOF'
CREATE TABLE IF NOT EXISTS orders (
  id bigserial PRIMARY KEY,
  color text NOT NULL,
  created_at timestamptz DEFAULT now(),
  note text
);
EOF
}

# sy_configure_standby DATADIR COLOR PRIMARY_HOST PRIMARY_PORT: makes the cluster in DATADIR
# COLOR's standby of the primary at PRIMARY_HOST:PRIMARY_PORT as Switchyard does: exactly one
# primary_conninfo and primary_slot_name in postgresql.auto.conf (-R only appends, and a clone
# carries the source's lines, pkg/observe/README.md #3), plus standby.signal.
sy_configure_standby() {
  local datadir=$1 color=$2 host=$3 port=$4 auto tmp
  auto="$datadir/postgresql.auto.conf"
  tmp=$(mktemp "$datadir/.auto.conf.XXXXXX")
  grep -Ev '^[[:space:]]*(primary_conninfo|primary_slot_name)[[:space:]]*=' "$auto" >"$tmp" || true
  cat >>"$tmp" <<EOF
primary_conninfo = 'host=$host port=$port user=$SY_REPLICATION_USER application_name=$color'
primary_slot_name = 'switchyard_$color'
EOF
  chown "$SY_OS_USER:$SY_OS_USER" "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$auto"
  install -o "$SY_OS_USER" -g "$SY_OS_USER" -m 0600 /dev/null "$datadir/standby.signal"
}

# sy_render_nginx_conf NGINX_DIR LISTEN: the main config of an nginx whose files all live in
# NGINX_DIR (nginx.pid, error.log, tmp/, switchyard/shop.conf: the upstream file Switchyard
# owns), listening on LISTEN (host:port). Every path is absolute so that `nginx -t -c FILE`
# and `nginx -s reload -c FILE` work without -p/-e, as Switchyard runs them.
sy_render_nginx_conf() {
  local dir=$1 listen=$2
  cat <<EOF
# nginx of a Switchyard test stack (hack/local-up.sh or hack/multihost-up.sh rewrites this file).
# Run: nginx -p $dir -e $dir/error.log -c $dir/nginx.conf
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_processes 2;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;

    # upstream "shop": the one file Switchyard owns and rewrites.
    include $dir/switchyard/shop.conf;

    server {
        listen $listen;
        location / {
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
        }
    }
}
EOF
}

# sy_render_upstream COLOR SERVER: exactly what Switchyard renders for default/shop when
# COLOR's upstream is SERVER (host:port).
sy_render_upstream() {
  cat <<EOF
# Managed by Switchyard (default/shop): traffic goes to $1. Do not edit: it is rewritten.
upstream shop {
    server $2;
    keepalive 16;
}
EOF
}
