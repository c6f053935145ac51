//! Changing a loaded store: removing and replacing certificates and trust anchors (a client's
//! address book changes; a gateway reloads), with every index kept exactly as loading the
//! remaining certificates into a new store would build it.
//!
//! Certificates are numbered by load order and every index refers to those numbers, so removing
//! one renumbers the later ones: a removal costs one pass over the indexes, linear in the size
//! of the store. [`CertStore::retain`] removes any number of certificates in one such pass.
//! Removing a CA certificate or a trust anchor also forgets the cached chains (they are built
//! again on their next use); removing an end-entity certificate forgets only its own.

use super::{CertStore, Ids, IssuerRef};
use crate::cert::Certificate;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

impl CertStore {
    /// Removes the stored certificate with this SHA-256 fingerprint and returns it; `None` when
    /// the store has none. Trust anchors are not affected (see
    /// [`remove_trust_anchor`](Self::remove_trust_anchor)); load warnings are kept.
    ///
    /// ```
    /// use smime_lint::{Address, CertStore, Time};
    /// let mut store = CertStore::new();
    /// store.load_path("testdata/certs/store".as_ref()).unwrap();
    /// let bob = Address::parse("bob@example.com").unwrap();
    /// let sha256 = *store.for_address(&bob).next().unwrap().sha256();
    ///
    /// let removed = store.remove(&sha256).unwrap();
    /// assert_eq!(removed.sha256(), &sha256);
    /// assert_eq!(store.for_address(&bob).count(), 0);
    /// let at = Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    /// assert!(!store.evaluate(&bob, at, &Default::default()).is_encryptable());
    /// ```
    pub fn remove(&mut self, sha256: &[u8; 32]) -> Option<Certificate> {
        let index = *self.by_sha256.get(sha256)?;
        let mut removed = self.remove_indices(|i, _| i != index);
        removed.pop()
    }

    /// Replaces the certificate `old` (a SHA-256 fingerprint) with `new`: a renewed certificate
    /// takes the place of the expiring one. Removes `old` when stored, then
    /// [`add`](Self::add)s `new`, which goes last in load order (a copy of a certificate still
    /// stored is not added twice). Returns the removed certificate; `new` is added either way.
    pub fn replace(&mut self, old: &[u8; 32], new: Certificate) -> Option<Certificate> {
        let removed = self.remove(old);
        self.add(new);
        removed
    }

    /// Keeps the certificates for which `keep` returns `true` and removes the others, in one
    /// pass over the indexes. Returns the removed certificates, in load order.
    ///
    /// ```
    /// # use smime_lint::CertStore;
    /// # let mut store = CertStore::new();
    /// # store.load_path("testdata/certs/store".as_ref()).unwrap();
    /// // A gateway drops every certificate that came from a file it no longer loads.
    /// let gone = store.retain(|c| !c.provenance().label().ends_with("dave-expired.pem"));
    /// assert_eq!(gone.len(), 1);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&Certificate) -> bool) -> Vec<Certificate> {
        self.remove_indices(|_, cert| keep(cert))
    }

    /// Removes the trust anchor with this SHA-256 fingerprint and returns it; `None` when there
    /// is none. Cached chains are rebuilt on their next use.
    pub fn remove_trust_anchor(&mut self, sha256: &[u8; 32]) -> Option<Certificate> {
        let position = self.anchors.iter().position(|a| a.sha256() == sha256)?;
        let index = u32::try_from(position).ok()?;
        let removed = self.anchors.remove(position);
        self.anchor_sha256.remove(removed.sha256());
        self.issuers.retain(|_, refs| {
            refs.retain_mut(|r| match r {
                IssuerRef::Anchor(i) if *i == index => false,
                IssuerRef::Anchor(i) if *i > index => {
                    *i -= 1;
                    true
                }
                _ => true,
            });
            !refs.is_empty()
        });
        self.invalidate_chains();
        Some(removed)
    }

    /// Removes every stored certificate for which `keep(index, cert)` is `false`, renumbers the
    /// rest (keeping their order) in every index, and returns the removed ones.
    fn remove_indices(
        &mut self,
        mut keep: impl FnMut(u32, &Certificate) -> bool,
    ) -> Vec<Certificate> {
        // old number → new number, `None` for removed certificates.
        let mut renumber: Vec<Option<u32>> = Vec::with_capacity(self.certs.len());
        let mut next = 0u32;
        for (i, cert) in (0u32..).zip(&self.certs) {
            if keep(i, cert) {
                renumber.push(Some(next));
                next += 1;
            } else {
                renumber.push(None);
            }
        }
        if renumber.iter().all(Option::is_some) {
            return Vec::new();
        }
        let new_id = |id: u32| renumber.get(id as usize).copied().flatten();

        let mut removed = Vec::new();
        let mut kept = Vec::with_capacity(next as usize);
        let mut chains = Vec::with_capacity(next as usize);
        for ((cert, chain), id) in std::mem::take(&mut self.certs)
            .into_iter()
            .zip(std::mem::take(&mut self.chains))
            .zip(&renumber)
        {
            if id.is_some() {
                kept.push(cert);
                chains.push(chain);
            } else {
                removed.push(cert);
            }
        }
        self.certs = kept;
        self.chains = chains;

        self.by_sha256.retain(|_, id| match new_id(*id) {
            Some(new) => {
                *id = new;
                true
            }
            None => false,
        });
        renumber_ids(&mut self.by_address, new_id);
        renumber_ids(&mut self.by_issuer_serial, new_id);
        renumber_ids(&mut self.by_ski, new_id);

        // A removed CA certificate may have been on cached paths.
        let mut issuer_removed = false;
        self.issuers.retain(|_, refs| {
            refs.retain_mut(|r| match r {
                IssuerRef::Store(i) => match new_id(*i) {
                    Some(new) => {
                        *i = new;
                        true
                    }
                    None => {
                        issuer_removed = true;
                        false
                    }
                },
                IssuerRef::Anchor(_) => true,
            });
            !refs.is_empty()
        });
        if issuer_removed {
            self.invalidate_chains();
        }
        removed
    }
}

/// Renumbers the certificates under every key; keys left without any disappear.
fn renumber_ids<K: Hash + Eq, S: BuildHasher>(
    map: &mut HashMap<K, Ids, S>,
    new_id: impl Fn(u32) -> Option<u32>,
) {
    map.retain(|_, ids| {
        let renumbered: Vec<u32> = ids.as_slice().iter().filter_map(|&id| new_id(id)).collect();
        match renumbered.as_slice() {
            [] => false,
            [one] => {
                *ids = Ids::One(*one);
                true
            }
            _ => {
                *ids = Ids::Many(renumbered);
                true
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::cert::{HarvestBinding, Provenance};
    use crate::time::Time;
    use crate::usable::Policy;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    /// The test PKI: every end-entity certificate, the CAs, and an unverified harvested copy of
    /// bob's and carol's certificates (a later verified copy lifts them).
    fn pool() -> &'static [Certificate] {
        static POOL: OnceLock<Vec<Certificate>> = OnceLock::new();
        POOL.get_or_init(|| {
            let mut store = CertStore::new();
            store.load_path("testdata/certs/store".as_ref()).expect("test store loads");
            for ca in ["root", "intermediate", "intermediate-g2", "rogue"] {
                let path = format!("testdata/certs/ca/{ca}.pem");
                store.load_path(path.as_ref()).expect("test CAs load");
            }
            let mut all: Vec<Certificate> = store.iter().cloned().collect();
            let harvested: Vec<Certificate> = all
                .iter()
                .filter(|c| {
                    let label = c.provenance().label();
                    label.ends_with("bob.pem") || label.ends_with("carol.pem")
                })
                .map(|c| {
                    let mut copy = c.clone();
                    copy.set_provenance(Provenance::Harvested {
                        message: "harvest.eml".into(),
                        binding: HarvestBinding::Unverified("signature did not verify".into()),
                    });
                    copy
                })
                .collect();
            all.extend(harvested);
            all
        })
    }

    fn at() -> Time {
        Time::from_unix(1_780_272_000) // 2026-06-01T00:00:00Z
    }

    fn addresses() -> Vec<Address> {
        let mut all: Vec<Address> =
            pool().iter().flat_map(|c| c.addresses().iter().map(|n| n.address.clone())).collect();
        all.sort();
        all.dedup();
        all
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(usize),
        Remove(usize),
        Replace(usize, usize),
        AddAnchor(usize),
        RemoveAnchor(usize),
        /// Keep the certificates whose position in the pool has this bit set (mod 32).
        Retain(u32),
        /// Evaluate every address, filling the chain cache.
        Evaluate,
    }

    fn op() -> impl Strategy<Value = Op> {
        let n = pool().len();
        prop_oneof![
            4 => (0..n).prop_map(Op::Add),
            3 => (0..n).prop_map(Op::Remove),
            2 => (0..n, 0..n).prop_map(|(a, b)| Op::Replace(a, b)),
            1 => (0..n).prop_map(Op::AddAnchor),
            1 => (0..n).prop_map(Op::RemoveAnchor),
            1 => any::<u32>().prop_map(Op::Retain),
            2 => Just(Op::Evaluate),
        ]
    }

    fn pool_position(cert: &Certificate) -> usize {
        pool().iter().position(|c| c.sha256() == cert.sha256()).unwrap_or(0)
    }

    fn apply(store: &mut CertStore, op: &Op) {
        let pool = pool();
        match *op {
            Op::Add(i) => {
                store.add(pool[i].clone());
            }
            Op::Remove(i) => {
                let removed = store.remove(pool[i].sha256());
                assert!(removed.is_none_or(|c| c.sha256() == pool[i].sha256()));
                assert!(store.by_sha256(pool[i].sha256()).is_none());
            }
            Op::Replace(old, new) => {
                store.replace(pool[old].sha256(), pool[new].clone());
                assert!(store.by_sha256(pool[new].sha256()).is_some());
            }
            Op::AddAnchor(i) => store.add_trust_anchor(pool[i].clone()),
            Op::RemoveAnchor(i) => {
                store.remove_trust_anchor(pool[i].sha256());
            }
            Op::Retain(mask) => {
                store.retain(|c| mask & (1 << (pool_position(c) % 32)) != 0);
            }
            Op::Evaluate => {
                for a in addresses() {
                    store.evaluate(&a, at(), &Policy::default());
                }
            }
        }
    }

    /// The indexes, in a form that compares by content.
    #[derive(Debug, PartialEq)]
    struct Indexes {
        certs: Vec<([u8; 32], String)>,
        by_sha256: BTreeMap<[u8; 32], u32>,
        by_address: BTreeMap<String, Vec<u32>>,
        by_issuer_serial: BTreeMap<u64, Vec<u32>>,
        by_ski: BTreeMap<Vec<u8>, Vec<u32>>,
        anchors: Vec<[u8; 32]>,
        anchor_sha256: Vec<[u8; 32]>,
        /// Per subject, the issuer references (the order of store and anchor entries under one
        /// subject depends on when anchors were added, not on what is stored).
        issuers: BTreeMap<String, Vec<String>>,
        chains: usize,
    }

    fn ids<K: Clone + Ord, S>(map: &HashMap<K, Ids, S>) -> BTreeMap<K, Vec<u32>> {
        map.iter().map(|(k, ids)| (k.clone(), ids.as_slice().to_vec())).collect()
    }

    fn many_of_one<K, S>(map: &HashMap<K, Ids, S>) -> bool {
        map.values().any(|ids| matches!(ids, Ids::Many(v) if v.len() < 2))
    }

    fn indexes(s: &CertStore) -> Indexes {
        // `Many` only ever holds two or more, as in a freshly built index.
        assert!(
            !many_of_one(&s.by_address)
                && !many_of_one(&s.by_issuer_serial)
                && !many_of_one(&s.by_ski)
        );
        Indexes {
            certs: s.certs.iter().map(|c| (*c.sha256(), format!("{:?}", c.provenance()))).collect(),
            by_sha256: s.by_sha256.iter().map(|(k, v)| (*k, *v)).collect(),
            by_address: ids(&s.by_address).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            by_issuer_serial: ids(&s.by_issuer_serial),
            by_ski: ids(&s.by_ski),
            anchors: s.anchors.iter().map(|c| *c.sha256()).collect(),
            anchor_sha256: {
                let mut v: Vec<_> = s.anchor_sha256.iter().copied().collect();
                v.sort();
                v
            },
            issuers: s
                .issuers
                .iter()
                .map(|(k, refs)| {
                    let mut refs: Vec<String> = refs.iter().map(|r| format!("{r:?}")).collect();
                    refs.sort();
                    (format!("{k:?}"), refs)
                })
                .collect(),
            chains: s.chains.len(),
        }
    }

    /// A store built from scratch with the same certificates and anchors, in the same order.
    fn rebuilt(s: &CertStore) -> CertStore {
        let mut fresh = CertStore::new();
        for a in &s.anchors {
            fresh.add_trust_anchor(a.clone());
        }
        for c in &s.certs {
            fresh.add(c.clone());
        }
        fresh
    }

    fn assert_consistent(store: &CertStore) {
        let fresh = rebuilt(store);
        assert_eq!(indexes(store), indexes(&fresh));
        // Every cached chain is what path building gives now.
        for (cert, slot) in store.certs.iter().zip(&store.chains) {
            if let Some(cached) = slot.get() {
                assert_eq!(format!("{cached:?}"), format!("{:?}", store.build_chains(cert)));
            }
        }
        // And every answer is the fresh store's.
        for a in addresses() {
            let judge = |s: &CertStore| {
                let status = s.evaluate(&a, at(), &Policy::default());
                let candidates: Vec<_> = status
                    .candidates
                    .iter()
                    .map(|c| (*c.certificate.sha256(), c.reasons.clone()))
                    .collect();
                (status.chosen.map(|c| *c.certificate.sha256()), candidates)
            };
            assert_eq!(judge(store), judge(&fresh), "{a}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn indexes_match_a_store_rebuilt_from_scratch(
            ops in proptest::collection::vec(op(), 0..40),
        ) {
            let mut store = CertStore::new();
            for op in &ops {
                apply(&mut store, op);
            }
            assert_consistent(&store);
        }
    }

    fn by_label(label: &str) -> &'static Certificate {
        pool()
            .iter()
            .find(|c| c.provenance().label().ends_with(label))
            .unwrap_or_else(|| panic!("{label} in the pool"))
    }

    #[test]
    fn removing_the_intermediate_breaks_chains_already_cached() {
        let mut store = CertStore::new();
        store.add_trust_anchor(by_label("ca/root.pem").clone());
        store.add(by_label("ca/intermediate.pem").clone());
        store.add(by_label("store/bob.pem").clone());
        let bob = Address::parse("bob@example.com").unwrap();
        assert!(store.evaluate(&bob, at(), &Policy::default()).is_encryptable());

        store.remove(by_label("ca/intermediate.pem").sha256()).unwrap();
        let status = store.evaluate(&bob, at(), &Policy::default());
        assert_eq!(status.reasons().first().map(|r| r.code()), Some("untrusted"));
        assert_consistent(&store);
    }

    #[test]
    fn removing_the_anchor_makes_every_chain_untrusted() {
        let mut store = CertStore::new();
        store.add_trust_anchor(by_label("ca/root.pem").clone());
        store.add(by_label("ca/intermediate.pem").clone());
        store.add(by_label("store/carol.pem").clone());
        let carol = Address::parse("carol@example.org").unwrap();
        assert!(store.evaluate(&carol, at(), &Policy::default()).is_encryptable());

        let root = store.remove_trust_anchor(by_label("ca/root.pem").sha256()).unwrap();
        assert!(!store.has_trust_anchors());
        // No anchors left: trust is not required any more.
        assert!(store.evaluate(&carol, at(), &Policy::default()).is_encryptable());
        store.add_trust_anchor(by_label("ca/rogue.pem").clone());
        assert!(!store.evaluate(&carol, at(), &Policy::default()).is_encryptable());
        store.add_trust_anchor(root);
        assert!(store.evaluate(&carol, at(), &Policy::default()).is_encryptable());
        assert_consistent(&store);
    }

    #[test]
    fn replace_renews_a_certificate_and_reports_the_old_one() {
        let mut store = CertStore::new();
        store.add(by_label("store/bob.pem").clone());
        let old = by_label("peggy-old.pem");
        let renewed = by_label("peggy-strong.pem");
        store.add(old.clone());
        store.add(by_label("store/carol.pem").clone());
        let peggy = Address::parse("peggy@example.com").unwrap();
        assert!(!store.evaluate(&peggy, at(), &Policy::default()).is_encryptable());

        let removed = store.replace(old.sha256(), renewed.clone()).unwrap();
        assert_eq!(removed.sha256(), old.sha256());
        assert_eq!(store.len(), 3);
        assert!(store.evaluate(&peggy, at(), &Policy::default()).is_encryptable());
        let order: Vec<_> = store.iter().map(|c| c.provenance().label()).collect();
        assert!(order[2].ends_with("peggy-strong.pem"), "{order:?}");
        // Nothing to replace: the new one is still added.
        assert!(store.replace(old.sha256(), old.clone()).is_none());
        assert_eq!(store.for_address(&peggy).count(), 2);
        assert_consistent(&store);
    }

    #[test]
    fn removing_what_is_not_there_changes_nothing() {
        let mut store = CertStore::new();
        store.load_path("testdata/certs/store".as_ref()).unwrap();
        let before = indexes(&store);
        assert!(store.remove(&[0; 32]).is_none());
        assert!(store.remove_trust_anchor(by_label("store/bob.pem").sha256()).is_none());
        assert!(store.retain(|_| true).is_empty());
        assert_eq!(indexes(&store), before);
    }
}
