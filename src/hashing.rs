//! Fast hashing for what is hashed on every build or rebuild: page maps,
//! output paths, fingerprints.
//!
//! The standard library's SipHash guards tables against keys chosen by an
//! attacker; a project's own file names are not that, and SipHash was the
//! single largest cost of a preview rebuild at 10,000 pages. aHash is
//! already in the dependency tree (through Tera) and several times faster.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// A hash map with the fast hasher.
pub type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A hash set with the fast hasher.
pub type FastSet<T> = std::collections::HashSet<T, ahash::RandomState>;

/// A hasher with fixed keys, for fingerprints compared within one process
/// (never stored, so they need not be stable across versions of atelier).
pub fn fingerprint_hasher() -> ahash::AHasher {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            ahash::RandomState::with_seeds(
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
                0x082e_fa98_ec4e_6c89,
            )
        })
        .build_hasher()
}
