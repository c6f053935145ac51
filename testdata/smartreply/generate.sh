#!/usr/bin/env bash
# Regenerates the SmartReply fixtures in testdata/smartreply. Output is committed; tests never
# run this. See README.md for what each fixture is.
#
#   bash testdata/smartreply/generate.sh        (needs openssl 3.x, perl, base64, xxd)
#
# How the mangling happened (iOS 5 + Exchange 2010): the iPhone built the encrypted reply as one
# application/pkcs7-mime entity (client-smartreply-request.eml) and submitted it with ActiveSync
# Cmd=SmartReply instead of Cmd=SendMail. For SmartReply the server rebuilds the MIME: the
# client's readable text parts become the new body (there are none, so it is empty), every other
# part is attached again (the smime.p7m), and the original message is appended (as quoted text
# below an Outlook header block, or attached). The sr-*.eml fixtures are those server outputs;
# the neg-*.eml fixtures are the cases that must NOT be reported.
#
# Encryption is real (openssl cms, to bob and alice of testdata/certs/store), so the same files
# serve the CMS and audit tests. Keys are random on every run: re-running changes the base64,
# not the structure the *.expected.json files describe.
set -euo pipefail
cd "$(dirname "$0")"
CERTS=../certs
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# LF text on stdin → CRLF (messages travel with CRLF line ends).
crlf() { sed 's/\r*$/\r/'; }
# Quoted-printable (RFC 2045 §6.7): '=', 8-bit bytes and a trailing blank become =XX; lines
# longer than 76 characters get soft line breaks.
qp() {
    perl -ne 'chomp; s/([=\x80-\xff])/sprintf("=%02X", ord($1))/ge;
        s/([ \t])$/sprintf("=%02X", ord($1))/e;
        while (length($_) > 75) {
            my $n = 73;
            $n-- while $n > 0 && substr($_, 0, $n) =~ /=[0-9A-F]?$/;
            print substr($_, 0, $n), "=\n";
            $_ = substr($_, $n);
        }
        print "$_\n";'
}
# DER file → base64 lines of 76 characters, CRLF.
b64() { base64 -w 76 "$1" | crlf; }

# DER header for tag $1 (hex) around content of length $2, as raw bytes on stdout.
der_header() {
    local tag=$1 len=$2
    if ((len < 128)); then
        printf "%02x%02x" "0x$tag" "$len" | xxd -r -p
    elif ((len < 256)); then
        printf "%02x81%02x" "0x$tag" "$len" | xxd -r -p
    else
        printf "%02x82%04x" "0x$tag" "$len" | xxd -r -p
    fi
}
# Wraps file $2 in tag $1 into file $3.
der_wrap() { { der_header "$1" "$(stat -c %s "$2")"; cat "$2"; } >"$3"; }
# Copies the TLV at offset $2 (header length $3, content length $4) of DER file $1 to $5.
der_cut() { tail -c +$(($2 + 1)) "$1" | head -c $(($3 + $4)) >"$5"; }

# ---------------------------------------------------------------------------------------------
# The thread: Bob asks, Alice answers from her iPhone.

ORIG_ID='<0B5E7C1DA3F2D84B9E6A1C4F7D2E8B31@EXCH01.example.com>'
REPLY_ID='<5C2E9A7F-1B4D-4E3A-8F60-2D9B7C1E4A05@example.com>'
BOUNDARY_MIXED='_002_5C2E9A7F1B4D4E3A8F602D9B7C1E4A05examplecom_'
BOUNDARY_ALT='_000_5C2E9A7F1B4D4E3A8F602D9B7C1E4A05examplecom_'

cat >"$WORK/original-body.txt" <<'EOF'
Alice,

Can you send me the Q4 figures before Thursday's board meeting?

Thanks,
Bob
EOF

# Bob's original, as Exchange delivered it to Alice.
{
    cat <<EOF
From: Bob Example <bob@example.com>
To: Alice Example <alice@example.com>
Subject: Quarterly figures
Thread-Topic: Quarterly figures
Thread-Index: AczfOHKsRq3bWl0nQ4ytWgR6mF9kLA==
Date: Mon, 30 Jan 2012 09:12:44 +0000
Message-ID: $ORIG_ID
Accept-Language: en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
x-originating-ip: [10.0.0.17]
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

EOF
    cat "$WORK/original-body.txt"
} | crlf >"$WORK/original.eml"

# What Alice typed on the iPhone: iOS quotes the original below an attribution.
{
    cat <<'EOF'
Content-Type: text/plain;
	charset=us-ascii
Content-Transfer-Encoding: 7bit

Bob,

Here they are: revenue 4.2M, costs 3.1M, margin 26%. Details Thursday.

Alice

Sent from my iPhone

On Jan 30, 2012, at 9:12, "Bob Example" <bob@example.com> wrote:

EOF
    sed 's/^/> /' "$WORK/original-body.txt"
} | crlf >"$WORK/reply-entity.txt"

openssl cms -encrypt -aes-128-cbc -binary -outform DER -in "$WORK/reply-entity.txt" \
    -out "$WORK/reply.der" "$CERTS/store/bob.pem" "$CERTS/store/alice.pem"
openssl cms -encrypt -aes-256-gcm -binary -outform DER -in "$WORK/reply-entity.txt" \
    -out "$WORK/reply-gcm.der" "$CERTS/store/bob.pem" "$CERTS/store/alice.pem"

# An EnvelopedData without encryptedContent (RFC 5652 §6.1: it is OPTIONAL, "detached"): rebuild
# the DER from the real one, keeping version, recipientInfos, contentType and algorithm.
cut_empty_envelope() {
    local der=$1 out=$2 row off d hl l eci_off
    local -a rows d3=() d4=()
    # "offset depth header-length length" for every TLV.
    mapfile -t rows < <(openssl asn1parse -inform DER -in "$der" |
        sed -E 's/^ *([0-9]+):d=([0-9]+) +hl=([0-9]+) +l= *([0-9]+).*/\1 \2 \3 \4/')
    # EnvelopedData's children (depth 3): version, recipientInfos, encryptedContentInfo.
    for row in "${rows[@]}"; do
        read -r off d hl l <<<"$row"
        if [[ $d == 3 ]]; then d3+=("$row"); fi
    done
    read -r eci_off _ <<<"${d3[2]}"
    # encryptedContentInfo's children (depth 4, after it starts): contentType, algorithm, [0].
    for row in "${rows[@]}"; do
        read -r off d hl l <<<"$row"
        if [[ $d == 4 ]] && ((off > eci_off)); then d4+=("$row"); fi
    done
    : >"$WORK/eci-body"
    for row in "${d4[0]}" "${d4[1]}"; do
        read -r off d hl l <<<"$row"
        der_cut "$der" "$off" "$hl" "$l" "$WORK/piece"
        cat "$WORK/piece" >>"$WORK/eci-body"
    done
    : >"$WORK/ed-body"
    for row in "${d3[0]}" "${d3[1]}"; do
        read -r off d hl l <<<"$row"
        der_cut "$der" "$off" "$hl" "$l" "$WORK/piece"
        cat "$WORK/piece" >>"$WORK/ed-body"
    done
    der_wrap 30 "$WORK/eci-body" "$WORK/eci"
    cat "$WORK/eci" >>"$WORK/ed-body"
    der_wrap 30 "$WORK/ed-body" "$WORK/ed"
    der_wrap a0 "$WORK/ed" "$WORK/explicit"
    # ContentInfo { id-envelopedData, [0] EXPLICIT EnvelopedData }
    printf '06092a864886f70d010703' | xxd -r -p >"$WORK/ci-body"
    cat "$WORK/explicit" >>"$WORK/ci-body"
    der_wrap 30 "$WORK/ci-body" "$out"
    # Sanity: it parses, and no [0] content remains under encryptedContentInfo.
    if openssl asn1parse -inform DER -in "$out" | grep -q 'd=4.*cont \[ 0 \]'; then
        echo "empty envelope still has encryptedContent" >&2
        exit 1
    fi
}
cut_empty_envelope "$WORK/reply.der" "$WORK/empty.der"

# ---------------------------------------------------------------------------------------------
# Building blocks.

# Headers Exchange 2010 writes on the message it rebuilt for SmartReply, up to (not including)
# Content-Type. $1 = Subject, $2 = "reply" (In-Reply-To/References) or "none".
exchange_headers() {
    cat <<EOF
Received: from EXCH01.example.com ([fe80::5efe:10.0.0.5]) by EXCH01.example.com
 ([fe80::5efe:10.0.0.5%11]) with mapi id 14.01.0355.002; Mon, 30 Jan 2012
 09:20:05 +0000
From: Alice Example <alice@example.com>
To: Bob Example <bob@example.com>
Subject: $1
Thread-Topic: Quarterly figures
Thread-Index: AczfOHKsRq3bWl0nQ4ytWgR6mF9kLAAAL4Qw
Date: Mon, 30 Jan 2012 09:20:03 +0000
Message-ID: $REPLY_ID
EOF
    if [[ $2 == reply ]]; then
        echo "References: $ORIG_ID"
        echo "In-Reply-To: $ORIG_ID"
    fi
    cat <<EOF
Accept-Language: en-US
Content-Language: en-US
X-MS-Has-Attach: yes
X-MS-Exchange-Organization-SCL: -1
X-MS-TNEF-Correlator:
X-MS-Exchange-Organization-AuthAs: Internal
X-MS-Exchange-Organization-AuthMechanism: 04
X-MS-Exchange-Organization-AuthSource: EXCH01.example.com
x-originating-ip: [10.0.0.42]
EOF
}

# The smime.p7m attachment as Exchange re-attaches it. $1 = DER file, $2 = Content-Type value,
# $3 = file name.
p7m_part() {
    local size
    size=$(stat -c %s "$1")
    cat <<EOF
Content-Type: $2
Content-Description: $3
Content-Disposition: attachment; filename="$3"; size=$size;
	creation-date="Mon, 30 Jan 2012 09:20:03 GMT";
	modification-date="Mon, 30 Jan 2012 09:20:03 GMT"
Content-Transfer-Encoding: base64

EOF
    base64 -w 76 "$1"
}
P7M_TYPE='application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'

# A text part (quoted-printable, as Exchange writes it). $1 = charset, body on stdin.
text_part() {
    printf 'Content-Type: text/plain; charset="%s"\nContent-Transfer-Encoding: quoted-printable\n\n' "$1"
    qp
}
html_part() {
    printf 'Content-Type: text/html; charset="%s"\nContent-Transfer-Encoding: quoted-printable\n\n' "$1"
    qp
}

# The Outlook header block Exchange writes above an appended original.
outlook_block() {
    cat <<'EOF'
-----Original Message-----
From: Bob Example [mailto:bob@example.com]
Sent: Monday, January 30, 2012 9:12 AM
To: Alice Example
Subject: Quarterly figures
EOF
}

# The empty HTML body Exchange generates (Outlook Web App style skeleton). $1 = inner HTML.
html_skeleton() {
    cat <<EOF
<html dir="ltr">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css" id="owaParaStyle">P {margin-top:0;margin-bottom:0;}</style>
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]-->
</head>
<body fpstyle="1" ocsi="0">
<div style="direction: ltr;font-family: Tahoma;color: #000000;font-size: 10pt;">
$1
</div>
</body>
</html>
EOF
}

# multipart/mixed around parts given as files. $1 = output, $2 = subject, $3 = reply|none,
# rest = part files.
mixed() {
    local out=$1 subject=$2 threading=$3
    shift 3
    {
        exchange_headers "$subject" "$threading"
        echo "Content-Type: multipart/mixed;"
        echo "	boundary=\"$BOUNDARY_MIXED\""
        echo "MIME-Version: 1.0"
        echo
        for part in "$@"; do
            echo "--$BOUNDARY_MIXED"
            cat "$part"
            echo
        done
        echo "--$BOUNDARY_MIXED--"
    } | crlf >"$out"
}

p7m_part "$WORK/reply.der" "$P7M_TYPE" smime.p7m >"$WORK/p7m"
p7m_part "$WORK/reply-gcm.der" \
    'application/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"' smime.p7m \
    >"$WORK/p7m-gcm"
p7m_part "$WORK/reply.der" 'application/octet-stream; name="smime.p7m"' smime.p7m \
    >"$WORK/p7m-octet"

# ---------------------------------------------------------------------------------------------
# The client's request: what the iPhone submitted (a correct top-level envelope).
{
    cat <<EOF
From: Alice Example <alice@example.com>
Content-Type: application/pkcs7-mime; name=smime.p7m; smime-type=enveloped-data
Content-Disposition: attachment; filename=smime.p7m
Content-Transfer-Encoding: base64
Subject: Re: Quarterly figures
X-Mailer: iPhone Mail (9A405)
Message-Id: $REPLY_ID
Date: Mon, 30 Jan 2012 09:20:03 +0000
In-Reply-To: $ORIG_ID
References: $ORIG_ID
To: Bob Example <bob@example.com>
Mime-Version: 1.0 (1.0)

EOF
    base64 -w 76 "$WORK/reply.der"
} | crlf >client-smartreply-request.eml

# (a) an empty text part + smime.p7m
: | text_part us-ascii >"$WORK/empty-text"
mixed sr-empty-text.eml "Re: Quarterly figures" reply "$WORK/empty-text" "$WORK/p7m"

# (b) a text part with only the quoted header block of the original
{ echo; echo; outlook_block; } | text_part us-ascii >"$WORK/block-text"
mixed sr-quote-header-only.eml "RE: Quarterly figures" reply "$WORK/block-text" "$WORK/p7m"

# (c) HTML skeleton variants: alone, and in multipart/alternative with an empty text part
html_skeleton '<div><br></div><div>&nbsp;</div>' | html_part utf-8 >"$WORK/skeleton-html"
mixed sr-html-skeleton.eml "RE: Quarterly figures" reply "$WORK/skeleton-html" "$WORK/p7m"
{
    echo "Content-Type: multipart/alternative;"
    echo "	boundary=\"$BOUNDARY_ALT\""
    echo
    echo "--$BOUNDARY_ALT"
    cat "$WORK/empty-text"
    echo
    echo "--$BOUNDARY_ALT"
    cat "$WORK/skeleton-html"
    echo
    echo "--$BOUNDARY_ALT--"
} >"$WORK/alternative-skeleton"
mixed sr-alternative-skeleton.eml "RE: Quarterly figures" reply \
    "$WORK/alternative-skeleton" "$WORK/p7m"

# (d) the original appended: as quoted text, as HTML, as message/rfc822
{ echo; echo; outlook_block; echo; cat "$WORK/original-body.txt"; } | text_part us-ascii \
    >"$WORK/appended-text"
mixed sr-original-appended-text.eml "RE: Quarterly figures" reply \
    "$WORK/appended-text" "$WORK/p7m"

html_skeleton '<div><br></div>
<div style="font-family: Times New Roman; color: #000000; font-size: 16px">
<hr tabindex="-1">
<div id="divRpF418243" style="direction: ltr;"><font face="Tahoma" size="2" color="#000000">
<b>From:</b> Bob Example<br>
<b>Sent:</b> Monday, January 30, 2012 9:12 AM<br>
<b>To:</b> Alice Example<br>
<b>Subject:</b> Quarterly figures<br>
</font><br>
</div>
<div></div>
<div>
<div class="PlainText">Alice,<br>
<br>
Can you send me the Q4 figures before Thursday&#39;s board meeting?<br>
<br>
Thanks,<br>
Bob</div>
</div>
</div>' | html_part utf-8 >"$WORK/appended-html"
mixed sr-original-appended-html.eml "RE: Quarterly figures" reply \
    "$WORK/appended-html" "$WORK/p7m"

{
    echo 'Content-Type: message/rfc822'
    echo 'Content-Disposition: attachment; filename="Quarterly figures.eml"'
    echo
    cat "$WORK/original.eml"
} >"$WORK/original-rfc822"
mixed sr-original-rfc822.eml "RE: Quarterly figures" reply \
    "$WORK/empty-text" "$WORK/p7m" "$WORK/original-rfc822"

# (e) forwards: English Outlook (FW:) and German Outlook (WG:) header blocks
mixed sr-forward-fw.eml "FW: Quarterly figures" none "$WORK/appended-text" "$WORK/p7m"
{
    echo
    echo
    cat <<'EOF'
-----Ursprüngliche Nachricht-----
Von: Bob Example [mailto:bob@example.com]
Gesendet: Montag, 30. Januar 2012 10:12
An: Alice Example
Betreff: Quartalszahlen

Alice,

kannst du mir die Zahlen für Q4 vor Donnerstag schicken?

Danke,
Bob
EOF
} | text_part utf-8 >"$WORK/appended-text-de"
mixed sr-forward-wg.eml "WG: Quartalszahlen" none "$WORK/appended-text-de" "$WORK/p7m"

# A German iOS reply whose text part kept only the attribution and the quoted original.
{
    echo
    echo "Am 30.01.2012 um 10:12 schrieb \"Bob Example\" <bob@example.com>:"
    echo
    echo "> Alice,"
    echo ">"
    echo "> kannst du mir die Zahlen für Q4 vor Donnerstag schicken?"
} | text_part utf-8 >"$WORK/attribution-de"
mixed sr-reply-aw-attribution.eml "AW: Quartalszahlen" reply "$WORK/attribution-de" "$WORK/p7m"

# The shape without any reply/forward marker is still reported.
mixed sr-no-reply-context.eml "Quarterly figures" none "$WORK/empty-text" "$WORK/p7m"

# AuthEnvelopedData (AES-GCM), and the p7m relabelled application/octet-stream.
mixed sr-authenveloped.eml "Re: Quarterly figures" reply "$WORK/empty-text" "$WORK/p7m-gcm"
mixed sr-octet-stream.eml "Re: Quarterly figures" reply "$WORK/empty-text" "$WORK/p7m-octet"

# A top-level envelope with no encrypted content.
{
    sed '/^Mime-Version/q' client-smartreply-request.eml | tr -d '\r'
    echo
    base64 -w 76 "$WORK/empty.der"
} | crlf >empty-envelope.eml

# ---------------------------------------------------------------------------------------------
# Negatives.

# A signed envelope: multipart/signed around the application/pkcs7-mime entity.
{
    cat <<'EOF'
Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"
Content-Disposition: attachment; filename="smime.p7m"
Content-Transfer-Encoding: base64

EOF
    base64 -w 76 "$WORK/reply.der"
} | crlf >"$WORK/envelope-entity"
# Signs $1 (a MIME entity) as alice; prints the multipart/signed body with its Content-Type.
sign_entity() {
    openssl cms -sign -in "$1" -signer "$CERTS/store/alice.pem" \
        -inkey "$CERTS/keys/alice.key" -md sha256 -out "$WORK/signed.txt"
    # openssl writes "MIME-Version" and the Content-Type first; keep all but its MIME-Version.
    grep -v '^MIME-Version:' "$WORK/signed.txt" | tr -d '\r'
}
signed_message() {
    local out=$1 subject=$2 entity=$3
    {
        exchange_headers "$subject" reply
        echo "MIME-Version: 1.0"
        sign_entity "$entity"
    } | crlf >"$out"
}
signed_message neg-signed-envelope.eml "RE: Quarterly figures" "$WORK/envelope-entity"

{
    cat <<'EOF'
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Bob,

Here they are: revenue 4.2M, costs 3.1M, margin 26%. Details Thursday.

Alice
EOF
} | crlf >"$WORK/text-entity"
signed_message neg-signed-only.eml "RE: Quarterly figures" "$WORK/text-entity"

# A deliberate encrypted attachment below a written body.
cat <<'EOF' | text_part us-ascii >"$WORK/written-text"
Bob,

See the attached encrypted file for the Q4 figures; it opens with your
certificate.

Alice
EOF
p7m_part "$WORK/reply.der" \
    'application/pkcs7-mime; smime-type=enveloped-data; name="q4-figures.p7m"' q4-figures.p7m \
    >"$WORK/p7m-deliberate"
mixed neg-deliberate-attachment.eml "Q4 figures" none "$WORK/written-text" "$WORK/p7m-deliberate"

# A forwarded S/MIME message: the envelope belongs to the attached message, not to this one.
{
    echo 'Content-Type: message/rfc822'
    echo 'Content-Disposition: attachment; filename="Re Quarterly figures.eml"'
    echo
    tr -d '\r' <client-smartreply-request.eml
} >"$WORK/forwarded-smime"
mixed neg-forwarded-smime.eml "Fw: Re: Quarterly figures" none \
    "$WORK/empty-text" "$WORK/forwarded-smime"

# Two encrypted alternatives and no plain body: a client that encrypted the text and the HTML
# representation of the reply each on its own. Not the SmartReply shape: either alternative is
# the message, so their RecipientInfos decide who can read it, and there is no blank body.
{
    printf 'Content-Type: text/html; charset=us-ascii\n\n'
    printf '<p>Bob,</p><p>Here they are: revenue 4.2M, costs 3.1M, margin 26%%.</p><p>Alice</p>\n'
} | crlf >"$WORK/reply-entity.html"
openssl cms -encrypt -aes-128-cbc -binary -outform DER -in "$WORK/reply-entity.html" \
    -out "$WORK/reply-html.der" "$CERTS/store/bob.pem" "$CERTS/store/alice.pem"
BOUNDARY_ENC_ALT='enc-alt-7f3b2c'
{
    cat <<EOF
From: Alice Example <alice@example.com>
To: Bob Example <bob@example.com>
Subject: Re: Quarterly figures
Date: Mon, 30 Jan 2012 09:20:03 +0000
Message-ID: <enc-alternatives@example.com>
In-Reply-To: $ORIG_ID
References: $ORIG_ID
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="$BOUNDARY_ENC_ALT"

EOF
    for der in "$WORK/reply.der" "$WORK/reply-html.der"; do
        echo "--$BOUNDARY_ENC_ALT"
        echo "Content-Type: $P7M_TYPE"
        echo 'Content-Disposition: attachment; filename="smime.p7m"'
        echo 'Content-Transfer-Encoding: base64'
        echo
        base64 -w 76 "$der"
    done
    echo "--$BOUNDARY_ENC_ALT--"
} | crlf >neg-alternative-envelopes.eml

echo "fixtures written to $(pwd)"
