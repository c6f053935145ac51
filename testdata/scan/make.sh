#!/bin/sh
# Regenerates the scan fixtures (tests/scan.rs): a Maildir with maildir++ subfolders, mbox files
# (mboxo, mboxrd, truncated), and a nested plain folder. Every message's Subject names it, so
# tests can check what was read and in which order. Run from this folder: sh make.sh
set -eu
cd "$(dirname "$0")"
rm -rf maildir folder links mboxo.mbox mboxrd.mbox truncated.mbox

# msg SUBJECT: a minimal message on stdout.
msg() {
    printf 'From: alice@example.com\nTo: bob@example.com\nSubject: %s\nMessage-ID: <%s@example.com>\n\nHello.\n' "$1" "$1"
}

# Maildir: cur/ then new/; tmp/ (being delivered) and the Maildir's own files are not messages.
mkdir -p maildir/cur maildir/new maildir/tmp
msg inbox-cur-1 > 'maildir/cur/1700000001.M1P1.host:2,S'
msg inbox-cur-2 > 'maildir/cur/1700000002.M2P2.host:2,RS'
msg inbox-new-1 > 'maildir/new/1700000000.M0P0.host'
msg inbox-tmp > 'maildir/tmp/1700000009.M9P9.host'
printf '3 V1700000000 N4\n' > maildir/dovecot-uidlist
# maildir++ subfolders, read after new/ in name order.
for sub in .Sent .Archive.2024; do
    mkdir -p "maildir/$sub/cur" "maildir/$sub/new" "maildir/$sub/tmp"
    : > "maildir/$sub/maildirfolder"
    : > "maildir/$sub/tmp/.keep"
done
msg sent-cur-1 > 'maildir/.Sent/cur/1700000100.M1P1.host:2,S'
msg sent-new-1 > 'maildir/.Sent/new/1700000101.M1P1.host'
msg archive-cur-1 > 'maildir/.Archive.2024/cur/1600000000.M1P1.host:2,S'
: > maildir/.Archive.2024/new/.keep

# mboxo: a body line starting "From " is stored as ">From ".
{
    printf 'From alice@example.com Sat Jan  3 01:05:34 2026\n'
    msg mboxo-1
    printf '>From the archive, quoted by the writer.\n\n'
    printf 'From bob@example.com Sat Jan  3 01:05:35 2026\n'
    msg mboxo-2
    printf '\n'
} > mboxo.mbox

# mboxrd: ">From " in the original is stored as ">>From ".
{
    printf 'From alice@example.com Sat Jan  3 01:05:34 2026\n'
    msg mboxrd-1
    printf '>From a quoted line.\n>>From an already quoted line.\n> From not a From line.\n\n'
    printf 'From bob@example.com Sat Jan  3 01:05:35 2026\n'
    msg mboxrd-2
    printf '\n'
} > mboxrd.mbox

# truncated: the second entry is cut in the middle of a line (an interrupted copy).
{
    printf 'From alice@example.com Sat Jan  3 01:05:34 2026\n'
    msg truncated-1
    printf '\nFrom bob@example.com Sat Jan  3 01:05:35 2026\n'
    msg truncated-2 | head -c 60
} > truncated.mbox

# A nested plain folder: sorted by name (bytes) in each folder, depth first; hidden files skipped;
# a file starting with "From " is an mbox whatever its name; other files are read as they are.
mkdir -p folder/a folder/z
msg folder-b > folder/b.eml
msg folder-a-2 > folder/a/2.eml
msg folder-a-10 > folder/a/10.eml
printf 'not mail at all\n' > folder/notes.txt
printf 'Finder metadata\n' > folder/.DS_Store
{
    printf 'From alice@example.com Sat Jan  3 01:05:34 2026\n'
    msg folder-z-inbox-1
    printf '\nFrom bob@example.com Sat Jan  3 01:05:35 2026\n'
    msg folder-z-inbox-2
} > folder/z/inbox

# Search results as mairix and notmuch write them: a Maildir whose messages are symbolic links to
# messages elsewhere, beside a link to a whole folder.
mkdir -p links/results/cur links/results/new links/results/tmp
: > links/results/new/.keep
: > links/results/tmp/.keep
ln -s '../../../maildir/cur/1700000001.M1P1.host:2,S' 'links/results/cur/1700000001.M1P1.host:2,S'
ln -s '../../../maildir/.Sent/cur/1700000100.M1P1.host:2,S' 'links/results/cur/1700000100.M1P1.host:2,S'
ln -s ../folder/a links/a
