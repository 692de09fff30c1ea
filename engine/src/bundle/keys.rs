//! Ed25519 keys for signing bundles, as PEM-like text files holding the key in hex:
//!
//! ```text
//! -----BEGIN CONFORM ED25519 SECRET KEY-----
//! 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
//! -----END CONFORM ED25519 SECRET KEY-----
//! ```
//!
//! The secret key file holds the 32-byte seed; the public key file (`KEY.pub`) the 32-byte
//! verifying key. Signatures are deterministic (RFC 8032): the same manifest and key give the
//! same signature.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::BundleError;

const SECRET: &str = "CONFORM ED25519 SECRET KEY";
const PUBLIC: &str = "CONFORM ED25519 PUBLIC KEY";

fn armor(label: &str, bytes: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        hex::encode(bytes)
    )
}

fn unarmor(label: &str, text: &str) -> Result<[u8; 32], BundleError> {
    let bad = |why: &str| BundleError::Key(format!("not a conform {label} file: {why}"));
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let start = lines
        .iter()
        .position(|l| *l == begin)
        .ok_or_else(|| bad(&format!("no `{begin}` line")))?;
    let stop = lines
        .iter()
        .position(|l| *l == end)
        .ok_or_else(|| bad(&format!("no `{end}` line")))?;
    let body: String = lines
        .get(start + 1..stop)
        .ok_or_else(|| bad("END before BEGIN"))?
        .concat();
    let bytes = hex::decode(&body).map_err(|_| bad("the key is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| bad("the key is not 32 bytes long"))
}

/// A key pair from a 32-byte random seed.
pub fn from_seed(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

pub fn secret_key_text(key: &SigningKey) -> String {
    armor(SECRET, &key.to_bytes())
}

pub fn public_key_text(key: &VerifyingKey) -> String {
    armor(PUBLIC, key.as_bytes())
}

pub fn parse_secret_key(text: &str) -> Result<SigningKey, BundleError> {
    Ok(SigningKey::from_bytes(&unarmor(SECRET, text)?))
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, BundleError> {
    VerifyingKey::from_bytes(&unarmor(PUBLIC, text)?)
        .map_err(|e| BundleError::Key(format!("not a valid ed25519 public key: {e}")))
}

/// The public key as hex, as bundles record it.
pub fn key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

pub fn verifying_key_from_hex(s: &str) -> Result<VerifyingKey, BundleError> {
    let bytes: [u8; 32] = hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BundleError::Key(format!("`{s}` is not a 32-byte hex key")))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|e| BundleError::Key(format!("not a valid ed25519 public key: {e}")))
}

/// The signature of `message`, as hex.
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    hex::encode(key.sign(message).to_bytes())
}

/// Whether `signature_hex` is `key`'s signature of `message`.
pub fn verify(key: &VerifyingKey, message: &[u8], signature_hex: &str) -> bool {
    let Some(bytes) = hex::decode(signature_hex.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&bytes)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_signatures_verify() {
        let k = from_seed([7; 32]);
        let text = secret_key_text(&k);
        assert!(text.starts_with("-----BEGIN CONFORM ED25519 SECRET KEY-----\n"));
        let k2 = parse_secret_key(&text).unwrap();
        assert_eq!(k.to_bytes(), k2.to_bytes());
        let p = parse_public_key(&public_key_text(&k.verifying_key())).unwrap();
        let sig = sign(&k, b"manifest");
        assert_eq!(sig, sign(&k2, b"manifest"), "deterministic");
        assert!(verify(&p, b"manifest", &sig));
        assert!(!verify(&p, b"manifest!", &sig));
        assert!(!verify(
            &from_seed([8; 32]).verifying_key(),
            b"manifest",
            &sig
        ));
        assert!(
            parse_public_key(&text).is_err(),
            "a secret key is not a public key"
        );
    }
}
