#!/usr/bin/env bash
# Regenerates the test PKI under testdata/certs. Output is committed; tests never run this.
#
#   bash testdata/certs/generate.sh        (needs the openssl command line, 3.x)
#
# Validity is fixed and long (2020-01-01 .. 2060-01-01) so tests evaluated at fixed times keep
# passing for decades; the few certificates that must be expired or not yet valid have fixed
# dates far from the test time (tests evaluate at 2026-06-01T00:00:00Z). Serials are fixed too.
# Keys are fresh random keys on every run: re-running changes every byte, so regenerate only
# when a certificate must change, and update the expected outputs that name fingerprints.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf keys store ca bundles broken work
mkdir -p keys store ca bundles broken work

# The config reads $SAN in every section it parses, so it must always be set.
export SAN=unused@example.invalid
START=20200101000000Z
END=20600101000000Z

cat > work/ca.cnf <<'CNF'
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = work
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
preserve = yes
copy_extensions = none
[ policy_any ]
commonName = optional
emailAddress = optional
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ext_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_inter ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# A well-formed RSA S/MIME certificate.
[ ext_rsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:$ENV::SAN
# A well-formed EC S/MIME certificate (ECDH key agreement).
[ ext_ec ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:$ENV::SAN
[ ext_server_eku ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
subjectAltName = email:$ENV::SAN
[ ext_any_eku ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = anyExtendedKeyUsage
subjectKeyIdentifier = hash
subjectAltName = email:$ENV::SAN
[ ext_sign_only ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:$ENV::SAN
[ ext_ec_keyenc ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:$ENV::SAN
[ ext_ku_noncritical ]
basicConstraints = critical, CA:false
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:$ENV::SAN
[ ext_subject_only ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
[ ext_multi_san ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:victor@example.com, email:VICTOR.Alias@Example.NET, DNS:victor.example.com, email:victor@example.org
[ ext_smtputf8 ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
# FORMAT:UTF8 makes OpenSSL take the value's bytes as UTF-8; without it, it reads them as
# Latin-1 and double-encodes (c3 83 c2 b6 for ö).
subjectAltName = @smtputf8_names
[ smtputf8_names ]
# One name per line: in the inline form the comma after FORMAT:UTF8 would split the entry.
otherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:jörg@bücher.example
CNF
: > work/index.txt

# key NAME rsa BITS | key NAME ec CURVE | key NAME ed25519
key() {
  case "$2" in
    rsa) openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" -out "keys/$1.key" ;;
    ec) openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:$3" -out "keys/$1.key" ;;
    ed25519) openssl genpkey -quiet -algorithm ED25519 -out "keys/$1.key" ;;
  esac
}

# issue OUT SUBJECT SERIAL ISSUER(name in ca/) EXT START END [SAN]
issue() {
  local out=$1 subj=$2 serial=$3 issuer=$4 ext=$5 start=$6 end=$7 san=${8:-}
  local keyname; keyname=$(basename "$out" .pem)
  openssl req -new -key "keys/$keyname.key" -subj "$subj" -out "work/$keyname.csr" -config work/ca.cnf 2>/dev/null
  echo "$serial" > work/serial
  : > work/index.txt   # serials are ours to choose (one deliberately repeats): no CA database
  local extargs=()
  [ "$ext" != none ] && extargs=(-extensions "$ext")
  SAN="${san:-$SAN}" openssl ca -batch -config work/ca.cnf -notext -utf8 "${extargs[@]}" \
    -cert "ca/$issuer.pem" -keyfile "keys/$issuer.key" \
    -startdate "$start" -enddate "$end" -in "work/$keyname.csr" -out "$out" 2>work/last.err || { cat work/last.err >&2; return 1; }
}

# --- certification authorities -------------------------------------------------------------
key root rsa 2048
# `ca -selfsign` rather than `req -x509`: it takes fixed start and end dates.
openssl req -new -key keys/root.key -subj "/O=smime-lint tests/CN=smime-lint Test Root CA" -out work/root.csr -config work/ca.cnf
echo 01 > work/serial
openssl ca -batch -selfsign -config work/ca.cnf -notext -extensions ext_root -keyfile keys/root.key \
  -startdate $START -enddate $END -in work/root.csr -out ca/root.pem 2>/dev/null

key intermediate rsa 2048
issue ca/intermediate.pem "/O=smime-lint tests/CN=smime-lint Test Intermediate CA" 02 root ext_inter $START $END
# A second CA generation with the same name and a new key: it reuses serials of the first.
key intermediate-g2 rsa 2048
issue ca/intermediate-g2.pem "/O=smime-lint tests/CN=smime-lint Test Intermediate CA" 03 root ext_inter $START $END
# A CA nobody trusts.
key rogue rsa 2048
openssl req -new -key keys/rogue.key -subj "/O=Rogue/CN=Rogue CA" -out work/rogue.csr -config work/ca.cnf
echo 01 > work/serial; : > work/index.txt
openssl ca -batch -selfsign -config work/ca.cnf -notext -extensions ext_root -keyfile keys/rogue.key \
  -startdate $START -enddate $END -in work/rogue.csr -out ca/rogue.pem 2>/dev/null

# --- end entities (see README.md for what each one is for) -------------------------------------
key alice rsa 2048; issue store/alice.pem "/CN=Alice Sender" 1001 intermediate ext_rsa $START $END alice@example.com
key bob rsa 2048; issue store/bob.pem "/CN=Bob Builder" 1002 intermediate ext_rsa $START $END bob@example.com
key carol ec prime256v1; issue store/carol.pem "/CN=Carol EC" 1003 intermediate ext_ec $START $END carol@example.org
key dave-expired rsa 2048; issue store/dave-expired.pem "/CN=Dave Expired" 1004 intermediate ext_rsa $START 20210101000000Z dave@example.com
key erin-not-yet-valid rsa 2048; issue store/erin-not-yet-valid.pem "/CN=Erin Future" 1005 intermediate ext_rsa 20900101000000Z 20950101000000Z erin@example.com
key frank-server-eku rsa 2048; issue store/frank-server-eku.pem "/CN=Frank Server" 1006 intermediate ext_server_eku $START $END frank@example.com
key grace-sign-only rsa 2048; issue store/grace-sign-only.pem "/CN=Grace Signer" 1007 intermediate ext_sign_only $START $END grace@example.com
key heidi-weak rsa 1024; issue store/heidi-weak.pem "/CN=Heidi Weak" 1008 intermediate ext_rsa $START $END heidi@example.com
key ivan-ed25519 ed25519; issue store/ivan-ed25519.pem "/CN=Ivan Edwards" 1009 intermediate ext_rsa $START $END ivan@example.com
key judy-subject-only rsa 2048; issue store/judy-subject-only.pem "/CN=Judy Subject/emailAddress=Judy@Example.COM" 100a intermediate ext_subject_only $START $END
key mallory-untrusted rsa 2048; issue store/mallory-untrusted.pem "/CN=Mallory" 100b rogue ext_rsa $START $END mallory@example.com
key oscar-no-extensions rsa 2048; issue store/oscar-no-extensions.pem "/CN=Oscar Old/emailAddress=oscar@example.com" 100c intermediate none $START $END
key peggy-old rsa 2048; issue store/peggy-old.pem "/CN=Peggy" 100d intermediate ext_rsa $START 20240101000000Z peggy@example.com
key peggy-new rsa 2048; issue store/peggy-new.pem "/CN=Peggy" 100e intermediate ext_rsa $START 20500101000000Z peggy@example.com
key peggy-strong rsa 3072; issue store/peggy-strong.pem "/CN=Peggy" 100f intermediate ext_rsa $START 20450101000000Z peggy@example.com
key trent-ku-not-critical rsa 2048; issue store/trent-ku-not-critical.pem "/CN=Trent" 1010 intermediate ext_ku_noncritical $START $END trent@example.com
key sybil-any-eku rsa 2048; issue store/sybil-any-eku.pem "/CN=Sybil" 1011 intermediate ext_any_eku $START $END sybil@example.com
key walter-ec-keyenc ec prime256v1; issue store/walter-ec-keyenc.pem "/CN=Walter" 1012 intermediate ext_ec_keyenc $START $END walter@example.com
key victor-multi-san rsa 2048; issue store/victor-multi-san.pem "/CN=Victor" 1013 intermediate ext_multi_san $START $END
key jorg-smtputf8 rsa 2048; issue store/jorg-smtputf8.pem "/CN=Jorg" 1014 intermediate ext_smtputf8 $START $END
key uma-upper-case rsa 2048; issue store/uma-upper-case.pem "/CN=Uma" 1015 intermediate ext_rsa $START $END UMA@EXAMPLE.COM
key nina-p384 ec secp384r1; issue store/nina-p384.pem "/CN=Nina P-384" 1016 intermediate ext_ec $START $END nina@example.org
# Same issuer name and serial as bob's certificate (1002), from the second CA generation.
key zoe-serial-clash rsa 2048; issue store/zoe-serial-clash.pem "/CN=Zoe Clash" 1002 intermediate-g2 ext_rsa $START $END zoe@example.com

# --- other encodings --------------------------------------------------------------------------
openssl x509 -in store/bob.pem -outform DER -out bundles/bob.der
cat store/alice.pem store/carol.pem store/uma-upper-case.pem > bundles/three.pem
openssl crl2pkcs7 -nocrl -certfile bundles/three.pem -outform DER -out bundles/three.p7b
openssl crl2pkcs7 -nocrl -certfile bundles/three.pem -outform PEM -out bundles/three-pem.p7c
cat ca/intermediate.pem ca/root.pem > ca/chain.pem

# A folder with one unreadable file among good ones.
cp store/alice.pem store/bob.pem broken/
printf 'this is not a certificate\n' > broken/garbage.pem
head -c 200 bundles/bob.der > broken/truncated.der

rm -rf work
echo "generated: $(ls store | wc -l) end-entity certificates"
