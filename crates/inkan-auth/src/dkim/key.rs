//! DKIM key records (RFC 6376 §3.6.1, RFC 8463 §4): `v`, `k` (rsa, ed25519), `p` (empty =
//! revoked), `h`, `s`, `t=y` (testing) and `t=s` (no subdomains), and the public key parsed
//! once so that verifying with a cached key costs only the signature check. RSA keys are
//! measured so that keys under 1024 bits can be refused (RFC 8301 §3.2).

use std::sync::Arc;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey};

use super::Algorithm;
use super::parse::{TagList, TagListError, decode_base64, strip_fws};

/// Key types (`k=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyType {
    /// `k=rsa` (the default).
    Rsa,
    /// `k=ed25519` (RFC 8463).
    Ed25519,
}

impl KeyType {
    /// The `k=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

/// The `t=` flags of a key record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyFlags {
    /// `t=y`: the domain is testing DKIM; receivers treat its mail as unsigned.
    pub testing: bool,
    /// `t=s`: `i=` must use exactly `d=`, not a subdomain.
    pub strict: bool,
}

/// Why a key record could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The tag list is malformed.
    #[error("malformed key record: {0}")]
    TagList(#[from] TagListError),
    /// `v=` is present and not `DKIM1`, or not the first tag.
    #[error("key record has v={0}, expected v=DKIM1 as the first tag")]
    Version(String),
    /// There is no `p=` tag.
    #[error("key record has no p= tag")]
    MissingPublicKey,
    /// `k=` names a key type this verifier does not know.
    #[error("unknown key type k={0}")]
    UnknownKeyType(String),
    /// `p=` is not base64.
    #[error("p= is not valid base64: {0}")]
    Base64(String),
    /// `p=` decodes but is not a key of the stated type.
    #[error("p= is not a valid {key_type} public key: {detail}")]
    InvalidKey {
        /// The key type from `k=`.
        key_type: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// A parsed DKIM key record.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DkimKey {
    /// `k=` (default rsa).
    pub key_type: KeyType,
    /// RSA modulus size in bits, or 256 for Ed25519; `None` when revoked.
    pub bits: Option<u32>,
    /// `h=`: hash algorithms allowed, lower-cased; `None` means any.
    pub hash_algorithms: Option<Vec<String>>,
    /// `s=`: service types, lower-cased; `None` means `*`.
    pub service_types: Option<Vec<String>>,
    /// `t=` flags.
    pub flags: KeyFlags,
    /// `n=`: notes for people, if any.
    pub notes: Option<String>,
    /// True when `p=` is empty: the key was revoked (RFC 6376 §3.6.1).
    pub revoked: bool,
    /// The decoded `p=` bytes.
    #[serde(skip)]
    pub public_key: Vec<u8>,
    #[serde(skip)]
    parsed: Option<Arc<ParsedPublicKey>>,
}

impl DkimKey {
    /// Parses a key record: the TXT strings concatenated.
    pub fn parse(txt: impl AsRef<[u8]>) -> Result<DkimKey, KeyError> {
        let tags = TagList::parse(txt.as_ref())?;
        if let Some(v) = tags.get("v") {
            let first = tags.iter().next().map(|(n, _)| n);
            if v != "DKIM1" || first != Some("v") {
                return Err(KeyError::Version(v.into()));
            }
        }
        let key_type = match tags.get("k").map(|k| strip_fws(k).to_ascii_lowercase()) {
            None => KeyType::Rsa,
            Some(k) if k == "rsa" => KeyType::Rsa,
            Some(k) if k == "ed25519" => KeyType::Ed25519,
            Some(k) => return Err(KeyError::UnknownKeyType(k)),
        };
        let list = |tag: &str| {
            tags.get(tag).map(|v| {
                v.split(':')
                    .map(|x| strip_fws(x).to_ascii_lowercase())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            })
        };
        let hash_algorithms = list("h");
        let service_types = list("s");
        let flag_list = list("t").unwrap_or_default();
        let flags = KeyFlags {
            testing: flag_list.iter().any(|f| f == "y"),
            strict: flag_list.iter().any(|f| f == "s"),
        };
        let notes = tags.get("n").map(str::to_owned);
        let p = tags.get("p").ok_or(KeyError::MissingPublicKey)?;
        let public_key = decode_base64(p).map_err(|e| KeyError::Base64(e.to_string()))?;
        let mut key = DkimKey {
            key_type,
            bits: None,
            hash_algorithms,
            service_types,
            flags,
            notes,
            revoked: public_key.is_empty(),
            public_key,
            parsed: None,
        };
        if key.revoked {
            return Ok(key);
        }
        match key_type {
            KeyType::Rsa => {
                let rsa = aws_lc_rs::rsa::PublicKey::from_der(&key.public_key).map_err(|e| {
                    KeyError::InvalidKey {
                        key_type: "rsa",
                        detail: format!("not an RSAPublicKey or SubjectPublicKeyInfo ({e})"),
                    }
                })?;
                let bits = sig::RsaParameters::public_modulus_len(rsa.as_ref()).map_err(|_| {
                    KeyError::InvalidKey {
                        key_type: "rsa",
                        detail: "unreadable modulus".into(),
                    }
                })?;
                key.bits = Some(bits);
                if bits >= 1024 {
                    let parsed = ParsedPublicKey::new(
                        &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                        rsa.as_ref(),
                    )
                    .map_err(|e| KeyError::InvalidKey {
                        key_type: "rsa",
                        detail: e.to_string(),
                    })?;
                    key.parsed = Some(Arc::new(parsed));
                }
            }
            KeyType::Ed25519 => {
                if key.public_key.len() != 32 {
                    return Err(KeyError::InvalidKey {
                        key_type: "ed25519",
                        detail: format!("{} bytes, expected 32", key.public_key.len()),
                    });
                }
                let parsed = ParsedPublicKey::new(&sig::ED25519, &key.public_key).map_err(|e| {
                    KeyError::InvalidKey {
                        key_type: "ed25519",
                        detail: e.to_string(),
                    }
                })?;
                key.bits = Some(256);
                key.parsed = Some(Arc::new(parsed));
            }
        }
        Ok(key)
    }

    /// True when the key allows `algorithm`'s hash (`h=`).
    pub fn allows_hash(&self, algorithm: Algorithm) -> bool {
        self.hash_algorithms
            .as_ref()
            .is_none_or(|h| h.iter().any(|x| x == algorithm.hash_name()))
    }

    /// True when the key may be used for email (`s=` is absent, `*` or lists `email`).
    pub fn allows_email(&self) -> bool {
        self.service_types
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == "*" || x == "email"))
    }

    /// Checks `signature` over the header hash `digest` (the canonicalized headers hashed with
    /// `algorithm`'s hash). Returns false for a revoked or short key and for a mismatch.
    pub fn verify_signature(&self, algorithm: Algorithm, digest: &[u8], signature: &[u8]) -> bool {
        match (algorithm, self.key_type) {
            (Algorithm::Ed25519Sha256, KeyType::Ed25519) => self
                .parsed
                .as_ref()
                .is_some_and(|k| k.verify_sig(digest, signature).is_ok()),
            (Algorithm::RsaSha256 | Algorithm::RsaSha1, KeyType::Rsa) => {
                let params: &'static sig::RsaParameters = if algorithm == Algorithm::RsaSha1 {
                    &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
                } else {
                    &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
                };
                let Ok(d) = aws_lc_rs::digest::Digest::import_less_safe(digest, algorithm.digest())
                else {
                    return false;
                };
                match &self.parsed {
                    Some(k) if algorithm == Algorithm::RsaSha256 => {
                        k.verify_digest_sig(&d, signature).is_ok()
                    }
                    Some(k) => ParsedPublicKey::new(params, k.as_ref())
                        .is_ok_and(|k| k.verify_digest_sig(&d, signature).is_ok()),
                    None => false,
                }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

    #[test]
    fn rsa_key_with_flags() {
        let k = DkimKey::parse(format!(
            "v=DKIM1; k=rsa; h=sha256; s=email; t=y:s; p={RSA1024}"
        ))
        .unwrap();
        assert_eq!(k.key_type, KeyType::Rsa);
        assert_eq!(k.bits, Some(1024));
        assert!(k.flags.testing && k.flags.strict);
        assert!(k.allows_hash(Algorithm::RsaSha256));
        assert!(!k.allows_hash(Algorithm::RsaSha1));
        assert!(k.allows_email());
        assert!(!k.revoked);
    }

    #[test]
    fn ed25519_key_and_revocation() {
        let k =
            DkimKey::parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
                .unwrap();
        assert_eq!((k.key_type, k.bits), (KeyType::Ed25519, Some(256)));
        let revoked = DkimKey::parse("v=DKIM1; p=").unwrap();
        assert!(revoked.revoked);
        assert_eq!(revoked.bits, None);
    }

    #[test]
    fn key_errors() {
        assert!(matches!(
            DkimKey::parse("v=DKIM2; p=abc"),
            Err(KeyError::Version(_))
        ));
        assert!(matches!(
            DkimKey::parse("k=rsa; v=DKIM1; p="),
            Err(KeyError::Version(_))
        ));
        assert_eq!(
            DkimKey::parse("v=DKIM1; k=rsa").unwrap_err(),
            KeyError::MissingPublicKey
        );
        assert!(matches!(
            DkimKey::parse("k=dsa; p=AAAA"),
            Err(KeyError::UnknownKeyType(_))
        ));
        assert!(matches!(DkimKey::parse("p=!!!"), Err(KeyError::Base64(_))));
        assert!(matches!(
            DkimKey::parse("p=AAAA"),
            Err(KeyError::InvalidKey {
                key_type: "rsa",
                ..
            })
        ));
        assert!(matches!(
            DkimKey::parse("k=ed25519; p=AAAA"),
            Err(KeyError::InvalidKey {
                key_type: "ed25519",
                ..
            })
        ));
        assert!(
            !DkimKey::parse(format!("s=tls; p={RSA1024}"))
                .unwrap()
                .allows_email()
        );
    }
}
