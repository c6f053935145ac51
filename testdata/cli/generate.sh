#!/usr/bin/env bash
# Regenerates the command-line fixtures (tests/cli_traps.rs): real `openssl cms` output (OpenSSL
# 3) with the test PKI of ../certs, and the folders the CLI's traps are about. Output is
# committed; tests never run this. The expected output beside them (*.expected.*) is written by
# the tests with UPDATE_EXPECTED=1 and reviewed by hand.
#
#   bash testdata/cli/generate.sh
#
# Encryption is randomised: re-running changes the ciphertext bytes, not what the audit sees.
set -euo pipefail
cd "$(dirname "$0")"
C=../certs
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
rm -rf bcc-separate mixed-folder symlinked not-mail-only planted.eml one-message.mbox

printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nThe offer stands until Friday.\r\n' > "$W/body.mime"

# hdr FROM TO BCC SUBJECT ID
hdr() {
  printf 'From: %s\nTo: %s\n' "$1" "$2"
  [ -n "$3" ] && printf 'Bcc: %s\n' "$3"
  printf 'Subject: %s\nDate: Mon, 01 Jun 2026 09:30:00 +0200\nMessage-ID: <%s@example.com>\n' "$4" "$5"
}

# encrypted FILE HEADERS CERT...: the headers and the S/MIME part `openssl cms -encrypt` writes,
# CRLF line ends.
encrypted() {
  local file=$1 headers=$2; shift 2
  openssl cms -encrypt -in "$W/body.mime" -binary -aes128 -out "$W/part" "$@"
  { printf '%s\n' "$headers"; cat "$W/part"; } | sed 's/\r$//' | sed 's/$/\r/' > "$file"
}

# A Bcc recipient sent a separately encrypted copy (what the bcc-disclosed hint advises). The
# copy kept in sent items is enveloped for the sender and the To recipient only; the copy that
# went to uma is enveloped for uma and the sender, under the same Message-ID.
mkdir -p bcc-separate
encrypted bcc-separate/1-sent.eml \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' 'Uma <uma@example.com>' 'Offer' bcc-separate)" \
  "$C/store/alice.pem" "$C/store/bob.pem"
encrypted bcc-separate/2-copy-for-uma.eml \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' 'Uma <uma@example.com>' 'Offer' bcc-separate)" \
  "$C/store/alice.pem" "$C/store/uma-upper-case.pem"
# Another message whose Bcc recipient got no copy at all among the inputs.
encrypted bcc-separate/3-no-copy.eml \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' 'Uma <uma@example.com>' 'Counter-offer' bcc-no-copy)" \
  "$C/store/alice.pem" "$C/store/bob.pem"

# One message saved as .mbox, without a "From " line.
encrypted one-message.mbox \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com, dan@example.net' '' 'Saved alone' one-message)" \
  "$C/store/alice.pem" "$C/store/bob.pem"

# A certificate planted through signed mail: bob's key signs a message whose From is alice.
# The signature verifies, but the certificate does not name the From address: not bound.
{ hdr 'alice@example.com' 'carol@example.org' '' 'Planted' planted
  openssl cms -sign -in "$W/body.mime" -signer "$C/store/bob.pem" -inkey "$C/keys/bob.key"; } \
  | sed 's/\r$//' | sed 's/$/\r/' > planted.eml

# A folder of mail with other files beside it: a README, a certificate, a JSON export.
mkdir -p mixed-folder
encrypted mixed-folder/a.eml \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com, dan@example.net' '' 'Mixed' mixed-a)" \
  "$C/store/alice.pem" "$C/store/bob.pem"
encrypted mixed-folder/b.eml \
  "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' '' 'Fine' mixed-b)" \
  "$C/store/alice.pem" "$C/store/bob.pem"
printf '# Exported mail\n\nThe .eml files are the sent items of June.\n' > mixed-folder/README.md
cp "$C/store/bob.pem" mixed-folder/bob.pem
printf '{"exported": "2026-06-02", "messages": 2}\n' > mixed-folder/export.json

# A folder with nothing but a note: it yields no message at all.
mkdir -p not-mail-only
printf 'Nothing here yet.\n' > not-mail-only/NOTES.txt

# notmuch/mairix search results: a Maildir whose messages are symbolic links.
mkdir -p symlinked/cur symlinked/new symlinked/tmp
: > symlinked/new/.keep
: > symlinked/tmp/.keep
ln -s ../../mixed-folder/a.eml 'symlinked/cur/1780000001.M1P1.host:2,S'
ln -s ../../mixed-folder/b.eml 'symlinked/cur/1780000002.M2P2.host:2,S'

echo "generated $(find . -name '*.eml' -o -name '*.mbox' | wc -l) messages"
