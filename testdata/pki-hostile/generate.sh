#!/usr/bin/env bash
# Regenerates the hostile test PKI under testdata/pki-hostile: one certificate (or signed
# message) per trust and harvesting defect, see README.md. Output is committed; tests never run
# this. The expected outputs beside the fixtures (expected/*.certs.json, harvest/*.expected.json)
# are written by the tests with UPDATE_EXPECTED=1 and reviewed by hand; chains.tsv (what
# smime-lint and `openssl verify` say about each chain) is written by hand.
#
#   bash testdata/pki-hostile/generate.sh        (needs the openssl command line, 3.x)
#
# Validity is fixed (2020-01-01 .. 2060-01-01) and tests evaluate at 2026-06-01T00:00:00Z.
# Keys are fresh random keys on every run (re-running changes every byte and every fingerprint
# in the expected outputs), so regenerate only when a fixture must change.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf keys ca leaves harvest mail work
mkdir -p keys ca leaves harvest mail work

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
copy_extensions = none
[ policy_any ]
commonName = optional
emailAddress = optional
organizationName = optional
organizationalUnitName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

# --- CAs ----------------------------------------------------------------------------------
[ ext_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_inter ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# A technically constrained CA: mail in example.org and its subdomains (and the host names
# of that domain), but never the CEO's mailbox.
[ ext_nc_email ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, permitted;email:example.org, permitted;email:.example.org, permitted;DNS:example.org, excluded;email:ceo@example.org
# Below ext_nc_email: narrower (stays inside its issuer's subtree) ...
[ ext_nc_sub ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, permitted;email:sales.example.org
# ... and one that claims a subtree its issuer does not allow.
[ ext_nc_widen ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, permitted;email:victim.test
[ ext_nc_dir ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, permitted;dirName:dir_mail
[ dir_mail ]
O = smime-lint hostile tests
OU = Mail
# A constraint form smime-lint does not implement (a Microsoft UPN otherName).
[ ext_nc_upn ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, excluded;otherName:1.3.6.1.4.1.311.20.2.3;UTF8:nobody@corp.example
# RFC 9598 §6: an SmtpUTF8Mailbox-typed constraint excluding a domain.
[ ext_nc_utf8 ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, @nc_utf8
[ nc_utf8 ]
excluded;otherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:victim.test
# rfc822Name constraints in A-label form, applied to SmtpUTF8Mailbox names (RFC 9598 §6).
[ ext_nc_idn ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical, permitted;email:xn--bcher-kva.example, permitted;email:.xn--bcher-kva.example, excluded;email:.secret.xn--bcher-kva.example
[ ext_eku_server ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_eku_email ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_eku_any ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = anyExtendedKeyUsage
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_crit_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.4.1.55555.1 = critical, DER:05:00

# --- end entities ------------------------------------------------------------------------------
[ ext_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[ ext_leaf_no_san ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_leaf_crit ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
1.3.6.1.4.1.55555.2 = critical, DER:05:00
# A CA certificate that also names a mailbox and allows keyEncipherment.
[ ext_ca_as_leaf ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
# No basicConstraints, but keyCertSign: a CA key all the same (RFC 5280 §4.2.1.3).
[ ext_kcs_leaf ]
keyUsage = critical, keyCertSign, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[ ext_leaf_utf8 ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @utf8_names
[ utf8_names ]
otherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:$ENV::SAN
# Harvesting: a self-signed end entity, and a signer whose keyUsage forbids signing.
[ ext_self_signed ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = $ENV::SAN
[ ext_encipher_only ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
CNF

# key NAME BITS
key() { openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "keys/$1.key"; }

# issue OUT SUBJECT SERIAL ISSUER EXT [SAN] [DIGEST]: ISSUER is a file under ca/ (key in keys/).
issue() {
  local out=$1 subj=$2 serial=$3 issuer=$4 ext=$5 san=${6:-$SAN} md=${7:-sha256}
  local name; name=$(basename "$out" .pem)
  openssl req -new -key "keys/$name.key" -subj "$subj" -out "work/$name.csr" -config work/ca.cnf 2>/dev/null
  echo "$serial" > work/serial
  : > work/index.txt
  SAN="$san" openssl ca -batch -preserveDN -config work/ca.cnf -notext -utf8 -extensions "$ext" -md "$md" \
    -cert "ca/$issuer.pem" -keyfile "keys/$issuer.key" \
    -startdate $START -enddate $END -in "work/$name.csr" -out "$out" 2>work/last.err \
    || { cat work/last.err >&2; return 1; }
}

# selfsign OUT SUBJECT EXT [SAN]
selfsign() {
  local out=$1 subj=$2 ext=$3 san=${4:-$SAN}
  local name; name=$(basename "$out" .pem)
  openssl req -new -key "keys/$name.key" -subj "$subj" -out "work/$name.csr" -config work/ca.cnf 2>/dev/null
  echo 01 > work/serial
  : > work/index.txt
  SAN="$san" openssl ca -batch -preserveDN -selfsign -config work/ca.cnf -notext -utf8 -extensions "$ext" \
    -keyfile "keys/$name.key" -startdate $START -enddate $END -in "work/$name.csr" -out "$out" \
    2>work/last.err || { cat work/last.err >&2; return 1; }
}

O="/O=smime-lint hostile tests"

# --- certification authorities -------------------------------------------------------------
key root; selfsign ca/root.pem "$O/CN=Hostile Test Root" ext_root
key inter; issue ca/inter.pem "$O/CN=Plain Intermediate" 02 root ext_inter
key nc-email; issue ca/nc-email.pem "$O/CN=Email-Constrained CA" 03 root ext_nc_email
key nc-sub; issue ca/nc-sub.pem "$O/CN=Sales Sub-CA" 04 nc-email ext_nc_sub
key nc-widen; issue ca/nc-widen.pem "$O/CN=Widening Sub-CA" 05 nc-email ext_nc_widen
key nc-dir; issue ca/nc-dir.pem "$O/OU=Mail/CN=Directory-Constrained CA" 06 root ext_nc_dir
key nc-upn; issue ca/nc-upn.pem "$O/CN=UPN-Constrained CA" 07 root ext_nc_upn
key nc-utf8; issue ca/nc-utf8.pem "$O/CN=SmtpUTF8-Constrained CA" 08 root ext_nc_utf8
key nc-idn; issue ca/nc-idn.pem "$O/CN=IDN-Constrained CA" 09 root ext_nc_idn
key eku-server; issue ca/eku-server.pem "$O/CN=Server-EKU CA" 0a root ext_eku_server
key eku-email; issue ca/eku-email.pem "$O/CN=Email-EKU CA" 0b root ext_eku_email
key eku-any; issue ca/eku-any.pem "$O/CN=Any-EKU CA" 0c root ext_eku_any
key crit-ca; issue ca/crit-ca.pem "$O/CN=Critical-Extension CA" 0d root ext_crit_ca
key sha1-ca; issue ca/sha1-ca.pem "$O/CN=SHA-1 Signed CA" 0e root ext_inter "" sha1
key md5-ca; issue ca/md5-ca.pem "$O/CN=MD5 Signed CA" 0f root ext_inter "" md5
key rsa1024-ca 1024; issue ca/rsa1024-ca.pem "$O/CN=RSA-1024 CA" 10 root ext_inter

# --- end entities (see README.md for what each one is for) -------------------------------------
leaf() { # NAME SUBJECT SERIAL ISSUER EXT SAN [DIGEST]
  key "$1"; issue "leaves/$1.pem" "$2" "$3" "$4" "$5" "$6" "${7:-sha256}"
}
leaf good "$O/CN=Gina Good" 1001 inter ext_leaf email:gina@example.org
leaf sha1-leaf "$O/CN=Sam SHA-1" 1002 inter ext_leaf email:sam@example.org sha1
leaf crit-leaf "$O/CN=Carl Critical" 1003 inter ext_leaf_crit email:carl@example.org
leaf ca-as-leaf "$O/CN=Cathy CA" 1004 inter ext_ca_as_leaf email:cathy@example.org
leaf kcs-leaf "$O/CN=Kim KeyCertSign" 1005 inter ext_kcs_leaf email:kim@example.org
leaf contradict "$O/CN=Bob Contradicted/emailAddress=alice@victim.test" 1006 inter ext_leaf email:bob@example.org
# U+212A KELVIN SIGN, then "elvin": lower-cased by Unicode rules it would read kelvin@example.org.
leaf kelvin "$O/CN=Kelvin Sign" 1007 inter ext_leaf_utf8 "$(printf '\xe2\x84\xaa')elvin@example.org"

leaf nc-inside "$O/CN=Alice Inside" 2001 nc-email ext_leaf email:alice@example.org
leaf nc-subdomain "$O/CN=Bob Subdomain" 2002 nc-email ext_leaf email:bob@mail.example.org
leaf nc-outside "$O/CN=Eve Outside" 2003 nc-email ext_leaf email:eve@victim.test
leaf nc-excluded "$O/CN=CEO" 2004 nc-email ext_leaf email:ceo@example.org
leaf nc-excluded-upper "$O/CN=CEO Upper" 2005 nc-email ext_leaf email:CEO@example.org
leaf nc-second-san "$O/CN=Alice Two Names" 2006 nc-email ext_leaf email:alice@example.org,email:alice@victim.test
leaf nc-subject-email "$O/CN=Alice Subject/emailAddress=alice@victim.test" 2007 nc-email ext_leaf email:alice@example.org
key nc-subject-only; issue leaves/nc-subject-only.pem "$O/CN=Alice Only Subject/emailAddress=alice@victim.test" 2008 nc-email ext_leaf_no_san
leaf nc-dns-inside "$O/CN=Dora DNS" 2009 nc-email ext_leaf email:dora@example.org,DNS:dora.example.org
leaf nc-dns-outside "$O/CN=Dora Elsewhere" 200a nc-email ext_leaf email:dora@example.org,DNS:dora.evil.test
leaf nc-sub-inside "$O/CN=Sally Sales" 200b nc-sub ext_leaf email:sally@sales.example.org
leaf nc-widen-leaf "$O/CN=Eve Widened" 200c nc-widen ext_leaf email:eve@victim.test
leaf dir-inside "$O/OU=Mail/CN=Dirk Inside" 200d nc-dir ext_leaf email:dirk@example.org
leaf dir-outside "/O=Elsewhere/CN=Dirk Outside" 200e nc-dir ext_leaf email:dirk@example.org
leaf upn-leaf "$O/CN=Ursula UPN" 200f nc-upn ext_leaf "email:ursula@example.org,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:ursula@corp.example"
leaf upn-free "$O/CN=Ursula Plain" 2010 nc-upn ext_leaf email:ursula@example.org
leaf utf8-excluded "$O/CN=Jorg Victim" 2011 nc-utf8 ext_leaf_utf8 "jörg@victim.test"
leaf idn-inside "$O/CN=Jorg Buecher" 2012 nc-idn ext_leaf_utf8 "jörg@bücher.example"
leaf idn-excluded-sub "$O/CN=Jorg Secret" 2013 nc-idn ext_leaf_utf8 "jörg@mail.secret.bücher.example"

leaf eku-server-leaf "$O/CN=Sven Server-CA" 3001 eku-server ext_leaf email:sven@example.org
leaf eku-email-leaf "$O/CN=Emma Email-CA" 3002 eku-email ext_leaf email:emma@example.org
leaf eku-any-leaf "$O/CN=Andy Any-CA" 3003 eku-any ext_leaf email:andy@example.org
leaf crit-ca-leaf "$O/CN=Chris Critical-CA" 3004 crit-ca ext_leaf email:chris@example.org
leaf sha1-ca-leaf "$O/CN=Shan SHA-1-CA" 3005 sha1-ca ext_leaf email:shan@example.org
leaf md5-ca-leaf "$O/CN=Mandy MD5-CA" 3006 md5-ca ext_leaf email:mandy@example.org
leaf rsa1024-ca-leaf "$O/CN=Ralf RSA-1024-CA" 3007 rsa1024-ca ext_leaf email:ralf@example.org

# --- harvesting: signed mail ------------------------------------------------------------------
# mallory's self-signed certificate also names alice@victim.org.
key mallory; selfsign harvest/mallory.pem "/CN=Mallory" ext_self_signed "email:mallory@evil.test,email:alice@victim.org"
# A self-signed certificate for sam, the only one sam has.
key sam; selfsign harvest/sam.pem "/CN=Sam Selfsigned" ext_self_signed email:sam@example.org
# A CA-issued certificate whose keyUsage allows keyEncipherment only.
key enc; issue harvest/enc.pem "$O/CN=Enc Only" 4001 inter ext_encipher_only email:enc@example.org

printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nSigned hello.\r\n' > work/body.mime
# signed NAME FROM TO SIGNER-CERT SIGNER-KEY
signed() {
  openssl cms -sign -in work/body.mime -binary -signer "$4" -inkey "$5" -out work/part
  { printf 'From: %s\nTo: %s\nSubject: signed\nDate: Mon, 01 Jun 2026 09:00:00 +0000\nMessage-ID: <%s@pki-hostile.example>\n' "$2" "$3" "$1"
    cat work/part; } | sed 's/\r$//' | sed 's/$/\r/' > "harvest/$1.eml"
}
signed mallory-names-alice mallory@evil.test bob@example.org harvest/mallory.pem keys/mallory.key
signed alice-sends-mallorys-cert alice@victim.org bob@example.org harvest/mallory.pem keys/mallory.key
signed sam-self-signed sam@example.org bob@example.org harvest/sam.pem keys/sam.key
signed enc-only-signer enc@example.org bob@example.org harvest/enc.pem keys/enc.key
signed gina-ca-issued gina@example.org bob@example.org leaves/good.pem keys/good.key

# --- encrypted mail for the audit --------------------------------------------------------------
# encrypted NAME FROM TO RECIPIENT-CERT...
encrypted() {
  local name=$1 from=$2 to=$3; shift 3
  openssl cms -encrypt -in work/body.mime -binary -aes128 -out work/part "$@"
  { printf 'From: %s\nTo: %s\nSubject: encrypted\nDate: Mon, 01 Jun 2026 10:00:00 +0000\nMessage-ID: <%s@pki-hostile.example>\n' "$from" "$to" "$name"
    cat work/part; } | sed 's/\r$//' | sed 's/$/\r/' > "mail/$name.eml"
}
# To sam, whose only certificate is the self-signed one harvested from his mail.
encrypted to-sam gina@example.org sam@example.org harvest/sam.pem leaves/good.pem
# To a certificate whose chain holds a SHA-1 signature (audit --trust, with and without --allow-sha1).
encrypted to-sha1-chain gina@example.org shan@example.org leaves/sha1-ca-leaf.pem leaves/good.pem

rm -rf work
echo "generated: $(ls ca | wc -l) CAs, $(ls leaves | wc -l) leaves, $(ls harvest/*.eml | wc -l) signed and $(ls mail | wc -l) encrypted messages"
