//! The one hex digest: SHA-256 in lowercase hex, where a key or an id must name something without
//! holding it (a long DynamoDB key, an address a limit counts, an SNS deduplication id).

use sha2::{Digest, Sha256};

pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    Sha256::digest(data.as_ref()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_sha256_in_lowercase_hex() {
        // The empty string's SHA-256 (FIPS 180-4 test vectors).
        assert_eq!(super::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
