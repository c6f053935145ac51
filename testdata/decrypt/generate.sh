#!/usr/bin/env bash
# Regenerates the decryption fixtures. Output is committed; tests never run this.
#
#   bash testdata/decrypt/generate.sh        (needs the openssl command line, 3.x)
#
# Every envelope is DER (`-outform DER` without `-stream`, so no indefinite lengths) and made
# with `-binary`, so the decrypted bytes equal the `.mime` file beside it byte for byte.
# Encryption is randomised: re-running changes every .der byte, never the .mime files.
set -euo pipefail
cd "$(dirname "$0")"
STORE=../certs/store
KEYS=../certs/keys

# The plaintexts (CRLF line ends, as MIME on the wire).
printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nHi Bob,\r\n\r\nTuesday works for me. See you then.\r\n\r\nAlice\r\n' > reply.mime
printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' > blank.mime
# The SmartReply shape: an empty text part beside the real message as an attachment.
printf '%s\r\n' \
  'Content-Type: multipart/mixed; boundary="sr"' \
  '' \
  '--sr' \
  'Content-Type: text/plain; charset=utf-8' \
  '' \
  '' \
  '--sr' \
  'Content-Type: message/rfc822' \
  'Content-Disposition: attachment; filename="original.eml"' \
  '' \
  'From: alice@example.com' \
  'To: bob@example.com' \
  'Subject: Re: lunch' \
  '' \
  'Tuesday works for me.' \
  '--sr--' > smartreply.mime

enc() { # enc OUT IN [openssl cms args...]
  local out=$1 in=$2; shift 2
  openssl cms -encrypt -binary -outform DER -in "$in" -out "$out" "$@"
}

enc aes128-cbc.der     reply.mime -aes128 -recip $STORE/alice.pem -recip $STORE/bob.pem
enc aes256-cbc.der     reply.mime -aes256 -recip $STORE/alice.pem -recip $STORE/bob.pem
enc aes192-cbc.der     reply.mime -aes192 -recip $STORE/alice.pem -recip $STORE/bob.pem
enc oaep-sha1.der      reply.mime -aes128 \
  -recip $STORE/alice.pem -keyopt rsa_padding_mode:oaep \
  -recip $STORE/bob.pem -keyopt rsa_padding_mode:oaep
enc oaep-sha256.der    reply.mime -aes128 \
  -recip $STORE/alice.pem -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 \
  -recip $STORE/bob.pem -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
enc keyid.der          reply.mime -aes128 -keyid -recip $STORE/alice.pem -recip $STORE/bob.pem
enc aes128-gcm.der     reply.mime -aes-128-gcm -recip $STORE/alice.pem -recip $STORE/bob.pem
enc aes256-gcm.der     reply.mime -aes-256-gcm -recip $STORE/alice.pem -recip $STORE/bob.pem
enc carol-p256.der     reply.mime -aes128 -recip $STORE/alice.pem -recip $STORE/carol.pem
enc carol-p256-keyid.der reply.mime -aes256 -keyid -recip $STORE/carol.pem
enc carol-p256-sha256kdf.der reply.mime -aes256 -recip $STORE/carol.pem \
  -keyopt ecdh_kdf_md:sha256
enc nina-p384.der      reply.mime -aes256 -recip $STORE/alice.pem -recip $STORE/nina-p384.pem
enc nina-p384-gcm.der  reply.mime -aes-256-gcm -recip $STORE/nina-p384.pem
enc blank.der          blank.mime -aes128 -recip $STORE/alice.pem -recip $STORE/bob.pem
enc smartreply.der     smartreply.mime -aes128 -recip $STORE/alice.pem -recip $STORE/bob.pem
enc bob-only.der       reply.mime -aes128 -recip $STORE/bob.pem
enc des3.der           reply.mime -des3 -recip $STORE/alice.pem
# Recipient kinds a private key cannot open: a KEK (kekri) and a password (pwri).
enc kekri.der          reply.mime -aes128 \
  -secretkey 000102030405060708090a0b0c0d0e0f -secretkeyid 4b454b31
enc pwri.der           reply.mime -aes128 -pwri_password 'not a key'

# Damaged copies: one byte flipped near the end, inside the encrypted content.
flip() { # flip IN OUT OFFSET_FROM_END
  python3 - "$1" "$2" "$3" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
data[len(data) - int(sys.argv[3])] ^= 0x01
open(sys.argv[2], 'wb').write(bytes(data))
PY
}
flip aes128-cbc.der damaged-cbc.der 1     # last CBC block: padding breaks
flip aes128-gcm.der damaged-gcm.der 40    # inside the GCM ciphertext: tag mismatch

# Key files in the other formats DecryptionKey reads (copies of the committed test keys).
mkdir -p keys
openssl pkey -in $KEYS/alice.key -traditional -out keys/alice-pkcs1.pem      # RSA PRIVATE KEY
openssl pkey -in $KEYS/carol.key -traditional -out keys/carol-sec1.pem       # EC PRIVATE KEY
openssl pkcs8 -topk8 -in $KEYS/alice.key -v2 aes-256-cbc -passout pass:test \
  -out keys/alice-encrypted.pem                                             # ENCRYPTED PRIVATE KEY
openssl rsa -in $KEYS/alice.key -traditional -aes128 -passout pass:test \
  -out keys/alice-pkcs1-encrypted.pem 2>/dev/null                           # Proc-Type: 4,ENCRYPTED
cat $KEYS/bob.key $STORE/bob.pem ../certs/ca/intermediate.pem > keys/bob-with-chain.pem
cat $KEYS/zoe-serial-clash.key $STORE/zoe-serial-clash.pem > keys/zoe-with-cert.pem
