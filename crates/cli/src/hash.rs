//! The 64-bit FNV-1a hash, used to key completed runs by their configuration.
//!
//! Unlike `std`'s `DefaultHasher`, whose output may change between Rust releases, FNV-1a
//! is fixed by its definition, so a results folder written by one build is recognised by
//! the next.
//!
//! # References
//!
//! G. Fowler, L. C. Noll, K.-P. Vo, D. Eastlake, "The FNV Non-Cryptographic Hash
//! Algorithm", IETF draft-eastlake-fnv.

/// The FNV-1a 64-bit offset basis.
const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV-1a 64-bit prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// Returns the FNV-1a 64-bit hash of `bytes`: for each byte, `h = (h xor byte) * prime`.
///
/// # Examples
///
/// ```
/// assert_eq!(median_cli::hash::fnv1a64(b""), 0xcbf29ce484222325);
/// assert_eq!(median_cli::hash::fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// Returns the hash of `key` as 16 lowercase hex digits, for file names.
pub fn run_key(key: &str) -> String {
    format!("{:016x}", fnv1a64(key.as_bytes()))
}
