#!/usr/bin/env bash
# --redact for mail logins: python's imaplib and smtplib against redact_peer.py's IMAP and
# SMTP server: IMAP LOGIN and AUTHENTICATE PLAIN over implicit TLS, IMAP LOGIN after
# STARTTLS (in TLS the client speaks first: no greeting says IMAP), SMTP AUTH PLAIN and
# AUTH LOGIN over implicit TLS, each with a distinct random password. Judged on the raw
# file: no password nor its base64 or SASL form; tshark dissects the streams as IMAP and
# SMTP with no expert warning and shows the markers; the comments count the values.
source "$(dirname "$0")/lib.sh"
e2e_init
e2e_cert

for n in IMAP_LOGIN IMAP_PLAIN IMAP_STARTTLS SMTP_PLAIN SMTP_LOGIN; do
	echo "$n=S$(openssl rand -hex 12)"
done >secrets
declare -A S
while IFS== read -r n v; do S[$n]=$v; done <secrets
pick_port
IMAPS=$PORT
pick_port
IMAP=$PORT
pick_port
SMTPS=$PORT
bg mailserver.log "$PY" "$E2E_DIR/redact_peer.py" mail-server --port "$IMAPS,$IMAP,$SMTPS" \
	--cert "$CERT" --key "$KEY" --secrets secrets --lifetime 60
for p in "$IMAPS" "$IMAP" "$SMTPS"; do wait_port "$p" 10; done

start_capture out.pcapng --redact
timeout 40 "$PY" "$E2E_DIR/redact_peer.py" mail-client --port "$IMAPS,$IMAP,$SMTPS" --cafile "$CERT" \
	--secrets secrets >mailclient.out 2>&1 || fail "mail client: $(tail -n 5 mailclient.out)"
assert_eq "$(cat mailclient.out)" ok "imaplib and smtplib logged in every way (no capture involved)"
sleep 0.5
stop_capture

F=out.pcapng
# smtp.decryption: tshark's SMTP decodes AUTH PLAIN only so (else it flags every one, as
# "base64 decode failed or is not enabled"); the redacted response must decode
D=(-d "tcp.port==$IMAPS,imap" -d "tcp.port==$IMAP,imap" -d "tcp.port==$SMTPS,smtp" -o smtp.decryption:TRUE)
assert_tshark_reads "$F"
sasl() { printf '\0alice\0%s' "$1" | base64 -w0; }
assert_no_secrets "$F" "${S[@]}" "$(sasl "${S[IMAP_PLAIN]}")" "$(sasl "${S[SMTP_PLAIN]}")" \
	"$(printf '%s' "${S[SMTP_LOGIN]}" | base64 -w0)"
assert_no_expert_warnings "$F" "${D[@]}"
assert_eq "$(capture_stat 'bytes lost')" 0 "bytes lost (summary)"

# dissected as what they are, the markers in place of the passwords
imap=$(tsh -r "$F" "${D[@]}" -Y imap.request -T fields -e imap.request)
assert_ge "$(grep -c 'LOGIN alice REDACTEDx' <<<"$imap")" 2 "IMAP LOGIN dissected, marker shown (implicit TLS and STARTTLS)"
assert_contains "$imap" "AUTHENTICATE PLAIN" "IMAP AUTHENTICATE dissected"
smtp=$(tsh -r "$F" "${D[@]}" -Y smtp.req -T fields -e smtp.req.command -e smtp.req.parameter)
assert_contains "$smtp" $'AUTH\tPLAIN ' "SMTP AUTH PLAIN dissected"
plain=$(tsh -r "$F" "${D[@]}" -Y smtp.auth.password -T fields -e smtp.auth.username -e smtp.auth.password)
assert_contains "$plain" $'REDACTEDxxxxxxx\tREDACTEDxxxx' "SMTP AUTH PLAIN decoded by tshark: user and password are markers"
assert_contains "$smtp" $'AUTH\tLOGIN REDACTED' "SMTP AUTH LOGIN dissected, marker shown"
all=$(tsh -r "$F" -Y frame.comment -T fields -e frame.comment)
assert_contains "$all" "imap login: 1" "stream comments (LOGIN)"
assert_contains "$all" "mail auth: 1" "stream comments (the SASL response lines)"
assert_contains "$all" "smtp auth: 1" "stream comments (AUTH with an initial response)"
assert_ge "$(grep -oE 'redacted: [0-9]+' "$CAPTURE_LOG" | grep -oE '[0-9]+')" 6 "values redacted (summary)"
log "PASS"
