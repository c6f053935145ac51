//! Does a certificate chain to a trust anchor? Path building and validation, simplified from
//! RFC 5280 §6 for what S/MIME recipients need.
//!
//! From the leaf upwards, an issuer candidate is any intermediate or anchor whose subject equals
//! the child's issuer as a Name (RFC 5280 §7.1 comparison, [`NameKey`]) and, when the child has
//! an authorityKeyIdentifier and the candidate a subjectKeyIdentifier, whose key identifiers
//! match (RFC 5280 §4.2.1.1; this is what tells two CA generations with one name apart). A
//! candidate is accepted when
//!
//! * the child's signature verifies with the candidate's key ([`verify_signature`]), and is not
//!   made with MD2, MD4 or MD5 (never accepted);
//! * basicConstraints says `cA` TRUE (§4.2.1.9), keyUsage (when present) has keyCertSign
//!   (§4.2.1.3), and pathLenConstraint (when present) allows the intermediates below it,
//! * it has no critical extension this crate does not understand (§4.2; see
//!   [`UNDERSTOOD_EXTENSIONS`](crate::cert::UNDERSTOOD_EXTENSIONS)),
//! * its extendedKeyUsage, when present, lists emailProtection or anyExtendedKeyUsage: a CA
//!   restricted to other purposes may not issue S/MIME certificates (CA/Browser Forum S/MIME
//!   BR §7.1.2.2; RFC 5280 leaves EKU on CAs to the application),
//! * its name constraints (§4.2.1.10, RFC 9598 §6) hold for every certificate below it
//!   (see the `constraints` module: mailboxes, directory names, DNS names, IP addresses and
//!   URIs are checked; a constrained form that is not implemented fails closed),
//! * its public key is not already on the path (no loops), and
//! * the path holds at most [`MAX_DEPTH`] certificates above the leaf.
//!
//! Anchors are held to the same CA rules as intermediates (as OpenSSL does): an anchor with
//! name constraints constrains, one with an unknown critical extension does not anchor.
//!
//! The path ends at an anchor. Every certificate on it must be valid at the evaluation time,
//! and the [`Policy`] must accept its algorithms: no SHA-1 signature on the path unless
//! [`Policy::allow_sha1_signatures`], and no CA key (intermediates and the anchor) below the
//! policy's minimum RSA or EC size. Not checked: revocation, and certificate policies (any
//! policy is accepted; policyConstraints, policyMappings and inhibitAnyPolicy marked critical
//! make the certificate fail as unknown critical extensions).
//!
//! Signature checks are slow (tens of µs for RSA) and do not depend on the time, so path
//! building yields a [`ChainOutcome`] — the signature-verified paths with each element's validity
//! period — that callers may cache and re-check cheaply for any time ([`ChainOutcome::check`]).

use crate::cert::{Certificate, KeyKind, Provenance};
use crate::name::NameKey;
use crate::signature::{signature_hash, verify_signature, SignatureHash};
use crate::time::Time;
use crate::usable::Policy;
use der::Encode;

/// Most certificates a path may hold above the leaf (intermediates plus the anchor).
pub const MAX_DEPTH: usize = 8;
/// Paths kept per leaf: one valid path is enough, a few cover validity-time differences. Paths
/// the default [`Policy`] would refuse (a SHA-1 link, a small CA key) do not count, so a
/// cross-signed SHA-1 path found first does not hide a SHA-256 one; the verification budget
/// still bounds the search.
const MAX_PATHS: usize = 4;
/// Signature verifications one path search may spend (many CAs sharing a name cannot make the
/// search exponential).
const MAX_VERIFICATIONS: u32 = 64;
/// Failure details kept for the message.
const MAX_FAILURES: usize = 3;

/// An issuer candidate: a certificate from the intermediates or the anchors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Issuer<'a> {
    pub cert: &'a Certificate,
    pub anchor: bool,
}

/// One certificate above the leaf on a verified path: what is needed to re-check time and
/// policy.
#[derive(Clone, Debug)]
struct Element {
    subject: String,
    /// `intermediate "…"` or `trust anchor "…"`, for messages.
    role: String,
    not_before: Time,
    not_after: Time,
    /// The key that signed the certificate below it.
    key: KeyKind,
}

/// A signature-verified path: the certificates above the leaf, nearest first (empty: the leaf
/// is an anchor), and the certificates on it whose signature uses SHA-1.
#[derive(Clone, Debug, Default)]
struct Path {
    elements: Vec<Element>,
    /// Roles (`certificate "…"`, `intermediate "…"`) of the certificates signed with SHA-1.
    sha1_signed: Vec<String>,
}

impl Path {
    /// Acceptable under the default policy, whatever the time.
    fn is_clean(&self) -> bool {
        self.sha1_signed.is_empty()
            && self.elements.iter().all(|e| weak_ca_key(&e.key, &Policy::default()).is_none())
    }

    /// Why this path is not acceptable at `at` under `policy`, if it is not.
    fn problem(&self, at: Time, policy: &Policy) -> Option<String> {
        if let Some(e) = self.elements.iter().find(|e| at < e.not_before || at > e.not_after) {
            return Some(if at > e.not_after {
                format!("\"{}\" in the chain expired on {}", e.subject, e.not_after)
            } else {
                format!("\"{}\" in the chain is not valid before {}", e.subject, e.not_before)
            });
        }
        if let (false, Some(role)) = (policy.allow_sha1_signatures, self.sha1_signed.first()) {
            return Some(format!(
                "{role}: its signature uses SHA-1, which is refused (allowed only for old mail: audit --allow-sha1)"
            ));
        }
        self.elements
            .iter()
            .find_map(|e| weak_ca_key(&e.key, policy).map(|w| format!("{}: {w}", e.role)))
    }
}

/// RSA and EC CA keys are held to the same minimum as end entities' (RFC 8551 §2.3, CA/Browser
/// Forum S/MIME BR §6.1.5).
fn weak_ca_key(key: &KeyKind, policy: &Policy) -> Option<String> {
    match *key {
        KeyKind::Rsa { bits } if bits < policy.min_rsa_bits => Some(format!(
            "its {bits}-bit RSA key is below the {}-bit minimum for a CA",
            policy.min_rsa_bits
        )),
        KeyKind::Ec { bits, curve } if bits < policy.min_ec_bits => Some(format!(
            "its EC {curve} key is below the {}-bit minimum for a CA",
            policy.min_ec_bits
        )),
        _ => None,
    }
}

/// The time- and policy-independent result of path building for one leaf: the paths whose
/// signatures and constraints verified, or why none did.
#[derive(Clone, Debug, Default)]
pub struct ChainOutcome {
    paths: Vec<Path>,
    failures: Vec<String>,
}

impl ChainOutcome {
    /// `Ok` when one of the paths has every certificate above the leaf valid at `at` and its
    /// algorithms accepted by `policy`; else a human detail naming the certificate that failed.
    /// The leaf's own validity is not checked here.
    pub fn check(&self, at: Time, policy: &Policy) -> Result<(), String> {
        let mut first_problem = None;
        for path in &self.paths {
            match path.problem(at, policy) {
                None => return Ok(()),
                Some(problem) => {
                    first_problem.get_or_insert(problem);
                }
            }
        }
        if let Some(problem) = first_problem {
            return Err(problem);
        }
        if self.failures.is_empty() {
            Err("no path to a trust anchor".to_owned())
        } else {
            Err(self.failures.join("; "))
        }
    }

    fn fail(&mut self, detail: String) {
        if self.failures.len() < MAX_FAILURES && !self.failures.contains(&detail) {
            self.failures.push(detail);
        }
    }
}

/// Builds the signature-verified paths from `leaf` to an anchor. `issuers_of(child)` returns the
/// candidates whose subject equals the child's issuer Name; `leaf_is_anchor` ends the search at
/// once (an anchor trusts itself).
pub(crate) fn build_chains<'a>(
    leaf: &'a Certificate,
    leaf_is_anchor: bool,
    issuers_of: &dyn Fn(&Certificate) -> Vec<Issuer<'a>>,
) -> ChainOutcome {
    let mut outcome = ChainOutcome::default();
    if leaf_is_anchor {
        outcome.paths.push(Path::default());
        return outcome;
    }
    let mut search = Search { issuers_of, budget: MAX_VERIFICATIONS, outcome };
    let mut path = vec![leaf];
    search.extend(&mut path);
    search.outcome
}

struct Search<'a, 'f> {
    issuers_of: &'f dyn Fn(&Certificate) -> Vec<Issuer<'a>>,
    budget: u32,
    outcome: ChainOutcome,
}

impl<'a> Search<'a, '_> {
    /// Depth-first from the last certificate of `path`; depth is bounded by [`MAX_DEPTH`].
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) {
        let Some(&child) = path.last() else { return };
        if path.len() > MAX_DEPTH {
            self.outcome.fail(format!("no trust anchor within {MAX_DEPTH} certificates"));
            return;
        }
        let child_role = role(child, path.len() == 1, false);
        let child_x509 = match child.x509() {
            Ok(x509) => x509,
            Err(_) => {
                self.outcome.fail("a certificate on the path no longer decodes".to_owned());
                return;
            }
        };
        if let SignatureHash::Broken(hash) = signature_hash(&child_x509.signature_algorithm) {
            self.outcome
                .fail(format!("{child_role}: its signature uses {hash}, which is never accepted"));
            return;
        }
        let mut candidates = (self.issuers_of)(child);
        // Anchors first, and one copy of each certificate (the anchor copy when both exist).
        candidates.sort_by_key(|c| !c.anchor);
        let mut seen: Vec<&[u8; 32]> = Vec::new();
        candidates.retain(|c| {
            let fresh = !seen.contains(&c.cert.sha256());
            seen.push(c.cert.sha256());
            fresh
        });
        if candidates.is_empty() {
            self.outcome.fail(format!(
                "no certificate for the issuer \"{}\" of \"{}\" among the intermediates and trust anchors",
                child.issuer_display(),
                child.subject_display()
            ));
            return;
        }
        let mut key_id_matched = false;
        let mut tried = false;
        for candidate in candidates {
            let issuer = candidate.cert;
            if let (Some(aki), Some(ski)) =
                (child.authority_key_identifier(), issuer.subject_key_identifier())
            {
                if aki != ski {
                    continue;
                }
            }
            key_id_matched = true;
            let Ok(issuer_x509) = issuer.x509() else {
                self.outcome.fail("a certificate on the path no longer decodes".to_owned());
                continue;
            };
            let key = public_key_bits(issuer);
            if path.iter().any(|c| public_key_bits(c) == key) {
                continue; // a loop: this key already signed something below
            }
            tried = true;
            if let Err(detail) = may_issue(issuer, candidate.anchor, path) {
                self.outcome.fail(detail);
                continue;
            }
            if self.budget == 0 {
                self.outcome.fail("gave up: too many candidate issuers".to_owned());
                return;
            }
            self.budget -= 1;
            let verified = verify_signature(
                &issuer_x509.tbs_certificate.subject_public_key_info,
                &child_x509.signature_algorithm,
                None,
                child.tbs_der(),
                child_x509.signature.raw_bytes(),
            );
            if let Err(e) = verified {
                self.outcome.fail(format!(
                    "the signature on \"{}\" does not verify with the key of \"{}\" ({e})",
                    child.subject_display(),
                    issuer.subject_display()
                ));
                continue;
            }
            if candidate.anchor {
                let mut elements: Vec<Element> =
                    path.iter().skip(1).map(|c| element(c, false)).collect();
                elements.push(element(issuer, true));
                let sha1_signed = path
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        c.x509().is_ok_and(|x| {
                            signature_hash(&x.signature_algorithm) == SignatureHash::Sha1
                        })
                    })
                    .map(|(i, c)| role(c, i == 0, false))
                    .collect();
                self.outcome.paths.push(Path { elements, sha1_signed });
            } else {
                path.push(issuer);
                self.extend(path);
                path.pop();
            }
            if self.outcome.paths.iter().filter(|p| p.is_clean()).count() >= MAX_PATHS {
                return;
            }
        }
        if key_id_matched && !tried {
            // Every candidate is already on the path: the child is a self-signed root that is
            // not an anchor, or CAs certify each other in a circle that reaches no anchor.
            self.outcome.fail(if issuer_key(child) == subject_key(child) {
                format!("\"{}\" is self-signed and not a trust anchor", child.subject_display())
            } else {
                format!(
                    "the issuers of \"{}\" form a loop without a trust anchor",
                    child.subject_display()
                )
            });
        }
        if !key_id_matched {
            self.outcome.fail(format!(
                "no issuer \"{}\" with the key identifier {} that \"{}\" names",
                child.issuer_display(),
                hex::encode(child.authority_key_identifier().unwrap_or_default()),
                child.subject_display()
            ));
        }
    }
}

/// May `issuer` sign the certificates of `path` (the leaf first), as a CA for S/MIME? RFC 5280
/// §6.1.4 (k), (l), (n), §4.2 (critical extensions), extendedKeyUsage and name constraints (see
/// the module documentation).
fn may_issue(issuer: &Certificate, anchor: bool, path: &[&Certificate]) -> Result<(), String> {
    let below = path.len().saturating_sub(1);
    if !issuer.is_ca() {
        return Err(format!(
            "\"{}\" is not a CA (basicConstraints cA is not TRUE)",
            issuer.subject_display()
        ));
    }
    if issuer.key_usage().is_some_and(|ku| !ku.usage.key_cert_sign()) {
        return Err(format!(
            "\"{}\" may not sign certificates (keyUsage lacks keyCertSign)",
            issuer.subject_display()
        ));
    }
    if let Some(limit) = issuer.basic_constraints().and_then(|b| b.path_len_constraint) {
        if below > usize::from(limit) {
            return Err(format!(
                "\"{}\" allows at most {limit} intermediate certificates below it",
                issuer.subject_display()
            ));
        }
    }
    let role = role(issuer, false, anchor);
    if let Some(id) = issuer.unknown_critical_extensions().first() {
        return Err(format!(
            "{role}: its critical extension {id} is not understood, so it cannot be relied on to issue certificates"
        ));
    }
    if !issuer.eku_allows_email() {
        return Err(format!(
            "{role}: its extendedKeyUsage allows neither emailProtection nor anyExtendedKeyUsage, so it may not issue e-mail certificates"
        ));
    }
    crate::constraints::check(issuer, path).map_err(|why| format!("{role}: {why}"))
}

/// How messages name a certificate on the path.
fn role(cert: &Certificate, leaf: bool, anchor: bool) -> String {
    let what = if leaf {
        "certificate"
    } else if anchor {
        "trust anchor"
    } else {
        "intermediate"
    };
    format!("{what} \"{}\"", cert.subject_display())
}

fn element(cert: &Certificate, anchor: bool) -> Element {
    Element {
        subject: cert.subject_display(),
        role: role(cert, false, anchor),
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        key: cert.key().clone(),
    }
}

/// The subject of `cert` prepared for issuer lookup (`None`: it does not decode).
pub(crate) fn subject_key(cert: &Certificate) -> Option<NameKey> {
    cert.x509().ok().map(|x| NameKey::new(&x.tbs_certificate.subject))
}

/// The issuer of `cert` prepared for issuer lookup (`None`: it does not decode).
pub(crate) fn issuer_key(cert: &Certificate) -> Option<NameKey> {
    cert.x509().ok().map(|x| NameKey::new(&x.tbs_certificate.issuer))
}

/// The raw subject public key bits (to recognise the same key twice on a path).
fn public_key_bits(cert: &Certificate) -> Option<&[u8]> {
    cert.x509()
        .ok()
        .map(|x| x.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes())
}

/// Path building from a leaf through intermediates to an anchor (see the module docs): every
/// signature verified, every certificate (the leaf too) valid at `at`, issuers are CAs allowed
/// to issue S/MIME certificates under their constraints, algorithms and CA keys accepted by
/// `policy`, at most [`MAX_DEPTH`] certificates above the leaf, no loops.
///
/// `Err` carries a human detail, as [`Reason::Untrusted`](crate::Reason::Untrusted) shows it.
pub fn verify_chain(
    leaf: &x509_cert::Certificate,
    intermediates: &[&x509_cert::Certificate],
    anchors: &[&x509_cert::Certificate],
    at: Time,
    policy: &Policy,
) -> Result<(), String> {
    let parse = |x509: &x509_cert::Certificate| {
        let der = x509.to_der().map_err(|e| e.to_string())?;
        Certificate::from_der_vec(der, Provenance::Inline("chain".to_owned()))
            .map_err(|e| e.to_string())
    };
    let leaf = parse(leaf).map_err(|e| format!("the certificate cannot be read: {e}"))?;
    if at > leaf.not_after() {
        return Err(format!("\"{}\" expired on {}", leaf.subject_display(), leaf.not_after()));
    }
    if at < leaf.not_before() {
        return Err(format!(
            "\"{}\" is not valid before {}",
            leaf.subject_display(),
            leaf.not_before()
        ));
    }
    // Certificates that cannot be read cannot be issuers; they are left out.
    let pool: Vec<(Certificate, bool, NameKey)> = anchors
        .iter()
        .map(|c| (c, true))
        .chain(intermediates.iter().map(|c| (c, false)))
        .filter_map(|(c, anchor)| parse(c).ok().map(|cert| (cert, anchor)))
        .filter_map(|(cert, anchor)| {
            let key = subject_key(&cert)?;
            Some((cert, anchor, key))
        })
        .collect();
    let leaf_is_anchor = pool.iter().any(|(c, anchor, _)| *anchor && c.sha256() == leaf.sha256());
    let issuers_of = |child: &Certificate| {
        let wanted = issuer_key(child);
        pool.iter()
            .filter(|(_, _, key)| Some(key) == wanted.as_ref())
            .map(|(cert, anchor, _)| Issuer { cert, anchor: *anchor })
            .collect()
    };
    build_chains(&leaf, leaf_is_anchor, &issuers_of).check(at, policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use rstest::rstest;

    const AT: Time = Time::from_unix(1_780_272_000);

    fn x509(path: &str) -> x509_cert::Certificate {
        let pem = std::fs::read_to_string(format!("testdata/certs/{path}")).unwrap();
        let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
        x509_cert::Certificate::from_der(&der).unwrap()
    }

    fn verify(
        leaf: &str,
        intermediates: &[&str],
        anchors: &[&str],
        at: Time,
    ) -> Result<(), String> {
        let inter: Vec<_> = intermediates.iter().map(|p| x509(p)).collect();
        let anch: Vec<_> = anchors.iter().map(|p| x509(p)).collect();
        verify_chain(
            &x509(leaf),
            &inter.iter().collect::<Vec<_>>(),
            &anch.iter().collect::<Vec<_>>(),
            at,
            &Policy::default(),
        )
    }

    #[rstest]
    #[case::bob_via_intermediate("store/bob.pem", &["ca/intermediate.pem"], &["ca/root.pem"], true)]
    #[case::bob_with_both_generations("store/bob.pem", &["ca/intermediate-g2.pem", "ca/intermediate.pem"], &["ca/root.pem"], true)]
    #[case::bob_anchored_at_intermediate("store/bob.pem", &[], &["ca/intermediate.pem"], true)]
    #[case::bob_without_intermediate("store/bob.pem", &[], &["ca/root.pem"], false)]
    #[case::zoe_needs_g2("store/zoe-serial-clash.pem", &["ca/intermediate.pem"], &["ca/root.pem"], false)]
    #[case::zoe_via_g2("store/zoe-serial-clash.pem", &["ca/intermediate.pem", "ca/intermediate-g2.pem"], &["ca/root.pem"], true)]
    #[case::mallory_rogue("store/mallory-untrusted.pem", &["ca/intermediate.pem"], &["ca/root.pem"], false)]
    #[case::mallory_if_rogue_trusted("store/mallory-untrusted.pem", &[], &["ca/rogue.pem"], true)]
    #[case::root_is_its_own_anchor("ca/root.pem", &[], &["ca/root.pem"], true)]
    #[case::leaf_cannot_issue("store/bob.pem", &["store/alice.pem"], &["store/alice.pem"], false)]
    fn chains(
        #[case] leaf: &str,
        #[case] inter: &[&str],
        #[case] anchors: &[&str],
        #[case] ok: bool,
    ) {
        let result = verify(leaf, inter, anchors, AT);
        assert_eq!(result.is_ok(), ok, "{result:?}");
    }

    #[test]
    fn details_say_what_is_missing() {
        let err = verify("store/mallory-untrusted.pem", &[], &["ca/root.pem"], AT).unwrap_err();
        assert!(
            err.contains("no certificate for the issuer") && err.contains("CN=Rogue CA"),
            "{err}"
        );
        let err =
            verify("store/zoe-serial-clash.pem", &["ca/intermediate.pem"], &["ca/root.pem"], AT)
                .unwrap_err();
        assert!(err.contains("key identifier"), "{err}");
    }

    #[test]
    fn every_element_must_be_valid_at_the_time() {
        // 2061: the root and intermediate expired on 2060-01-01, bob too.
        let later = Time::from_unix(2_924_985_600);
        let err =
            verify("store/bob.pem", &["ca/intermediate.pem"], &["ca/root.pem"], later).unwrap_err();
        assert!(err.contains("expired"), "{err}");
        // Before 2020 nothing is valid yet.
        let err =
            verify("store/bob.pem", &["ca/intermediate.pem"], &["ca/root.pem"], Time::from_unix(0))
                .unwrap_err();
        assert!(err.contains("not valid before"), "{err}");
    }

    #[test]
    fn outcome_rechecks_issuer_times_only() {
        let leaf = Certificate::from_der(
            &x509("store/dave-expired.pem").to_der().unwrap(),
            Provenance::Inline("dave".into()),
        )
        .unwrap();
        let inter = Certificate::from_der(
            &x509("ca/intermediate.pem").to_der().unwrap(),
            Provenance::Inline("i".into()),
        )
        .unwrap();
        let root = Certificate::from_der(
            &x509("ca/root.pem").to_der().unwrap(),
            Provenance::Inline("r".into()),
        )
        .unwrap();
        let issuers_of = |_: &Certificate| {
            vec![Issuer { cert: &inter, anchor: false }, Issuer { cert: &root, anchor: true }]
        };
        let outcome = build_chains(&leaf, false, &issuers_of);
        // dave expired in 2021, but the chain above him is fine in 2026: expiry is not "untrusted".
        assert_eq!(outcome.check(AT, &Policy::default()), Ok(()));
        assert!(outcome.check(Time::from_unix(2_924_985_600), &Policy::default()).is_err());
    }
}
