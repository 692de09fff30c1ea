//! Authentication kinds: HTTP Basic, bearer tokens, an API-key header, and `Authorization:
//! <scheme> <token>` (Okta `SSWS`, NetBox `Token`).

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::RequestBuilder;

use crate::secret::{Redactor, Secret};

#[derive(Clone)]
pub enum Auth {
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Bearer(Secret),
    /// An API key in its own header (`X-Redmine-API-Key`).
    Header {
        name: HeaderName,
        value: Secret,
    },
    /// `Authorization: <scheme> <token>`: `SSWS` (Okta), `Token` (NetBox v1).
    Scheme {
        scheme: String,
        token: Secret,
    },
}

impl Auth {
    /// Adds the credentials to a request; the header values are marked sensitive so that
    /// the HTTP stack never prints them.
    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password.expose())),
            Auth::Bearer(token) => rb.bearer_auth(token.expose()),
            Auth::Header { name, value } => match sensitive(value.expose()) {
                Some(v) => rb.header(name.clone(), v),
                None => rb,
            },
            Auth::Scheme { scheme, token } => {
                match sensitive(&format!("{scheme} {}", token.expose())) {
                    Some(v) => rb.header(AUTHORIZATION, v),
                    None => rb,
                }
            }
        }
    }

    /// Registers every form in which these credentials could appear on the wire.
    pub fn register(&self, redactor: &mut Redactor) {
        match self {
            Auth::None => {}
            Auth::Basic { username, password } => {
                redactor.add(password.expose());
                redactor.add(&base64(&format!("{username}:{}", password.expose())));
            }
            Auth::Bearer(s) | Auth::Header { value: s, .. } | Auth::Scheme { token: s, .. } => {
                redactor.add(s.expose())
            }
        }
    }
}

fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// Standard base64 with padding, as HTTP Basic encodes `user:password`.
fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `basic (user `svc@example.com`, password ***)`: what the credentials are, not what they
/// hold.
impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::Basic { username, .. } => write!(f, "basic (user `{username}`, password ***)"),
            Auth::Bearer(_) => f.write_str("Authorization: Bearer ***"),
            Auth::Header { name, .. } => write!(f, "{name}: ***"),
            Auth::Scheme { scheme, .. } => write!(f, "Authorization: {scheme} ***"),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_the_secret() {
        let a = Auth::Scheme {
            scheme: "SSWS".into(),
            token: Secret::new("00abc"),
        };
        assert_eq!(a.to_string(), "Authorization: SSWS ***");
        let b = Auth::Basic {
            username: "svc".into(),
            password: Secret::new("pw"),
        };
        assert_eq!(format!("{b:?}"), "basic (user `svc`, password ***)");
    }

    #[test]
    fn basic_credentials_are_registered_in_wire_form() {
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64("ab"), "YWI=");
        let mut r = Redactor::default();
        Auth::Basic {
            username: "Aladdin".into(),
            password: Secret::new("open sesame"),
        }
        .register(&mut r);
        assert_eq!(r.scrub("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), "Basic ***");
    }
}
