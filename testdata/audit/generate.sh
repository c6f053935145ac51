#!/usr/bin/env bash
# Regenerates the audit fixtures: real `openssl cms -encrypt` envelopes (OpenSSL 3) wrapped in
# the headers of a sent message. Output is committed; tests never run this. The expected audit
# output beside each (NAME.audit.json) is written by the golden test with UPDATE_EXPECTED=1 and
# reviewed by hand.
#
#   bash testdata/audit/generate.sh
#   ONLY="bcc-two bcc-separate" bash testdata/audit/generate.sh   # just these messages
#
# Encryption is randomised, so re-running changes the ciphertext bytes (not what the audit sees).
set -euo pipefail
cd "$(dirname "$0")"
C=../certs
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

BODY='Content-Type: text/plain; charset=utf-8

Hi all, the figures look good. Let us talk on Monday.
-- 
Alice
'
printf '%s' "$BODY" | sed 's/$/\r/' > "$W/body.mime"

# msg NAME HEADERS ENCRYPT-OPTIONS... : headers (one per line) + the S/MIME part openssl writes.
msg() {
  local name=$1 headers=$2; shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  openssl cms -encrypt -in "$W/body.mime" -binary -out "$W/part" "$@"
  { printf '%s\n' "$headers"; cat "$W/part"; } | sed 's/\r$//' | sed 's/$/\r/' > "$name.eml"
}

hdr() { # FROM TO CC BCC SUBJECT ID
  printf 'From: %s\nTo: %s\n' "$1" "$2"
  [ -n "$3" ] && printf 'Cc: %s\n' "$3"
  [ -n "$4" ] && printf 'Bcc: %s\n' "$4"
  printf 'Subject: %s\nDate: %s\nMessage-ID: <%s@example.com>\n' "$5" "${DATE:-Mon, 01 Jun 2026 09:30:00 +0200}" "$6"
}

# The iOS 7.1 Reply All: To has no certificate, Cc has one; enveloped for Cc (+ sender) only.
msg ios71-reply-all "$(hdr 'Alice Sender <alice@example.com>' 'Dan Nocert <dan@example.net>' '"Carol EC" <Carol@Example.ORG>' '' 'Re: Quarterly numbers' ios71-reply
printf 'In-Reply-To: <q2-numbers@example.net>\nReferences: <q2-numbers@example.net>\nX-Mailer: iPhone Mail (11D167)')" \
  -aes128 "$C/store/carol.pem" "$C/store/alice.pem"
# Everyone (and the sender) can decrypt.
msg all-can-decrypt "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' 'carol@example.org' '' 'Plans' all-ok)" \
  -aes256 "$C/store/alice.pem" "$C/store/bob.pem" "$C/store/carol.pem"
# Sent copy with a Bcc recipient whose RecipientInfo sits in the shared envelope.
msg bcc-copy "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' '' 'Uma <uma@example.com>' 'Offer' bcc-copy)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem" "$C/store/uma-upper-case.pem"
# The sender did not encrypt to herself.
msg no-sender "$(hdr 'Alice Sender <alice@example.com>' 'bob@example.com' '' '' 'For Bob only' no-sender)" \
  -aes128 "$C/store/bob.pem"
# Mixed-case addresses in headers and certificates (uma's SAN is upper case).
msg mixed-case "$(hdr 'Alice Sender <ALICE@example.COM>' 'BOB@Example.Com, UMA@example.com' 'Victor <VICTOR.alias@EXAMPLE.net>' '' 'Case' mixed-case)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem" "$C/store/uma-upper-case.pem" "$C/store/victor-multi-san.pem"
# Certificates naming the address only in the subject; one without any extension (X.509 v1).
msg subject-only "$(hdr 'alice@example.com' 'judy@example.com, oscar@example.com' '' '' 'Old certificates' subject-only)" \
  -aes128 "$C/store/alice.pem" "$C/store/judy-subject-only.pem" "$C/store/oscar-no-extensions.pem"
# Encrypted to a certificate that had expired at the message's date, and to a 1024-bit key.
msg unusable-certificates "$(hdr 'alice@example.com' 'dave@example.com, heidi@example.com' '' '' 'Expired' unusable)" \
  -aes128 "$C/store/alice.pem" "$C/store/dave-expired.pem" "$C/store/heidi-weak.pem"
# 3DES content encryption.
msg weak-3des "$(hdr 'alice@example.com' 'bob@example.com' '' '' 'Legacy client' weak-3des)" \
  -des3 "$C/store/alice.pem" "$C/store/bob.pem"
# BER with indefinite lengths, as Thunderbird and `openssl cms -stream` write it.
msg stream-ber "$(hdr 'alice@example.com' 'bob@example.com' '' '' 'Streamed' stream-ber)" \
  -stream -aes128 "$C/store/alice.pem" "$C/store/bob.pem"
# RecipientInfos by subject key identifier.
msg keyid "$(hdr 'alice@example.com' 'bob@example.com' '' '' 'Key ids' keyid)" \
  -keyid -aes128 "$C/store/alice.pem" "$C/store/bob.pem"
# AuthEnvelopedData (AES-GCM), to RSA and EC recipients.
msg auth-enveloped "$(hdr 'alice@example.com' 'bob@example.com' 'nina@example.org' '' 'GCM' gcm)" \
  -aes-128-gcm "$C/store/alice.pem" "$C/store/bob.pem" "$C/store/nina-p384.pem"
# A RecipientInfo for a certificate that is not in the store (the rogue CA's own).
msg unknown-recipient "$(hdr 'alice@example.com' 'bob@example.com, dan@example.net' '' '' 'Who is this' unknown)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem" "$C/ca/rogue.pem"
# Two Bcc recipients and no visible one, sharing one envelope: each sees the other's
# RecipientInfo (bcc-disclosed for both).
msg bcc-two "$(hdr 'alice@example.com' 'undisclosed-recipients:;' '' 'bob@example.com, carol@example.org' 'Two blind copies' bcc-two)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem" "$C/store/carol.pem"
# The sent copy of a message whose Bcc recipient (carol) has no RecipientInfo in it: fine if the
# client sent her a separate copy, unreadable if she got this one.
msg bcc-separate "$(hdr 'alice@example.com' 'bob@example.com' '' 'carol@example.org' 'Separate copies' bcc-separate)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem"

[ -n "${ONLY:-}" ] && { echo "generated: $ONLY"; exit 0; }

# Clock skew: dated 35 s before the certificates' notBefore (2020-01-01T00:00:00Z), as NSS's own
# test messages are, and 11 minutes before, beyond the audit's 10-minute allowance.
msg skew-35s "$(DATE='Tue, 31 Dec 2019 23:59:25 +0000' hdr 'alice@example.com' 'bob@example.com' '' '' 'Fresh certificates' skew-35s)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem"
msg skew-11min "$(DATE='Tue, 31 Dec 2019 23:49:00 +0000' hdr 'alice@example.com' 'bob@example.com' '' '' 'Clock far behind' skew-11min)" \
  -aes128 "$C/store/alice.pem" "$C/store/bob.pem"

# Signed only (multipart/signed), by alice.
{ hdr 'Alice Sender <alice@example.com>' 'bob@example.com' '' '' 'Signed' signed
  openssl cms -sign -in "$W/body.mime" -signer "$C/store/alice.pem" -inkey "$C/keys/alice.key" ; } \
  | sed 's/\r$//' | sed 's/$/\r/' > signed-only.eml

# A pkcs7-mime part that is cut short: base64 of a truncated envelope.
openssl cms -encrypt -in "$W/body.mime" -binary -outform DER -out "$W/env.der" -aes128 "$C/store/bob.pem"
{ hdr 'alice@example.com' 'bob@example.com' '' '' 'Broken' truncated
  printf 'MIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\n'
  printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="smime.p7m"\n\n'
  head -c 300 "$W/env.der" | base64 -w 76; } | sed 's/$/\r/' > truncated.eml

# Limits: an envelope below 65 nested multiparts (the MIME depth bound is 64), and one after
# 10,000 empty parts (the part-count bound). Neither may pass silently.
openssl cms -encrypt -in "$W/body.mime" -binary -outform DER -out "$W/limit.der" -aes128 \
  "$C/store/alice.pem" "$C/store/bob.pem"
p7m_entity() {
  printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\n'
  printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="smime.p7m"\n\n'
  base64 -w 76 "$W/limit.der"
}
{ hdr 'alice@example.com' 'bob@example.com' '' '' 'Deep' limit-depth
  printf 'MIME-Version: 1.0\n'
  for i in $(seq 65); do printf 'Content-Type: multipart/mixed; boundary="d%s"\n\n--d%s\n' "$i" "$i"; done
  p7m_entity
  for i in $(seq 65 -1 1); do printf '\n--d%s--\n' "$i"; done; } | sed 's/$/\r/' > limit-depth.eml
{ hdr 'alice@example.com' 'bob@example.com' '' '' 'Many parts' limit-parts
  printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="p"\n\n'
  for _ in $(seq 10000); do printf -- '--p\n\n\n'; done
  printf -- '--p\n'; p7m_entity; printf -- '\n--p--\n'; } | sed 's/$/\r/' > limit-parts.eml

# An envelope inside five opaque signatures, each signing the one below (the audit follows four).
openssl cms -encrypt -in "$W/body.mime" -binary -out "$W/sig0" -aes128 \
  "$C/store/alice.pem" "$C/store/bob.pem"
for i in 1 2 3 4 5; do
  openssl cms -sign -nodetach -binary -in "$W/sig$((i - 1))" -signer "$C/store/alice.pem" \
    -inkey "$C/keys/alice.key" -out "$W/sig$i"
done
{ hdr 'alice@example.com' 'bob@example.com' '' '' 'Signed five times' limit-signatures
  cat "$W/sig5"; } | sed 's/\r$//' | sed 's/$/\r/' > limit-signatures.eml

# Not mail at all.
head -c 512 "$C/bundles/bob.der" > not-mail.bin

echo "generated $(ls *.eml | wc -l) messages"
