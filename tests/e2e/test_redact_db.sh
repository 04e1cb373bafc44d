#!/usr/bin/env bash
# --redact for database passwords: psql -> PostgreSQL (ssl=on, cleartext password
# authentication, so the password is on the wire) with the password from PGPASSWORD and in
# a postgresql:// URL on the command line, then ALTER USER ... PASSWORD '...' in a query
# (and so on psql's command line); redis-cli --tls -a -> redis-server --tls-port (AUTH,
# CONFIG SET masterauth). Judged on the raw file (test_redact_db_zst.sh: written with zstd,
# on its decompressed bytes): no secret anywhere, comments included; tshark's pgsql
# dissector sees the marker and no expert warning.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools psql:postgresql-client redis-server:redis-server redis-cli:redis-tools
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PGBIN/postgres" ] || fail "no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/setup.sh"
id postgres >/dev/null 2>&1 || fail "no postgres user (package postgresql)"

PG_ENV=$(secret)
PG_URL=$(secret)
PG_ALTER=$(secret)
REDIS_PW=$(secret)
REDIS_MASTER=$(secret)
e2e_cert

# PostgreSQL in a data dir of its own, as the postgres user, TLS with the test certificate
pick_port
PGP=$PORT
mkdir -p pg
cp "$CERT" pg/server.crt
cp "$KEY" pg/server.key
chmod 600 pg/server.key
chown -R postgres: pg
AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups)
timeout 60 "${AS_PG[@]}" "$PGBIN/initdb" -D pg/data -A trust -U postgres >pg/initdb.log 2>&1 ||
	fail "initdb: $(tail -n 5 pg/initdb.log)"
cat >>pg/data/postgresql.conf <<EOF
listen_addresses = '127.0.0.1'
port = $PGP
unix_socket_directories = '$E2E_TMP/pg'
ssl = on
ssl_cert_file = '$E2E_TMP/pg/server.crt'
ssl_key_file = '$E2E_TMP/pg/server.key'
EOF
printf 'local all all trust\nhostssl all all 127.0.0.1/32 password\n' >pg/data/pg_hba.conf
bg pg/server.log "${AS_PG[@]}" "$PGBIN/postgres" -D pg/data
wait_port "$PGP" 30
for ((i = 0; i < 100; i++)); do
	timeout 10 "${AS_PG[@]}" psql -h "$E2E_TMP/pg" -p "$PGP" -U postgres -Atc "select 1" >/dev/null 2>&1 && break
	sleep 0.2
done
timeout 10 "${AS_PG[@]}" psql -h "$E2E_TMP/pg" -p "$PGP" -U postgres -c "create user app password '$PG_URL'" >pg/psql.log 2>&1 ||
	fail "create user: $(cat pg/psql.log)"

# redis-server with TLS only
pick_port
RP=$PORT
mkdir -p redis
bg redis/server.log redis-server --port 0 --tls-port "$RP" --tls-cert-file "$CERT" --tls-key-file "$KEY" \
	--tls-ca-cert-file "$CERT" --tls-auth-clients no --requirepass "$REDIS_PW" --save "" \
	--appendonly no --dir "$E2E_TMP/redis" --bind 127.0.0.1
wait_port "$RP" 20

F=${REDACT_OUT:-out.pcapng}
start_capture "$F" --redact

# the server asks for the password in clear (pg_hba "password"); PGPASSWORD is wrong on
# purpose the first time (a second, failed exchange), then right
PGPASSWORD=$PG_ENV timeout 20 psql "host=127.0.0.1 port=$PGP user=app dbname=postgres sslmode=require" \
	-Atc "select 1" >psql1.out 2>&1 && fail "psql with a wrong password succeeded"
assert_contains "$(cat psql1.out)" "password authentication failed" "psql with the wrong password"
timeout 20 psql "postgresql://app:$PG_URL@127.0.0.1:$PGP/postgres?sslmode=require" -Atc "select 42" >psql2.out 2>&1 ||
	fail "psql: $(cat psql2.out)"
assert_eq "$(cat psql2.out)" 42 "psql over TLS with the password in the URL"
timeout 20 psql "postgresql://app:$PG_URL@127.0.0.1:$PGP/postgres?sslmode=require" \
	-Atc "alter user app password '$PG_ALTER'" >psql3.out 2>&1 || fail "psql alter user: $(cat psql3.out)"
assert_eq "$(cat psql3.out)" "ALTER ROLE" "psql ALTER USER ... PASSWORD over TLS"
out=$(timeout 20 redis-cli --tls --cacert "$CERT" -h 127.0.0.1 -p "$RP" -a "$REDIS_PW" --no-auth-warning ping 2>&1) ||
	fail "redis-cli: $out"
assert_eq "$out" PONG "redis-cli --tls -a ... ping"
out=$(timeout 20 redis-cli --tls --cacert "$CERT" -h 127.0.0.1 -p "$RP" -a "$REDIS_PW" --no-auth-warning \
	config set masterauth "$REDIS_MASTER" 2>&1) || fail "redis-cli config set: $out"
assert_eq "$out" OK "redis-cli config set masterauth"
sleep 0.5
stop_capture

assert_tshark_reads "$F"
# payloads and comments
assert_no_secrets "$F" "$PG_ENV" "$PG_URL" "$PG_ALTER" "$REDIS_PW" "$REDIS_MASTER"
assert_no_expert_warnings "$F" -d "tcp.port==$PGP,pgsql" -d "tcp.port==$RP,data"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
pw=$(tsh -r "$F" -d "tcp.port==$PGP,pgsql" -Y pgsql.password -T fields -e pgsql.password)
assert_eq "$(printf '%s\n' "$pw" | grep -c '^REDACTEDx')" 3 "password messages (one a psql each) dissected by tshark, marker shown"
q=$(tsh -r "$F" -d "tcp.port==$PGP,pgsql" -Y pgsql.query -T fields -e pgsql.query)
assert_contains "$q" "select 42" "the query after the password message"
assert_contains "$q" "alter user app password 'REDACTEDx" "ALTER USER dissected by tshark, marker shown"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "postgresql password: 1" "stream comments (psql)"
assert_contains "$all" "sql password: 1)" "stream comments (psql's ALTER USER)"
assert_contains "$all" "psql postgresql://app:REDACTED" "psql's command line, redacted (URL)"
assert_contains "$all" "-Atc alter user app password 'REDACTEDx" "psql's command line, redacted (-c SQL)"
assert_contains "$all" "redis auth: 1" "stream comments (redis-cli)"
assert_contains "$all" "redis config: 1" "stream comments (redis-cli config set)"
assert_contains "$all" "Args: redis-cli --tls" "redis-cli's command line is in the comments"
log "PASS"
