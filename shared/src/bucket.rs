//! Deterministic hashing: the A/B bucket, hashed session ids and sha256 hex digests.

use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    let digest = Sha256::digest(data.as_ref());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `u16::from_be_bytes(sha256("skillopt-bucket\0" + key)[0..2]) % 100`: the same on every
/// process and machine. Key = session id for attribution, user id for canary cohorts.
pub fn bucket(key: &str) -> u8 {
    let mut h = Sha256::new();
    h.update(b"skillopt-bucket\0");
    h.update(key.as_bytes());
    let d = h.finalize();
    (u16::from_be_bytes([d[0], d[1]]) % 100) as u8
}

/// The session id as it leaves the machine: a salted sha256, 32 hex chars.
pub fn session_hash(session_id: &str) -> String {
    let mut s = sha256_hex(format!("skillopt-session\0{session_id}"));
    s.truncate(32);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_is_stable_and_in_range() {
        // Reference value computed independently: sha256("skillopt-bucket\0abc").
        let b = bucket("abc");
        assert_eq!(b, bucket("abc"));
        assert!(b < 100);
        let d = sha2::Sha256::digest(b"skillopt-bucket\0abc");
        assert_eq!(b as u16, u16::from_be_bytes([d[0], d[1]]) % 100);
    }

    #[test]
    fn buckets_spread() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            seen.insert(bucket(&format!("session-{i}")));
        }
        assert!(seen.len() > 90, "only {} buckets hit", seen.len());
    }

    #[test]
    fn sha_hex_known_answer() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
