#!/usr/bin/env bash
# Whole-process cost of auditing one large message: a 10 MiB random attachment, encrypted for
# alice and bob with `openssl cms -encrypt -stream` (BER, 4096-byte chunks; 19.5 MB as mail),
# beside `cat` (a 128 KiB buffer) and `dd bs=20M` (the whole file in one fresh buffer, as the
# audit holds it).
#
#   cargo build --release
#   scripts/one_big_message.sh
#
# Environment: SMIME_LINT (default target/release/smime-lint), OPENSSL (default openssl),
# RUNS (default 30). Needs hyperfine.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SMIME_LINT=${SMIME_LINT:-$ROOT/target/release/smime-lint}
OPENSSL=${OPENSSL:-openssl}
RUNS=${RUNS:-30}
CERTS=$ROOT/testdata/certs/store
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

{
  printf 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  head -c 10485760 /dev/urandom | base64 -w 76 | sed 's/$/\r/'
} > "$WORK/inner.eml"
"$OPENSSL" cms -encrypt -stream -aes256 -in "$WORK/inner.eml" -out "$WORK/body.eml" \
  -from alice@example.com -to bob@example.com -subject "one big message" \
  "$CERTS/alice.pem" "$CERTS/bob.pem"
{ printf 'Date: Mon, 01 Jun 2026 09:00:00 +0000\r\n'; cat "$WORK/body.eml"; } > "$WORK/big.eml"
echo "message: $(stat -c %s "$WORK/big.eml") bytes"
"$SMIME_LINT" audit --certs "$CERTS" --format json "$WORK/big.eml" > "$WORK/report.json" || true
grep -q '"ber_indefinite":true' "$WORK/report.json" || { echo "unexpected report:"; cat "$WORK/report.json"; exit 1; }

hyperfine -N -w 3 -r "$RUNS" \
  "cat $WORK/big.eml" \
  "dd if=$WORK/big.eml of=/dev/null bs=20M" \
  "$SMIME_LINT audit --certs $CERTS --format json $WORK/big.eml"
