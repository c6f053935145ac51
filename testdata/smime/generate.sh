#!/usr/bin/env bash
# Regenerates the S/MIME layer-location samples in testdata/smime. Output is committed; tests
# never run this. See README.md for what each sample exercises.
#
#   bash testdata/smime/generate.sh        (needs openssl 3.x and base64)
#
# The CMS objects are real (openssl cms, testdata/certs), so the samples also serve the CMS
# tests; the MIME around them is written here by hand, one labelling variant per file. Keys are
# random on every run: re-running changes the base64, not the structure.
set -euo pipefail
cd "$(dirname "$0")"
CERTS=../certs
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

crlf() { sed 's/\r*$/\r/'; }
b64() { base64 -w 76 "$1"; }

printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nThe Q4 figures: revenue 4.2M.\r\n' \
    >"$WORK/entity.txt"

encrypt() { # $1 = cipher, $2 = output
    openssl cms -encrypt "-$1" -binary -outform DER -in "$WORK/entity.txt" -out "$2" \
        "$CERTS/store/bob.pem" "$CERTS/store/alice.pem"
}
encrypt aes-128-cbc "$WORK/enveloped.der"
encrypt aes-256-gcm "$WORK/authenveloped.der"
openssl cms -sign -nodetach -binary -outform DER -in "$WORK/entity.txt" -md sha256 \
    -signer "$CERTS/store/alice.pem" -inkey "$CERTS/keys/alice.key" -out "$WORK/signed.der"
openssl crl2pkcs7 -nocrl -certfile "$CERTS/store/alice.pem" -outform DER -out "$WORK/certs.der"

# An opaque signature around an envelope (sign after encrypt).
{
    printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n'
    printf 'Content-Transfer-Encoding: base64\r\n\r\n'
    b64 "$WORK/enveloped.der" | crlf
} >"$WORK/envelope-entity.txt"
openssl cms -sign -nodetach -binary -outform DER -in "$WORK/envelope-entity.txt" -md sha256 \
    -signer "$CERTS/store/alice.pem" -inkey "$CERTS/keys/alice.key" \
    -out "$WORK/signed-envelope.der"

headers() { # $1 = Subject
    cat <<EOF
From: Alice Example <alice@example.com>
To: Bob Example <bob@example.com>
Subject: $1
Date: Mon, 01 Jun 2026 09:00:00 +0000
Message-ID: <$(tr ' ' '-' <<<"$1")@example.com>
MIME-Version: 1.0
EOF
}

# A single-part message. $1 = file, $2 = subject, $3 = Content-Type value, $4 = DER,
# $5 = optional Content-Disposition value.
single() {
    {
        headers "$2"
        echo "Content-Type: $3"
        if [[ -n ${5:-} ]]; then echo "Content-Disposition: $5"; fi
        echo "Content-Transfer-Encoding: base64"
        echo
        b64 "$4"
    } | crlf >"$1"
}

# A part of a multipart body (no boundary line). $1 = Content-Type, $2 = DER, $3 = disposition.
part() {
    echo "Content-Type: $1"
    if [[ -n ${3:-} ]]; then echo "Content-Disposition: $3"; fi
    echo "Content-Transfer-Encoding: base64"
    echo
    b64 "$2"
}
text_part() { printf 'Content-Type: text/plain; charset=us-ascii\n\n%s\n' "$1"; }

# multipart/$2 with boundary $3 around part files. $1 = output file (a MIME entity, no headers
# of the message), rest = part files.
multipart() {
    local out=$1 subtype=$2 boundary=$3
    shift 3
    {
        echo "Content-Type: multipart/$subtype; boundary=\"$boundary\""
        echo
        for p in "$@"; do
            echo "--$boundary"
            cat "$p"
            echo
        done
        echo "--$boundary--"
    } >"$out"
}
# A message around a multipart entity. $1 = file, $2 = subject, $3 = entity file.
message() { { headers "$2"; cat "$3"; } | crlf >"$1"; }

# --- single parts: every declared kind and label ------------------------------------------------
single pkcs7-mime-enveloped.eml "enveloped" \
    'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"' \
    "$WORK/enveloped.der" 'attachment; filename="smime.p7m"'
single x-pkcs7-mime-enveloped.eml "legacy x- type" \
    'application/x-pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"' \
    "$WORK/enveloped.der" 'attachment; filename="smime.p7m"'
single pkcs7-mime-authenveloped.eml "auth enveloped" \
    'application/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"' \
    "$WORK/authenveloped.der"
single pkcs7-mime-signed.eml "opaque signed" \
    'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"' "$WORK/signed.der"
single x-pkcs7-mime-signed.eml "legacy opaque signed" \
    'application/x-pkcs7-mime; smime-type=signed-data; name="smime.p7m"' "$WORK/signed.der"
single pkcs7-mime-certs-only.eml "certs only" \
    'application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"' "$WORK/certs.der"
single pkcs7-mime-no-smime-type.eml "no smime-type" \
    'application/pkcs7-mime; name="smime.p7m"' "$WORK/enveloped.der"
single pkcs7-mime-no-smime-type-p7c.eml "no smime-type, p7c name" \
    'application/pkcs7-mime; name="certs.p7c"' "$WORK/certs.der"
single pkcs7-mime-unknown-smime-type.eml "unknown smime-type" \
    'application/pkcs7-mime; smime-type=enveloped; name="smime.p7m"' "$WORK/enveloped.der"
single pkcs7-mime-mislabelled.eml "declared signed, is enveloped" \
    'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"' "$WORK/enveloped.der"
single octet-stream-p7m.eml "relabelled octet-stream" \
    'application/octet-stream; name="smime.p7m"' "$WORK/enveloped.der"
single opaque-signed-envelope.eml "envelope inside an opaque signature" \
    'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"' \
    "$WORK/signed-envelope.der"

# --- octet-stream attachments named by extension only -------------------------------------------
text_part "Attached: a signature and a certificate." >"$WORK/text"
part 'application/octet-stream' "$WORK/signed.der" 'attachment; filename="message.P7S"' \
    >"$WORK/octet-p7s"
part 'application/octet-stream; name="alice.p7c"' "$WORK/certs.der" >"$WORK/octet-p7c"
part 'application/octet-stream; name="report.pdf"' "$WORK/certs.der" >"$WORK/octet-pdf"
multipart "$WORK/octets" mixed outer "$WORK/text" "$WORK/octet-p7s" "$WORK/octet-p7c" \
    "$WORK/octet-pdf"
message octet-stream-p7s-p7c.eml "octet-stream by name" "$WORK/octets"

# --- multipart/signed --------------------------------------------------------------------------
# Signs the entity $1 (detached) and writes the multipart/signed entity to $2; $3 = "x" for the
# legacy x-pkcs7-signature labels some older clients used.
sign_detached() {
    openssl cms -sign -in "$1" -md sha256 -signer "$CERTS/store/alice.pem" \
        -inkey "$CERTS/keys/alice.key" -out "$WORK/signed.mime"
    grep -v '^MIME-Version:' "$WORK/signed.mime" | tr -d '\r' >"$2"
    if [[ ${3:-} == x ]]; then
        sed -i 's#application/pkcs7-signature#application/x-pkcs7-signature#g' "$2"
    fi
}
crlf <"$WORK/text" >"$WORK/text.crlf"
sign_detached "$WORK/text.crlf" "$WORK/ms"
message multipart-signed.eml "signed" "$WORK/ms"
sign_detached "$WORK/text.crlf" "$WORK/ms-x" x
message multipart-signed-x.eml "signed, legacy labels" "$WORK/ms-x"

# The protected content is itself a multipart.
part 'application/pdf; name="q4.pdf"' "$WORK/certs.der" 'attachment; filename="q4.pdf"' \
    >"$WORK/pdf"
multipart "$WORK/inner-mixed" mixed inner "$WORK/text" "$WORK/pdf"
crlf <"$WORK/inner-mixed" >"$WORK/inner-mixed.crlf"
sign_detached "$WORK/inner-mixed.crlf" "$WORK/ms-mixed"
message multipart-signed-mixed.eml "signed multipart" "$WORK/ms-mixed"

# An envelope inside multipart/signed (encrypt, then sign in the clear).
sign_detached "$WORK/envelope-entity.txt" "$WORK/ms-env"
message signed-envelope.eml "signed envelope" "$WORK/ms-env"

# A signed part that is not the message: multipart/signed attached inside multipart/mixed.
text_part "Forwarding Alice's signed note below." >"$WORK/intro"
multipart "$WORK/mixed-signed" mixed outer "$WORK/intro" "$WORK/ms"
message signed-inside-mixed.eml "signed part inside mixed" "$WORK/mixed-signed"

# --- several envelopes, deeper paths, forwarded messages ---------------------------------------
part 'application/pkcs7-mime; smime-type=enveloped-data; name="first.p7m"' \
    "$WORK/enveloped.der" 'attachment; filename="first.p7m"' >"$WORK/env1"
part 'application/x-pkcs7-mime; smime-type=enveloped-data; name="second.p7m"' \
    "$WORK/authenveloped.der" 'attachment; filename="second.p7m"' >"$WORK/env2"
text_part "Two encrypted files attached." >"$WORK/two"
multipart "$WORK/several" mixed outer "$WORK/two" "$WORK/env1" "$WORK/env2"
message several-envelopes.eml "several envelopes" "$WORK/several"

printf 'Content-Type: text/html; charset=us-ascii\n\n<p>See below.</p>\n' >"$WORK/html"
multipart "$WORK/alt" alternative alt "$WORK/text" "$WORK/html"
multipart "$WORK/inner" mixed inner "$WORK/text" "$WORK/env1"
multipart "$WORK/deep" mixed outer "$WORK/alt" "$WORK/inner"
message deep-path.eml "envelope at 2.2" "$WORK/deep"

{
    echo 'Content-Type: message/rfc822'
    echo 'Content-Disposition: attachment; filename="enveloped.eml"'
    echo
    tr -d '\r' <pkcs7-mime-enveloped.eml
} >"$WORK/rfc822"
text_part "Forwarding an encrypted message." >"$WORK/fwd"
multipart "$WORK/forwarded" mixed outer "$WORK/fwd" "$WORK/rfc822"
message forwarded-smime.eml "Fw: enveloped" "$WORK/forwarded"

# --- the signed sample with bare LF line ends (as stored in a Maildir) -------------------------
tr -d '\r' <multipart-signed.eml >multipart-signed-lf.eml

echo "samples written to $(pwd)"
