#!/usr/bin/env bash
# Whole-process comparison on a Maildir corpus: cat, smime-lint audit (--jobs 1 and 2), a Python
# script with the standard email package and asn1crypto (scripts/py_audit.py), and
# `openssl cms -cmsout -print` run once per message whose top level is an S/MIME envelope.
#
#   cargo build --release
#   cargo run --release --example gen_corpus -- /tmp/corpus 2000 42
#   python3 -m venv /tmp/venv && /tmp/venv/bin/pip install asn1crypto
#   PYTHON=/tmp/venv/bin/python scripts/compare.sh /tmp/corpus/Maildir
#
# Environment: RUNS (default 3; the median is reported), SMIME_LINT (default
# target/release/smime-lint), CERTS (default testdata/certs/store), PYTHON (default python3),
# OPENSSL (default openssl), QUICK (1: only cat and smime-lint, no Python or openssl rows). Files
# are read from the page cache (warmed first). Prints one table
# and the load average before and after: on a shared machine, compare runs made under similar
# load only.
set -euo pipefail

MAILDIR=${1:?usage: scripts/compare.sh MAILDIR}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SMIME_LINT=${SMIME_LINT:-$ROOT/target/release/smime-lint}
CERTS=${CERTS:-$ROOT/testdata/certs/store}
PYTHON=${PYTHON:-python3}
OPENSSL=${OPENSSL:-openssl}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

find "$MAILDIR" -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print0 | sort -z > "$WORK/all"
# Messages whose top-level Content-Type is application/(x-)pkcs7-mime: what openssl reads as is.
"$PYTHON" - "$WORK/all" "$WORK/top" <<'EOF'
import re, sys
names = open(sys.argv[1], "rb").read().split(b"\0")
with open(sys.argv[2], "wb") as out:
    for name in filter(None, names):
        head = open(name, "rb").read(65536)
        head = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
        head = re.sub(rb"\r?\n[ \t]+", b" ", head)
        if re.search(rb"(?im)^content-type:\s*application/(x-)?pkcs7-mime", head):
            out.write(name + b"\0")
EOF

count() { tr -cd '\0' < "$1" | wc -c; }
bytes() { xargs -0 cat < "$1" | wc -c; }
N_ALL=$(count "$WORK/all"); B_ALL=$(bytes "$WORK/all")
N_TOP=$(count "$WORK/top"); B_TOP=$(bytes "$WORK/top")
xargs -0 cat < "$WORK/all" > /dev/null # warm the page cache

# median wall seconds of RUNS runs of "$@" (stdout discarded; exit status ignored: the audit
# exits 1 when it finds errors)
median() {
    local times=()
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s.%N)
        "$@" > /dev/null 2>&1 || true
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

run_cat() { xargs -0 cat < "$WORK/all" > /dev/null; }
run_lint() { "$SMIME_LINT" audit --certs "$CERTS" --format summary --progress never --jobs "$1" "$MAILDIR"; }
run_py() { "$PYTHON" "$ROOT/scripts/py_audit.py" "$MAILDIR"; }
run_openssl() { xargs -0 -n1 "$OPENSSL" cms -cmsout -print -in < "$WORK/top"; }

echo "corpus: $MAILDIR: $N_ALL messages, $B_ALL bytes ($N_TOP with an S/MIME top level, $B_TOP bytes)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
T_CAT=$(median run_cat)
T_J1=$(median run_lint 1)
T_J2=$(median run_lint 2)
if [ "${QUICK:-0}" = 1 ]; then
    T_PY=0; T_OSSL=0
else
    T_PY=$(median run_py)
    T_OSSL=$(median run_openssl)
fi
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo

"$PYTHON" - "$T_J2" <<EOF
import sys
ref = None
rows = [
    ("cat (all files)", $T_CAT, $N_ALL, $B_ALL),
    ("smime-lint audit --jobs 2", $T_J2, $N_ALL, $B_ALL),
    ("smime-lint audit --jobs 1", $T_J1, $N_ALL, $B_ALL),
    ("python email + asn1crypto", $T_PY, $N_ALL, $B_ALL),
    ("openssl cms -cmsout -print (per message, S/MIME top level only)", $T_OSSL, $N_TOP, $B_TOP),
]
lint_mbs = $B_ALL / 1e6 / $T_J2
lint_msgs = $N_ALL / $T_J2
print(f"{'tool':<66} {'wall s':>8} {'MB/s':>9} {'msg/s':>9} {'ratio':>8}")
for name, t, n, b in rows:
    if t == 0:
        continue
    mbs, msgs = b / 1e6 / t, n / t
    ratio = lint_mbs / mbs
    print(f"{name:<66} {t:>8.3f} {mbs:>9.1f} {msgs:>9.0f} {ratio:>8.2f}")
print()
print("ratio: smime-lint --jobs 2 MB/s divided by the tool's MB/s (above 1: smime-lint is faster)")
print(f"smime-lint (jobs 2) throughput / cat throughput: {lint_mbs / ($B_ALL / 1e6 / $T_CAT):.2f}")
EOF
