#!/usr/bin/env bash
# Regenerates the CMS fixtures under testdata/cms. Output is committed; tests never run this.
#
#   bash testdata/cms/generate.sh          (needs the openssl command line 3.x and cargo)
#
# Uses the committed test PKI in testdata/certs (never regenerated here). Every run makes fresh
# content-encryption keys, IVs and signatures, so every byte changes; the expected summaries
# (NAME.expected.json) do not depend on those bytes except where a length is reported, and the
# plaintext has a fixed length, so they stay valid. Re-run the tests with UPDATE_EXPECTED=1 and
# review the diff if anything else changes.
set -euo pipefail
cd "$(dirname "$0")"
CERTS=../certs
S=$CERTS/store
K=$CERTS/keys
# DES and RC2 live in OpenSSL 3's legacy provider.
LEGACY=(-provider legacy -provider default)

rm -f ./*.der ./*.ber ./*.p7s ./*.p7c ./*.b64 ./*.bin openssl-der/*.der
# Fixed plaintext: a small MIME entity, 100 bytes, as a mail client would encrypt.
printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob, this is the fixed test body of smime-lint.\r\n' > /tmp/smime-lint-plain.txt
PLAIN=/tmp/smime-lint-plain.txt

enc() { # enc OUT [openssl cms options...] -- recipients...
  local out=$1; shift
  openssl cms -encrypt -binary -in "$PLAIN" -outform DER -out "$out" "$@"
}

# --- EnvelopedData, key transport (ktri) -----------------------------------------------------
enc bob-aes128.der -aes-128-cbc $S/bob.pem
enc bob-aes256.der -aes-256-cbc $S/bob.pem
enc bob-stream-ber.der -stream -aes-256-cbc $S/bob.pem           # BER, indefinite lengths
enc bob-keyid.der -keyid -aes-128-cbc $S/bob.pem                   # ktri by subjectKeyIdentifier
enc bob-oaep.der -aes-128-cbc -recip $S/bob.pem -keyopt rsa_padding_mode:oaep
enc bob-des3.der -des3 $S/bob.pem
enc bob-des.der "${LEGACY[@]}" -des $S/bob.pem
enc bob-rc2-40.der "${LEGACY[@]}" -rc2-40 $S/bob.pem
enc bob-rc2-128.der "${LEGACY[@]}" -rc2 $S/bob.pem
enc bob-bob-duplicate.der -aes-128-cbc $S/bob.pem $S/bob.pem       # the same recipient twice
# --- AuthEnvelopedData (RFC 5083) ------------------------------------------------------------
enc bob-aes128-gcm.der -aes-128-gcm $S/bob.pem
enc bob-aes256-gcm-stream-ber.der -stream -aes-256-gcm $S/bob.pem
# --- several recipients, key agreement (kari) ------------------------------------------------
enc alice-bob-carol.der -aes-256-cbc $S/alice.pem $S/bob.pem $S/carol.pem
enc carol-keyid.der -keyid -aes-128-cbc $S/carol.pem                # kari rKeyId
enc nina-p384.der -aes-256-gcm $S/nina-p384.pem
enc alice-carol-nina-stream-ber.der -stream -aes-128-cbc $S/alice.pem $S/carol.pem $S/nina-p384.pem
# --- recipients not bound to a certificate ---------------------------------------------------
enc pwri.der -aes-128-cbc -pwri_password 'correct horse battery staple'
enc kekri.der -aes-128-cbc -secretkey 000102030405060708090a0b0c0d0e0f -secretkeyid 6b656b2d31
enc bob-and-kekri.der -aes-128-cbc -recip $S/bob.pem -secretkey 000102030405060708090a0b0c0d0e0f -secretkeyid 6b656b2d31

# --- SignedData ------------------------------------------------------------------------------
openssl cms -sign -binary -nodetach -in "$PLAIN" -signer $S/alice.pem -inkey $K/alice.key \
  -outform DER -out alice-signed-opaque.der
openssl cms -sign -binary -in "$PLAIN" -signer $S/alice.pem -inkey $K/alice.key \
  -outform DER -out alice-signed-detached.p7s
openssl cms -sign -binary -nodetach -stream -in "$PLAIN" -signer $S/carol.pem -inkey $K/carol.key \
  -certfile $CERTS/ca/intermediate.pem -outform DER -out carol-signed-stream-ber.der
openssl cms -sign -binary -nodetach -keyid -in "$PLAIN" -signer $S/bob.pem -inkey $K/bob.key \
  -md sha384 -outform DER -out bob-signed-keyid-sha384.der
# certs-only bundle (degenerate SignedData, RFC 5751 §3.6)
openssl crl2pkcs7 -nocrl -certfile $S/alice.pem -certfile $S/bob.pem -outform DER -out certs-only.p7c

# --- other content types ---------------------------------------------------------------------
openssl cms -EncryptedData_encrypt -binary -in "$PLAIN" -aes-128-cbc \
  -secretkey 000102030405060708090a0b0c0d0e0f -outform DER -out encrypted-data.der

# --- OpenSSL's own DER re-encoding of every BER fixture, to check ber::to_der against ------------
mkdir -p openssl-der
for f in *-ber.der; do
  openssl cms -cmsout -inform DER -in "$f" -outform DER -out "openssl-der/$f"
done

# --- fixtures from the RustCrypto `cms` builder, and hand-made bad inputs ---------------------
( cd ../.. && cargo run --quiet --example gen_cms_fixtures -- testdata/cms )

rm -f "$PLAIN"
