/*
 * presend: ask smime-lint whether a message, as built, may go to its envelope recipients.
 * What a mail client does in its send path, just before handing the message to SMTP.
 *
 *   presend [-t UNIX_SECONDS] CERTS MESSAGE.eml RECIPIENT...
 *
 * CERTS is a certificate file or folder; RECIPIENT is every envelope recipient (To, Cc and
 * Bcc). -t fixes the time (default: now). Exit status: 0 send it, 1 do not send it (the
 * reason is printed), 2 the check itself failed.
 *
 * Build (from the repository root, after `cargo build -p smime-lint-capi`):
 *   cc -Icapi/include capi/examples/presend.c -Ltarget/debug -lsmime_lint \
 *      -Wl,-rpath,"$PWD/target/debug" -o presend
 */
#include "smime_lint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file; NULL (with errno set) on failure. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 64 * 1024, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) { free(buf); buf = NULL; break; }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) { free(buf); errno = EIO; return NULL; }
    *len = n;
    return buf;
}

static int fail(const char *what, SmimeLintStatus status) {
    const char *message = smime_lint_last_error();
    fprintf(stderr, "presend: %s: %s: %s\n", what, smime_lint_status_name(status),
            message != NULL ? message : "(no message)");
    return 2;
}

static const char *action_name(SmimeLintAction action) {
    switch (action) {
    case SMIME_LINT_ACTION_ACCEPT: return "accept";
    case SMIME_LINT_ACTION_SPLIT: return "split";
    case SMIME_LINT_ACTION_TEMPFAIL: return "tempfail";
    case SMIME_LINT_ACTION_REJECT: return "reject";
    }
    return "unknown";
}

int main(int argc, char **argv) {
    int64_t at = smime_lint_now();
    int arg = 1;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        at = strtoll(argv[2], NULL, 10);
        arg = 3;
    }
    if (argc - arg < 3) {
        fprintf(stderr, "usage: presend [-t UNIX_SECONDS] CERTS MESSAGE.eml RECIPIENT...\n");
        return 2;
    }
    const char *certs = argv[arg], *path = argv[arg + 1];
    const char *const *recipients = (const char *const *)&argv[arg + 2];
    size_t recipient_count = (size_t)(argc - arg - 2);

    size_t message_len = 0;
    unsigned char *message = read_file(path, &message_len);
    if (message == NULL) {
        fprintf(stderr, "presend: %s: %s\n", path, strerror(errno));
        return 2;
    }

    /* A client loads its store once and keeps it; it may share it between threads. */
    SmimeLintStore *store = smime_lint_store_new();
    size_t added = 0;
    SmimeLintStatus status = smime_lint_store_load_path(store, certs, &added);
    if (status != SMIME_LINT_STATUS_OK) {
        free(message);
        smime_lint_store_free(store);
        return fail(certs, status);
    }

    SmimeLintVerdict *verdict = NULL;
    status = smime_lint_presend(store, message, message_len, NULL, recipients, recipient_count,
                                at, NULL, 0, &verdict);
    /* The verdict holds its own copies: the message and the store can go now. */
    free(message);
    smime_lint_store_free(store);
    if (status != SMIME_LINT_STATUS_OK) return fail("presend", status);

    SmimeLintAction action = smime_lint_verdict_action(verdict);
    printf("verdict: %s\n", action_name(action));
    size_t count = smime_lint_verdict_recipient_count(verdict);
    for (size_t i = 0; i < count; i++) {
        SmimeLintVerdictRecipient r;
        if (smime_lint_verdict_recipient(verdict, i, &r) != SMIME_LINT_STATUS_OK) continue;
        const char *can = r.can_decrypt == SMIME_LINT_CAN_DECRYPT_YES  ? "can decrypt"
                          : r.can_decrypt == SMIME_LINT_CAN_DECRYPT_NO ? "CANNOT decrypt"
                                                                       : "not encrypted to";
        if (r.rule != NULL)
            printf("  %s: %s (%s): %s\n", r.recipient, can, r.rule, r.reason);
        else if (r.can_decrypt == SMIME_LINT_CAN_DECRYPT_UNKNOWN)
            printf("  %s\n", r.recipient);
        else
            printf("  %s: %s\n", r.recipient, can);
    }
    const char *reply = smime_lint_verdict_reply(verdict);
    if (reply != NULL) printf("reply:\n%s\n", reply);

    int exit_code = action == SMIME_LINT_ACTION_ACCEPT ? 0 : 1;
    smime_lint_verdict_free(verdict);
    return exit_code;
}
