//! Scenarios, their messages and the findings the audit should report for them.
//!
//! Every message is made from a [`Plan`] (who, what, which scenario) and its own random number
//! generator, seeded from the corpus seed and the message's index, so messages are independent:
//! the same seed gives the same bytes whatever the order or number of threads.

use crate::office;
use crate::people::{self, Cert, Person};
use crate::text;
use der::DecodePem;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rsa::pkcs8::DecodePrivateKey;
use smime_lint::build::{self, mime, BuildCipher, BuildRecipient, EnvelopeBuilder};
use smime_lint::Time;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The certificates and keys the generator uses, from testdata/certs.
pub struct Pki {
    certs: BTreeMap<&'static str, Certificate>,
    keys: BTreeMap<&'static str, rsa::RsaPrivateKey>,
    rogue: Certificate,
}

impl Pki {
    /// Loads the RSA certificates of [`people::RSA_CERT_STEMS`], the senders' private keys
    /// and the rogue CA (whose name the unknown RecipientInfos carry).
    pub fn load(certs_dir: &Path) -> Result<Pki, BoxError> {
        let read = |rel: String| -> Result<Vec<u8>, BoxError> {
            let path = certs_dir.join(&rel);
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()).into())
        };
        let mut certs = BTreeMap::new();
        for stem in people::RSA_CERT_STEMS {
            certs.insert(stem, Certificate::from_pem(read(format!("store/{stem}.pem"))?)?);
        }
        let mut keys = BTreeMap::new();
        for stem in ["alice", "bob"] {
            let pem = String::from_utf8(read(format!("keys/{stem}.key"))?)?;
            keys.insert(stem, rsa::RsaPrivateKey::from_pkcs8_pem(&pem)?);
        }
        let rogue = Certificate::from_pem(read("ca/rogue.pem".to_owned())?)?;
        Ok(Pki { certs, keys, rogue })
    }

    fn cert(&self, stem: &str) -> Result<&Certificate, BoxError> {
        self.certs.get(stem).ok_or_else(|| format!("no certificate {stem} loaded").into())
    }

    fn key(&self, stem: &str) -> Result<&rsa::RsaPrivateKey, BoxError> {
        self.keys.get(stem).ok_or_else(|| format!("no private key for {stem} loaded").into())
    }
}

/// What a message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Unencrypted mail to anyone.
    Plain,
    /// multipart/signed (application/pkcs7-signature), unencrypted.
    Signed,
    /// application/pkcs7-mime; smime-type=signed-data, unencrypted.
    SignedOpaque,
    /// AES-CBC EnvelopedData for the sender and every recipient (sometimes signed inside).
    EncryptedAll,
    /// AES-GCM AuthEnvelopedData for everyone.
    AuthEnveloped,
    /// EnvelopedData for everyone, BER with indefinite lengths (Thunderbird, openssl -stream).
    Ber,
    /// A Reply All encrypted only for the recipients with certificates (iOS 7.1 + Exchange).
    ReplyAllPartial,
    /// One envelope carrying a Bcc recipient's RecipientInfo to the To/Cc recipients.
    Bcc,
    /// Encrypted for the recipients but not the sender.
    NoSender,
    /// 3DES content encryption.
    Weak3des,
    /// Single-DES content encryption.
    WeakDes,
    /// Exchange SmartReply: empty body, envelope attached as smime.p7m, original attached.
    SmartReply,
    /// A top-level envelope without encrypted content.
    EmptyEnvelope,
    /// A RecipientInfo for a certificate that was unusable at the message's Date.
    UnusableCertificate,
    /// A RecipientInfo naming an issuer+serial no certificate in the store has.
    UnknownRecipientInfo,
    /// application/pkcs7-mime that is not a CMS structure (truncated or garbage).
    Malformed,
    /// A written body with an encrypted .p7m file attached.
    EncryptedAttachment,
    /// A file in the Maildir that is not mail.
    Unreadable,
}

impl Scenario {
    /// Every scenario with its share of a corpus, per mille.
    pub const MIX: [(Scenario, u32); 18] = [
        (Scenario::Plain, 335),
        (Scenario::Signed, 90),
        (Scenario::SignedOpaque, 30),
        (Scenario::EncryptedAll, 150),
        (Scenario::AuthEnveloped, 50),
        (Scenario::Ber, 60),
        (Scenario::ReplyAllPartial, 70),
        (Scenario::Bcc, 35),
        (Scenario::NoSender, 35),
        (Scenario::Weak3des, 25),
        (Scenario::WeakDes, 8),
        (Scenario::SmartReply, 25),
        (Scenario::EmptyEnvelope, 10),
        (Scenario::UnusableCertificate, 20),
        (Scenario::UnknownRecipientInfo, 20),
        (Scenario::Malformed, 12),
        (Scenario::EncryptedAttachment, 20),
        (Scenario::Unreadable, 5),
    ];

    /// The kebab-case name in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Plain => "plain",
            Scenario::Signed => "signed",
            Scenario::SignedOpaque => "signed-opaque",
            Scenario::EncryptedAll => "encrypted-all",
            Scenario::AuthEnveloped => "auth-enveloped",
            Scenario::Ber => "ber-indefinite",
            Scenario::ReplyAllPartial => "reply-all-partial",
            Scenario::Bcc => "bcc-disclosed",
            Scenario::NoSender => "no-sender",
            Scenario::Weak3des => "weak-3des",
            Scenario::WeakDes => "weak-des",
            Scenario::SmartReply => "smartreply-mangled",
            Scenario::EmptyEnvelope => "empty-envelope",
            Scenario::UnusableCertificate => "unusable-certificate",
            Scenario::UnknownRecipientInfo => "unknown-recipient-info",
            Scenario::Malformed => "malformed",
            Scenario::EncryptedAttachment => "encrypted-attachment",
            Scenario::Unreadable => "unreadable",
        }
    }

    /// Whether the message is an S/MIME envelope at the top level (or SmartReply-attached).
    fn encrypts(self) -> bool {
        !matches!(
            self,
            Scenario::Plain
                | Scenario::Signed
                | Scenario::SignedOpaque
                | Scenario::Malformed
                | Scenario::EncryptedAttachment
                | Scenario::Unreadable
        )
    }

    fn cipher<R: Rng>(self, rng: &mut R) -> BuildCipher {
        match self {
            Scenario::AuthEnveloped => BuildCipher::Aes128Gcm,
            Scenario::Weak3des => BuildCipher::DesEde3Cbc,
            Scenario::WeakDes => BuildCipher::DesCbc,
            _ if rng.gen_bool(0.3) => BuildCipher::Aes256Cbc,
            _ => BuildCipher::Aes128Cbc,
        }
    }
}

/// Which kind of corpus to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The classic mix: every S/MIME scenario in strength, 1 KB to 5 MB messages, plain-text
    /// bodies ([`Scenario::MIX`]).
    Mixed,
    /// Ordinary office sent items: mostly plain and signed, 10-100 KB with base64
    /// attachments, quoted-printable text and HTML, replies with quoted history
    /// ([`office`]).
    Office,
}

impl Profile {
    /// The scenario shares, per mille.
    pub fn mix(self) -> &'static [(Scenario, u32)] {
        match self {
            Profile::Mixed => &Scenario::MIX,
            Profile::Office => &office::MIX,
        }
    }
}

/// How the sender's content is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A plain-text body, perhaps one attachment ([`Plan::attachment`]).
    Classic,
    /// An office message of about this many bytes ([`office::content_entity`]).
    Office { size: usize },
}

/// One finding the audit should report.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub rule: &'static str,
    pub address: Option<String>,
}

impl Expected {
    fn new(rule: &'static str) -> Expected {
        Expected { rule, address: None }
    }

    fn about(rule: &'static str, person: &Person) -> Expected {
        Expected { rule, address: Some(person.address.to_ascii_lowercase()) }
    }
}

/// Everything that decides a message, before any randomness of the encoding.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: Scenario,
    pub from: Person,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub bcc: Vec<Person>,
    pub subject: String,
    /// A reply to a message from this person.
    pub reply_to: Option<Person>,
    pub cipher: BuildCipher,
    /// Sign the inner entity before encrypting (sign-then-encrypt, RFC 8551 §3.7).
    pub sign_inner: bool,
    /// Raw size of an attached file, if any.
    pub attachment: Option<usize>,
    pub date: i64,
    pub offset_minutes: i32,
    pub user_agent: &'static str,
    pub style: Style,
}

/// A generated message with what the audit should find in it.
pub struct Generated {
    pub bytes: Vec<u8>,
    pub expected: Vec<Expected>,
}

const USER_AGENTS: [&str; 5] = [
    "Mozilla Thunderbird",
    "Apple Mail (2.3774.600.62)",
    "Microsoft Outlook 16.0",
    "iPhone Mail (11D201)",
    "Evolution 3.50.2",
];

/// 2026-01-01T00:00:00Z.
pub const YEAR_START: i64 = 1_767_225_600;
/// Seconds in 2026.
pub const YEAR: i64 = 365 * 86_400;

/// The per-message generator: independent of every other message.
pub fn message_rng(seed: u64, index: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A random plan for `scenario`, dated `date`, in the style of `profile`.
pub fn random_plan<R: Rng>(scenario: Scenario, date: i64, profile: Profile, rng: &mut R) -> Plan {
    let from = if rng.gen_bool(0.9) { people::ALICE } else { people::BOB };
    let encryptable: Vec<Person> = people::ENCRYPTABLE
        .iter()
        .copied()
        .chain(if from == people::BOB { Some(people::ALICE) } else { None })
        .collect();
    let everyone: Vec<Person> =
        encryptable.iter().chain(people::NOT_ENCRYPTABLE.iter()).copied().collect();
    let to: Vec<Person>;
    let mut cc: Vec<Person>;
    let mut bcc = Vec::new();
    let mut reply_to = None;
    match scenario {
        Scenario::Plain | Scenario::Signed | Scenario::SignedOpaque | Scenario::Unreadable => {
            let (n_to, n_cc) =
                (rng.gen_range(1..=3), if rng.gen_bool(0.4) { rng.gen_range(1..=2) } else { 0 });
            let n_bcc = usize::from(rng.gen_bool(0.1));
            let mut chosen = pick(&everyone, from, n_to + n_cc + n_bcc, rng);
            bcc = chosen.split_off(chosen.len().saturating_sub(n_bcc));
            cc = chosen.split_off(chosen.len().min(n_to));
            to = chosen;
        }
        Scenario::ReplyAllPartial => {
            let mut outsiders = pick(&people::NOT_ENCRYPTABLE, from, 2, rng);
            let original = outsiders.pop().unwrap_or(people::DAN);
            reply_to = Some(original);
            to = vec![original];
            cc = pick(&encryptable, from, rng.gen_range(1..=3), rng);
            if rng.gen_bool(0.3) {
                cc.extend(outsiders);
            }
        }
        Scenario::Bcc => {
            let mut chosen = pick(&encryptable, from, rng.gen_range(2..=4), rng);
            bcc = chosen.split_off(chosen.len().saturating_sub(1));
            cc = chosen.split_off(chosen.len().min(1));
            to = chosen;
        }
        Scenario::UnusableCertificate => {
            to = pick(&encryptable, from, rng.gen_range(1..=2), rng);
            cc = vec![*people::UNUSABLE.choose(rng).unwrap_or(&people::DAVE)];
        }
        _ => {
            let n_to = rng.gen_range(1..=2);
            let mut chosen = pick(&encryptable, from, n_to + usize::from(rng.gen_bool(0.4)), rng);
            cc = chosen.split_off(chosen.len().min(n_to));
            to = chosen;
            if matches!(scenario, Scenario::SmartReply) || rng.gen_bool(0.3) {
                reply_to = to.first().copied();
            }
        }
    }
    let subject_base = text::SUBJECTS.choose(rng).copied().unwrap_or("Hello");
    let subject =
        if reply_to.is_some() { format!("Re: {subject_base}") } else { subject_base.to_owned() };
    let attachment_odds = match scenario {
        Scenario::Malformed
        | Scenario::Unreadable
        | Scenario::EmptyEnvelope
        | Scenario::EncryptedAttachment => 0.0,
        _ => 0.2,
    };
    let sign_inner = matches!(scenario, Scenario::EncryptedAll) && rng.gen_bool(0.4);
    let attachment =
        if rng.gen_bool(attachment_odds) { Some(attachment_size(scenario, rng)) } else { None };
    let mut plan = Plan {
        scenario,
        from,
        to,
        cc,
        bcc,
        subject,
        reply_to,
        cipher: scenario.cipher(rng),
        sign_inner,
        attachment,
        date,
        offset_minutes: *[0, 60, 120, -300, -480, 330].choose(rng).unwrap_or(&0),
        user_agent: USER_AGENTS.choose(rng).copied().unwrap_or("Mozilla Thunderbird"),
        style: Style::Classic,
    };
    if profile == Profile::Office {
        // Office content carries its own attachments and quoted history.
        plan.attachment = None;
        if plan.reply_to.is_none() && office::is_reply(rng) {
            plan.reply_to = plan.to.first().copied();
            plan.subject = format!("Re: {subject_base}");
        }
        plan.style = Style::Office { size: office::target_size(rng) };
    }
    plan
}

/// `n` different people from `pool`, never the sender (nor anyone sharing their
/// certificate); Victor sometimes under his alias.
fn pick<R: Rng>(pool: &[Person], from: Person, n: usize, rng: &mut R) -> Vec<Person> {
    let pool: Vec<Person> = pool
        .iter()
        .copied()
        .filter(|p| *p != people::VICTOR_ALIAS && *p != from)
        .filter(|p| p.rsa_cert().is_none() || p.rsa_cert() != from.rsa_cert())
        .collect();
    let mut chosen: Vec<Person> = pool.choose_multiple(rng, n).copied().collect();
    for person in chosen.iter_mut() {
        if *person == people::VICTOR && rng.gen_bool(0.25) {
            *person = people::VICTOR_ALIAS;
        }
    }
    chosen
}

/// A raw attachment size for a message of log-uniform size between 16 KB and 5 MB: base64
/// makes 1.37 times as many bytes, and a second base64 around an envelope again.
fn attachment_size<R: Rng>(scenario: Scenario, rng: &mut R) -> usize {
    let (low, high) = (16_000f64.ln(), 5_000_000f64.ln());
    let target = rng.gen_range(low..high).exp();
    let base64 = 78.0 / 57.0;
    let layers = if scenario.encrypts() || matches!(scenario, Scenario::SignedOpaque) {
        base64 * base64
    } else {
        base64
    };
    ((target / layers) as usize).saturating_sub(4096).max(1024)
}

/// Renders a plan into message bytes and the findings the audit should report.
pub fn render(plan: &Plan, pki: &Pki, rng: &mut StdRng) -> Result<Generated, BoxError> {
    let mut expected = Vec::new();
    if plan.scenario == Scenario::Unreadable {
        return Ok(Generated { bytes: junk(rng), expected: vec![Expected::new("unreadable")] });
    }
    let headers = headers(plan, rng);
    let content = content_entity(plan, pki, rng)?;
    let bytes = match plan.scenario {
        Scenario::Plain => mime::message(&headers, &content),
        Scenario::Signed => {
            let signature = build::signed(
                &content,
                pki.cert(sender_stem(plan)?)?,
                pki.key(sender_stem(plan)?)?,
                true,
            )?;
            mime::message(
                &headers,
                &mime::multipart_signed(&content, &signature, &mime::boundary(rng)),
            )
        }
        Scenario::SignedOpaque => {
            let signed = build::signed(
                &content,
                pki.cert(sender_stem(plan)?)?,
                pki.key(sender_stem(plan)?)?,
                false,
            )?;
            mime::pkcs7_mime_message(&headers, &signed, mime::SmimeType::SignedData)
        }
        Scenario::Malformed => {
            let der = envelope_for(plan, pki, &content, rng)?.0;
            let broken = if rng.gen_bool(0.5) {
                // Cut short, as by a size limit or a broken upload.
                let keep = der.len() * rng.gen_range(30..80) / 100;
                der.get(..keep).unwrap_or(&der).to_vec()
            } else {
                let mut garbage = vec![0u8; rng.gen_range(600..3000)];
                rng.fill_bytes(&mut garbage);
                garbage
            };
            expected.push(Expected::new("malformed-smime"));
            mime::pkcs7_mime_message(&headers, &broken, mime::SmimeType::EnvelopedData)
        }
        Scenario::EncryptedAttachment => {
            // A PDF, encrypted on its own and attached like any file.
            let len = rng.gen_range(2_000..40_000);
            let document = text::attachment_data(rng, 0, len);
            let (der, findings) = envelope_for(plan, pki, &document, rng)?;
            expected.extend(findings);
            expected.push(Expected::new("encrypted-attachment"));
            let attached =
                mime::attachment_entity("application/pkcs7-mime", "contract.pdf.p7m", &der);
            let body = mime::text_entity(&format!(
                "Hi {},\n\nthe signed contract is attached, encrypted with your certificate as \
                 agreed. Open it with your usual S/MIME tool.\n\n{}\n\nBest,\n{}\n",
                plan.to.first().map_or("all", |p| p.first_name()),
                text::paragraph(rng),
                plan.from.first_name()
            ));
            mime::message(
                &headers,
                &mime::multipart("mixed", &mime::boundary(rng), &[&body, &attached]),
            )
        }
        Scenario::SmartReply => {
            let (der, findings) = envelope_for(plan, pki, &content, rng)?;
            expected.extend(findings);
            expected.push(Expected::new("smartreply-blank-body"));
            let original = original_message(plan, rng);
            mime::message(
                &headers,
                &mime::smartreply_mangled(&der, Some(&original), &mime::boundary(rng)),
            )
        }
        _ => {
            let (der, findings) = envelope_for(plan, pki, &content, rng)?;
            expected.extend(findings);
            let der =
                if plan.scenario == Scenario::Ber { build::to_ber_indefinite(&der)? } else { der };
            if plan.scenario == Scenario::EmptyEnvelope {
                expected.push(Expected::new("smartreply-blank-body"));
            }
            let smime_type = if plan.cipher.is_authenticated() {
                mime::SmimeType::AuthEnvelopedData
            } else {
                mime::SmimeType::EnvelopedData
            };
            mime::pkcs7_mime_message(&headers, &der, smime_type)
        }
    };
    expected.sort();
    Ok(Generated { bytes, expected })
}

fn sender_stem(plan: &Plan) -> Result<&'static str, BoxError> {
    plan.from
        .rsa_cert()
        .ok_or_else(|| format!("{} has no RSA certificate", plan.from.address).into())
}

/// The envelope a plan's sender would build, and the findings it causes: RecipientInfos for
/// every recipient with an RSA certificate (usable or not) and the sender (unless the
/// scenario forgets them), plus one that matches nothing for `UnknownRecipientInfo`.
fn envelope_for(
    plan: &Plan,
    pki: &Pki,
    content: &[u8],
    rng: &mut StdRng,
) -> Result<(Vec<u8>, Vec<Expected>), BoxError> {
    let mut findings = Vec::new();
    let recipients: Vec<&Person> = plan.to.iter().chain(&plan.cc).chain(&plan.bcc).collect();
    let mut holders: Vec<&'static str> = Vec::new();
    if plan.scenario != Scenario::NoSender {
        holders.extend(plan.from.rsa_cert());
    } else {
        findings.push(Expected::about("sender-cannot-decrypt", &plan.from));
    }
    for person in &recipients {
        match person.cert {
            Cert::Rsa(stem) => holders.push(stem),
            Cert::Unusable(stem) => {
                holders.push(stem);
                findings.push(Expected::about("encrypted-to-unusable-certificate", person));
            }
            // With a RecipientInfo nobody can place, it might be theirs: unconfirmed.
            Cert::Ec(_) | Cert::None if plan.scenario == Scenario::UnknownRecipientInfo => {
                findings.push(Expected::about("unconfirmed-recipient", person))
            }
            Cert::Ec(_) | Cert::None => {
                findings.push(Expected::about("partial-encryption", person))
            }
        }
    }
    if !plan.to.is_empty() || !plan.cc.is_empty() {
        for person in plan.bcc.iter().filter(|p| p.rsa_cert().is_some()) {
            findings.push(Expected::about("bcc-disclosed", person));
        }
    }
    match plan.cipher {
        BuildCipher::DesEde3Cbc | BuildCipher::DesCbc => {
            findings.push(Expected::new("weak-content-cipher"))
        }
        _ => {}
    }
    holders.sort_unstable();
    holders.dedup();
    let mut builder = EnvelopeBuilder::new(plan.cipher);
    for stem in holders {
        builder = builder.certificate(pki.cert(stem)?)?;
    }
    if plan.scenario == Scenario::UnknownRecipientInfo {
        // The rogue CA's name and key with a serial no certificate has: a certificate the
        // sender had that the store never saw.
        let serial =
            x509_cert::serial_number::SerialNumber::new(&rng.gen::<[u8; 8]>().map(|b| b & 0x7F))?;
        let stranger = BuildRecipient::for_certificate(&pki.rogue)?;
        builder = builder.recipient(BuildRecipient::named(
            pki.rogue.tbs_certificate.subject.clone(),
            serial,
            stranger.public_key().clone(),
        ));
        findings.push(Expected::new("unknown-recipient-info"));
    }
    if plan.scenario == Scenario::EmptyEnvelope {
        builder = builder.omit_encrypted_content();
    }
    Ok((builder.build(content, rng)?, findings))
}

/// The header section of a plan.
fn headers(plan: &Plan, rng: &mut StdRng) -> mime::Headers {
    let mut h = mime::Headers::new();
    h.push("Message-ID", &message_id(rng, plan.from.address));
    h.push("Date", &mime::rfc5322_date(Time::from_unix(plan.date), plan.offset_minutes));
    h.push("From", &plan.from.mailbox());
    for (name, list) in [("To", &plan.to), ("Cc", &plan.cc), ("Bcc", &plan.bcc)] {
        if !list.is_empty() {
            let value: Vec<String> = list.iter().map(Person::mailbox).collect();
            h.push(name, &value.join(", "));
        }
    }
    h.push("Subject", &plan.subject);
    if plan.reply_to.is_some() {
        let parent = message_id(rng, "example.net");
        let root = message_id(rng, "example.net");
        h.push("In-Reply-To", &parent);
        h.push("References", &format!("{root} {parent}"));
    }
    h.push("User-Agent", plan.user_agent);
    h
}

fn message_id<R: RngCore>(rng: &mut R, address: &str) -> String {
    let domain = address.rsplit('@').next().unwrap_or(address);
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "<{:08X}-{:04X}-{:04X}-{:04X}-{:012X}@{domain}>",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// The MIME entity the sender wrote: text, perhaps with an attachment, perhaps signed (for
/// sign-then-encrypt).
fn content_entity(plan: &Plan, pki: &Pki, rng: &mut StdRng) -> Result<Vec<u8>, BoxError> {
    if let Style::Office { size } = plan.style {
        let layers =
            if plan.scenario.encrypts() || plan.scenario == Scenario::SignedOpaque { 2 } else { 1 };
        let entity = office::content_entity(plan, size, layers, rng);
        return sign_inner(plan, pki, entity, rng);
    }
    let greet = match (plan.to.len(), plan.to.first()) {
        (1, Some(p)) => p.first_name(),
        _ => "all",
    };
    let mut body = text::body(rng, greet, plan.from.first_name(), 700);
    if let Some(original) = plan.reply_to {
        body.push_str(&format!(
            "\nOn {}, {} wrote:\n{}",
            mime::rfc5322_date(Time::from_unix(plan.date - rng.gen_range(600..200_000)), 60),
            original.mailbox(),
            text::quote(&text::paragraph(rng))
        ));
    }
    let text = mime::text_entity(&body);
    let entity = match plan.attachment {
        None => text,
        Some(len) => {
            let kind = rng.gen_range(0..text::ATTACHMENTS.len());
            let (content_type, filename, _) =
                text::ATTACHMENTS.get(kind).copied().unwrap_or(text::ATTACHMENTS[0]);
            let data = text::attachment_data(rng, kind, len);
            let attached = mime::attachment_entity(content_type, filename, &data);
            mime::multipart("mixed", &mime::boundary(rng), &[&text, &attached])
        }
    };
    sign_inner(plan, pki, entity, rng)
}

/// Sign-then-encrypt when the plan says so: `entity` inside multipart/signed.
fn sign_inner(
    plan: &Plan,
    pki: &Pki,
    entity: Vec<u8>,
    rng: &mut StdRng,
) -> Result<Vec<u8>, BoxError> {
    if plan.sign_inner {
        let stem = sender_stem(plan)?;
        let signature = build::signed(&entity, pki.cert(stem)?, pki.key(stem)?, true)?;
        Ok(mime::multipart_signed(&entity, &signature, &mime::boundary(rng)))
    } else {
        Ok(entity)
    }
}

/// The message being replied to, as Exchange attaches it to a SmartReply.
fn original_message(plan: &Plan, rng: &mut StdRng) -> Vec<u8> {
    let author = plan.reply_to.unwrap_or(people::BOB);
    let headers = mime::Headers::new()
        .with("Message-ID", &message_id(rng, author.address))
        .with("Date", &mime::rfc5322_date(Time::from_unix(plan.date - 3600), 60))
        .with("From", &author.mailbox())
        .with("To", &plan.from.mailbox())
        .with("Subject", plan.subject.trim_start_matches("Re: "));
    let body = text::body(rng, plan.from.first_name(), author.first_name(), 300);
    mime::message(&headers, &mime::text_entity(&body))
}

/// Bytes that are not mail: an image, an archive or an executable someone dropped into the
/// Maildir.
fn junk(rng: &mut StdRng) -> Vec<u8> {
    const MAGIC: [&[u8]; 3] =
        [b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"PK\x03\x04\x14\0\0\0\x08\0", b"\x7fELF\x02\x01\x01\0"];
    let mut data = MAGIC.choose(rng).copied().unwrap_or(MAGIC[0]).to_vec();
    let start = data.len();
    data.resize(start + rng.gen_range(1_100..32_000), 0);
    if let Some(rest) = data.get_mut(start..) {
        rng.fill_bytes(rest);
    }
    data
}

/// One line of ground-truth.ndjson.
#[derive(serde::Serialize)]
pub struct Truth {
    pub file: String,
    pub scenario: &'static str,
    pub bytes: usize,
    pub date: String,
    pub from: String,
    pub cipher: Option<&'static str>,
    /// The distinct rule codes expected, sorted.
    pub rules: Vec<&'static str>,
    /// Every expected finding, with the address it is about (if any).
    pub findings: Vec<TruthFinding>,
}

/// An expected finding in the ground truth.
#[derive(serde::Serialize)]
pub struct TruthFinding {
    pub rule: &'static str,
    pub address: Option<String>,
}

/// Writes one message into `maildir` and returns its ground truth.
pub fn write_message(
    maildir: &Path,
    sub: &str,
    name: &str,
    plan: &Plan,
    pki: &Pki,
    rng: &mut StdRng,
) -> Result<Truth, BoxError> {
    let generated = render(plan, pki, rng)?;
    let file = format!("{sub}/{name}");
    let path = maildir.join(&file);
    std::fs::write(&path, &generated.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rules: Vec<&'static str> = generated.expected.iter().map(|e| e.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    Ok(Truth {
        file,
        scenario: plan.scenario.name(),
        bytes: generated.bytes.len(),
        date: Time::from_unix(plan.date).to_rfc3339(),
        from: plan.from.address.to_owned(),
        cipher: if plan.scenario.encrypts() { Some(plan.cipher.name()) } else { None },
        rules,
        findings: generated
            .expected
            .into_iter()
            .map(|e| TruthFinding { rule: e.rule, address: e.address })
            .collect(),
    })
}

/// Scenario counts for `n` messages: shares of the profile's mix by largest remainder, each at
/// least once when `n` allows, in a seeded shuffle.
pub fn schedule(n: usize, seed: u64, profile: Profile) -> Vec<Scenario> {
    let mix = profile.mix();
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut counts: Vec<(Scenario, usize, u64)> = mix
        .iter()
        .map(|&(s, w)| {
            let exact = n as u64 * u64::from(w);
            (s, (exact / u64::from(total)) as usize, exact % u64::from(total))
        })
        .collect();
    if n >= counts.len() {
        for entry in counts.iter_mut().filter(|e| e.1 == 0) {
            entry.1 = 1;
            entry.2 = 0;
        }
    }
    let mut assigned: usize = counts.iter().map(|e| e.1).sum();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(counts.get(i).map_or(0, |e| e.2)));
    let mut next = by_remainder.iter().cycle();
    while assigned < n {
        if let Some(entry) = next.next().and_then(|&i| counts.get_mut(i)) {
            entry.1 += 1;
            assigned += 1;
        }
    }
    // Too many after the minimum of one each: take back from the largest.
    while assigned > n {
        if let Some(entry) = counts.iter_mut().max_by_key(|e| e.1) {
            entry.1 -= 1;
            assigned -= 1;
        }
    }
    let mut list: Vec<Scenario> =
        counts.iter().flat_map(|&(s, c, _)| std::iter::repeat_n(s, c)).collect();
    list.shuffle(&mut StdRng::seed_from_u64(seed));
    list
}

/// Summary of a written corpus.
pub struct Written {
    pub messages: usize,
    pub bytes: u64,
    pub by_scenario: BTreeMap<&'static str, usize>,
}

/// Writes `DIR/Maildir/{cur,new,tmp}` with `n` messages and `DIR/ground-truth.ndjson`.
/// Messages are made in parallel; each from its own seeded generator, so the output does not
/// depend on the number of threads.
pub fn write_corpus(
    dir: &Path,
    n: usize,
    seed: u64,
    profile: Profile,
    pki: &Pki,
) -> Result<Written, BoxError> {
    use rayon::prelude::*;
    let maildir = make_maildir(dir)?;
    let scenarios = schedule(n, seed, profile);
    let step = YEAR / n.max(1) as i64;
    let truths: Vec<Truth> = scenarios
        .par_iter()
        .enumerate()
        .map(|(i, &scenario)| {
            let mut rng = message_rng(seed, i);
            // Dates rise with the index, so file names sort in generation order.
            let date = YEAR_START + i as i64 * step + rng.gen_range(0..step.max(1));
            let plan = random_plan(scenario, date, profile, &mut rng);
            let name = format!("{date}.M{i}P0.corpus:2,S");
            write_message(&maildir, "cur", &name, &plan, pki, &mut rng)
        })
        .collect::<Result<_, _>>()?;
    write_truth(dir, &truths)?;
    let mut by_scenario = BTreeMap::new();
    for truth in &truths {
        *by_scenario.entry(truth.scenario).or_insert(0) += 1;
    }
    Ok(Written {
        messages: truths.len(),
        bytes: truths.iter().map(|t| t.bytes as u64).sum(),
        by_scenario,
    })
}

/// `DIR/Maildir` with `cur`, `new` and `tmp`; refuses to write into an existing Maildir so a
/// second run never mixes two corpora.
pub fn make_maildir(dir: &Path) -> Result<PathBuf, BoxError> {
    let maildir = dir.join("Maildir");
    if maildir.exists() {
        return Err(format!("{} exists; remove it first", maildir.display()).into());
    }
    for sub in ["cur", "new", "tmp"] {
        let path = maildir.join(sub);
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(maildir)
}

pub fn write_truth(dir: &Path, truths: &[Truth]) -> Result<(), BoxError> {
    let path = dir.join("ground-truth.ndjson");
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for truth in truths {
        serde_json::to_writer(&mut out, truth)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
