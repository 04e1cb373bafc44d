#!/usr/bin/env bash
# --redact for MySQL/MariaDB: the real mariadb client -> mariadbd (Debian's MariaDB, a data
# dir of its own, TLS with the test certificate), -u app -pPASSWORD on the command line;
# the client's default plugin mysql_clear_password puts the password itself in the
# handshake response, the server switches it to mysql_native_password (AuthSwitchRequest, a
# scramble in the answer). Then ALTER USER ... IDENTIFIED BY '...' and SET PASSWORD FOR ... =
# PASSWORD('...') as queries (and so on the command line), and a query whose result is
# known. Judged on the raw file: no password anywhere, the markers there, the query and
# its rows there, the Redacted: comments and count.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
e2e_init
need_tools mariadb:mariadb-client mariadbd:mariadb-server mariadb-install-db:mariadb-server

PW1=$(secret)
PW2=$(secret)
PW3=$(secret)
e2e_cert

# mariadbd as root on a private data dir: TCP on 127.0.0.1 only, no system service touched
pick_port
MP=$PORT
mkdir -p my
timeout 60 mariadb-install-db --no-defaults --datadir="$E2E_TMP/my/data" --user=root \
	--auth-root-authentication-method=socket --skip-test-db >my/install.log 2>&1 ||
	fail "mariadb-install-db: $(tail -n 5 my/install.log)"
bg my/server.log mariadbd --no-defaults --datadir="$E2E_TMP/my/data" --user=root \
	--bind-address=127.0.0.1 --port="$MP" --socket="$E2E_TMP/my/sock" --pid-file="$E2E_TMP/my/pid" \
	--skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=16M \
	--ssl-cert="$CERT" --ssl-key="$KEY" --require-secure-transport=ON
wait_port "$MP" 30
for ((i = 0; i < 100; i++)); do
	timeout 10 mariadb --no-defaults -S "$E2E_TMP/my/sock" -u root -e "select 1" >/dev/null 2>&1 && break
	sleep 0.2
done
timeout 10 mariadb --no-defaults -S "$E2E_TMP/my/sock" -u root \
	-e "CREATE USER app@'%' IDENTIFIED BY '$PW1'; GRANT ALL ON *.* TO app@'%'" >my/setup.log 2>&1 ||
	fail "create user: $(cat my/setup.log)"

F=out.pcapng
start_capture "$F" --redact

my() {
	local pw=$1
	shift
	timeout 20 mariadb --no-defaults -h 127.0.0.1 -P "$MP" -u app -p"$pw" --ssl --ssl-ca="$CERT" \
		--default-auth=mysql_clear_password -N -B "$@"
}
out=$(my "$PW1" -e "SHOW STATUS LIKE 'Ssl_cipher'; SELECT CONCAT('row-', 6*7, '-kept') AS answer" 2>&1) ||
	fail "mariadb: $out"
assert_contains "$out" "row-42-kept" "mariadb's query over TLS"
cipher=$(printf '%s\n' "$out" | awk '$1 == "Ssl_cipher" { print $2 }')
assert_ne "$cipher" "" "the connection's Ssl_cipher (TLS)"
out=$(my "$PW1" -e "ALTER USER app IDENTIFIED BY '$PW2'" 2>&1) || fail "mariadb alter user: $out"
out=$(my "$PW2" -e "SET PASSWORD FOR app = PASSWORD('$PW3')" 2>&1) || fail "mariadb set password: $out"
out=$(my "$PW3" -e "SELECT CURRENT_USER()" 2>&1) || fail "mariadb with the password SET PASSWORD gave: $out"
assert_contains "$out" "app@%" "both password changes took effect"
sleep 0.5
stop_capture

assert_tshark_reads "$F"
assert_no_secrets "$F" "$PW1" "$PW2" "$PW3"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"
# how many times a string (a PCRE with bytes as \xNN) is in the file
bytes() { { grep -o -a -F -e "$1" "$F" || true; } | wc -l; }
bytes_re() { { grep -o -a -P -e "$1" "$F" || true; } | wc -l; }
assert_ge "$(bytes "SELECT CONCAT('row-', 6*7, '-kept') AS answer")" 1 "the query's text in the file"
assert_ge "$(bytes "row-42-kept")" 1 "its result row in the file"
assert_ge "$(bytes "$cipher")" 1 "SHOW STATUS's row in the file"
assert_ge "$(bytes "ALTER USER app IDENTIFIED BY 'REDACTEDxxxxxxxxxxxxxxxxx'")" 1 "ALTER USER with the marker"
assert_ge "$(bytes "SET PASSWORD FOR app = PASSWORD('REDACTEDxxxxxxxxxxxxxxxxx')")" 1 "SET PASSWORD with the marker"
# the password of the handshake response (mysql_clear_password: 25 bytes and a NUL) and the
# scramble after the switch (20 bytes)
assert_eq "$(bytes_re 'app\x00\x1aREDACTEDx{18}mysql_clear_password')" 4 "handshake responses, the marker for the password"
assert_eq "$(bytes_re '\x14\x00\x00\x04REDACTEDx{12}\x02')" 4 "scrambles after the AuthSwitchRequest, masked"
# tshark's mysql dissector reads the queries (not the login: the greeting is before TLS,
# which is also why it warns "Unknown/invalid command code": no expert check here)
q=$(tsh -r "$F" -d "tcp.port==$MP,mysql" -Y mysql.query -T fields -e mysql.query)
assert_contains "$q" "SELECT CONCAT('row-', 6*7, '-kept') AS answer" "the query, dissected by tshark"
assert_contains "$q" "ALTER USER app IDENTIFIED BY 'REDACTEDx" "ALTER USER dissected by tshark, marker shown"
assert_contains "$q" "SET PASSWORD FOR app = PASSWORD('REDACTEDx" "SET PASSWORD dissected by tshark, marker shown"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "Args: mariadb --no-defaults -h 127.0.0.1 -P $MP -u app -pREDACTED" "mariadb's command line, redacted (-p)"
assert_contains "$all" "-e ALTER USER app IDENTIFIED BY 'REDACTEDx" "mariadb's command line, redacted (ALTER USER)"
assert_contains "$all" "PASSWORD('REDACTEDx" "mariadb's command line, redacted (SET PASSWORD)"
assert_contains "$all" "Redacted: 3 values (mysql auth data: 2, sql password: 1)" "stream comments (ALTER USER's connection)"
assert_ge "$(grep -c 'mysql auth data: 2)' <<<"$all")" 2 "stream comments (the other connections)"
assert_not_contains "$all" "bytes masked entirely" "stream comments: nothing masked whole"
# 2 in each of the 4 connections, 1 more in 2 of them; in the comments -p 4 times, the 2 -e
assert_eq "$(grep -oE 'redacted: [0-9]+' "$CAPTURE_LOG" | grep -oE '[0-9]+')" 16 "values redacted (summary)"
log "PASS"
