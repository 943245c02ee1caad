//! `[sign_in]`: the admin console's sign-in beside passwords, with a MediaWiki (OAuth 2.0) and
//! with an OpenID Connect provider.

use super::Secret;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignInConfig {
    pub mediawiki: MediaWikiSignIn,
    pub oidc: OidcSignIn,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaWikiSignIn {
    /// The wiki's base URL (`https://meta.wikimedia.org`); empty = off.
    pub url: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSignIn {
    /// The issuer URL; empty = off.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub label: String,
    pub username_claim: String,
}

impl MediaWikiSignIn {
    pub fn configured(&self) -> bool {
        !self.url.is_empty() && !self.client_id.is_empty()
    }
}

impl OidcSignIn {
    pub fn configured(&self) -> bool {
        !self.issuer.is_empty() && !self.client_id.is_empty()
    }
}
