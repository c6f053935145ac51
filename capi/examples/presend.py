#!/usr/bin/env python3
"""presend.py: ask smime-lint, through its C ABI and ctypes, whether a message as built may go to
its envelope recipients, and what the compose decision for the same recipients would be.

    presend.py [-t UNIX_SECONDS] [--lib PATH] CERTS MESSAGE.eml RECIPIENT...

--lib is libsmime_lint.so (default: $SMIME_LINT_LIB, else the system's search path). -t fixes the
time (default: now). Exit status: 0 send it, 1 do not send it, 2 the check itself failed.
"""

import argparse
import ctypes
import json
import os
import sys

# The values of the enums in smime_lint.h.
ACTIONS = {0: "accept", 1: "split", 2: "tempfail", 3: "reject"}
DECISIONS = {0: "encrypt", 1: "plaintext", 2: "refuse", 3: "downgrade"}
STATUS_OK = 0
INTENT_AUTO = 0
ON_PARTIAL_REFUSE = 0


class Error(Exception):
    pass


class SmimeLint:
    """The few calls this example needs, with their C signatures declared."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        c_str, c_size, c_void = ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p
        str_array = ctypes.POINTER(ctypes.c_char_p)
        handle_out = ctypes.POINTER(ctypes.c_void_p)
        signatures = {
            "smime_lint_last_error": ([], c_str),
            "smime_lint_status_name": ([ctypes.c_int32], c_str),
            "smime_lint_now": ([], ctypes.c_int64),
            "smime_lint_store_new": ([], c_void),
            "smime_lint_store_free": ([c_void], None),
            "smime_lint_store_load_path": ([c_void, c_str, ctypes.POINTER(c_size)], ctypes.c_int),
            "smime_lint_presend": (
                [c_void, c_str, c_size, c_str, str_array, c_size, ctypes.c_int64, str_array,
                 c_size, handle_out],
                ctypes.c_int,
            ),
            "smime_lint_verdict_action": ([c_void], ctypes.c_int),
            "smime_lint_verdict_json": ([c_void], c_str),
            "smime_lint_verdict_free": ([c_void], None),
            "smime_lint_compose": (
                [c_void, c_str, str_array, c_size, str_array, c_size, str_array, c_size,
                 ctypes.c_int64, ctypes.c_uint32, ctypes.c_uint32, handle_out],
                ctypes.c_int,
            ),
            "smime_lint_compose_decision": ([c_void], ctypes.c_int),
            "smime_lint_compose_json": ([c_void], c_str),
            "smime_lint_compose_free": ([c_void], None),
        }
        for name, (args, result) in signatures.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, result
        self.lib = lib

    def check(self, status, what):
        if status != STATUS_OK:
            name = self.lib.smime_lint_status_name(status).decode()
            message = (self.lib.smime_lint_last_error() or b"").decode()
            raise Error(f"{what}: {name}: {message}")

    @staticmethod
    def strings(items):
        encoded = [s.encode() for s in items]
        return (ctypes.c_char_p * len(encoded))(*encoded), len(encoded)

    def presend(self, store, message, recipients, at):
        rcpt, n = self.strings(recipients)
        verdict = ctypes.c_void_p()
        self.check(
            self.lib.smime_lint_presend(store, message, len(message), None, rcpt, n, at, None, 0,
                                        ctypes.byref(verdict)),
            "presend",
        )
        try:
            # The JSON string belongs to the verdict: copy it (ctypes does) before freeing.
            action = ACTIONS[self.lib.smime_lint_verdict_action(verdict)]
            return action, json.loads(self.lib.smime_lint_verdict_json(verdict))
        finally:
            self.lib.smime_lint_verdict_free(verdict)

    def compose(self, store, to, at):
        rcpt, n = self.strings(to)
        decision = ctypes.c_void_p()
        self.check(
            self.lib.smime_lint_compose(store, None, rcpt, n, None, 0, None, 0, at, INTENT_AUTO,
                                        ON_PARTIAL_REFUSE, ctypes.byref(decision)),
            "compose",
        )
        try:
            return (DECISIONS[self.lib.smime_lint_compose_decision(decision)],
                    json.loads(self.lib.smime_lint_compose_json(decision)))
        finally:
            self.lib.smime_lint_compose_free(decision)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-t", type=int, help="time, Unix seconds (default: now)")
    parser.add_argument("--lib", default=os.environ.get("SMIME_LINT_LIB", "libsmime_lint.so"))
    parser.add_argument("certs")
    parser.add_argument("message")
    parser.add_argument("recipients", nargs="+")
    args = parser.parse_args()

    lint = SmimeLint(args.lib)
    at = args.t if args.t is not None else lint.lib.smime_lint_now()
    with open(args.message, "rb") as f:
        message = f.read()
    store = lint.lib.smime_lint_store_new()
    try:
        lint.check(lint.lib.smime_lint_store_load_path(store, args.certs.encode(), None),
                   args.certs)
        action, verdict = lint.presend(store, message, args.recipients, at)
        decision, composed = lint.compose(store, args.recipients, at)
    except Error as e:
        print(f"presend.py: {e}", file=sys.stderr)
        return 2
    finally:
        lint.lib.smime_lint_store_free(store)

    print(f"verdict: {action}")
    for r in verdict["recipients"]:
        if r["rule"]:
            print(f"  {r['recipient']}: CANNOT decrypt ({r['rule']}): {r['reason']}")
        elif r["can_decrypt"]:
            print(f"  {r['recipient']}: can decrypt")
        else:
            print(f"  {r['recipient']}")
    if verdict["reply"]:
        reply = verdict["reply"]
        print(f"reply: {reply['code']} {reply['enhanced']}")
        for line in reply["lines"]:
            print(f"  {line}")
    lacking = [r["address"] for r in composed["recipients"] if not r["encryptable"]]
    print(f"a new message to them: {decision}"
          + (f" ({', '.join(lacking)} cannot decrypt)" if lacking else ""))
    return 0 if action == "accept" else 1


if __name__ == "__main__":
    sys.exit(main())
