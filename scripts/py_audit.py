#!/usr/bin/env python3
"""The core of `smime-lint audit`, written the way a Python user would: for every message of a
Maildir (or the files given), find the S/MIME parts with the standard `email` package, parse each
EnvelopedData / AuthEnvelopedData with asn1crypto, and print who each RecipientInfo names (issuer
and serial, or subjectKeyIdentifier). Opaque signed messages are opened and their content looked
into the same way, as smime-lint does.

It does not match the RecipientInfos against a certificate store or judge any rule: it is the
part of the audit that reads the mail, which is where the time goes.

    python3 scripts/py_audit.py /tmp/corpus/Maildir > out.txt

Needs asn1crypto (pip install asn1crypto).
"""

import email
import email.policy
import os
import sys

from asn1crypto import cms

SMIME_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
MAX_SIGNED_DEPTH = 4


def is_smime(part):
    ctype = part.get_content_type()
    if ctype in SMIME_TYPES:
        return True
    name = part.get_filename() or part.get_param("name") or ""
    return ctype == "application/octet-stream" and str(name).lower().endswith(".p7m")


def recipient_ids(env):
    for ri in env["recipient_infos"]:
        if ri.name == "ktri":
            rid = ri.chosen["rid"]
            if rid.name == "issuer_and_serial_number":
                yield "ktri issuer=%s serial=%x" % (
                    rid.chosen["issuer"].human_friendly,
                    rid.chosen["serial_number"].native,
                )
            else:
                yield "ktri ski=%s" % rid.chosen.native.hex()
        elif ri.name == "kari":
            for rek in ri.chosen["recipient_encrypted_keys"]:
                rid = rek["rid"]
                if rid.name == "issuer_and_serial_number":
                    yield "kari issuer=%s serial=%x" % (
                        rid.chosen["issuer"].human_friendly,
                        rid.chosen["serial_number"].native,
                    )
                else:
                    yield "kari rkeyid=%s" % rid.chosen["subject_key_identifier"].native.hex()
        else:
            yield ri.name


def inspect(blob, out, depth=0):
    info = cms.ContentInfo.load(blob)
    kind = info["content_type"].native
    if kind in ("enveloped_data", "authenticated_enveloped_data"):
        env = info["content"]
        eci = "auth_encrypted_content_info" if kind.startswith("auth") else "encrypted_content_info"
        cipher = env[eci]["content_encryption_algorithm"]["algorithm"].native
        out.append("  %s %s" % (kind, cipher))
        out.extend("    " + r for r in recipient_ids(env))
    elif kind == "signed_data":
        out.append("  signed_data")
        content = info["content"]["encap_content_info"]["content"]
        if content is not None and content.native and depth < MAX_SIGNED_DEPTH:
            walk(email.message_from_bytes(content.native), out, depth + 1)
    else:
        out.append("  " + str(kind))


def walk(msg, out, depth=0):
    for part in msg.walk():
        if part.is_multipart() or not is_smime(part):
            continue
        blob = part.get_payload(decode=True)
        try:
            inspect(blob, out, depth)
        except Exception as e:  # noqa: BLE001 - a malformed part is a finding, not a crash
            out.append("  malformed: %s" % type(e).__name__)


def files(args):
    for arg in args:
        if os.path.isdir(arg):
            for sub in ("cur", "new"):
                folder = os.path.join(arg, sub)
                if os.path.isdir(folder):
                    for name in sorted(os.listdir(folder)):
                        yield os.path.join(folder, name)
        else:
            yield arg


def main(args):
    write = sys.stdout.write
    for path in files(args):
        with open(path, "rb") as f:
            raw = f.read()
        out = [path]
        try:
            walk(email.message_from_bytes(raw), out)
        except Exception as e:  # noqa: BLE001
            out.append("  unreadable: %s" % type(e).__name__)
        write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
