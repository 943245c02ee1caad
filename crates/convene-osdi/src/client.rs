//! The HTTP side: every request waits for its API token's window (`throttle`), is sent with the
//! `OSDI-API-Token` header, and is judged by [`crate::retry::decide`]. Redirects are not
//! followed; a PUT is never turned into a POST. Requests go only to the entry point's own origin
//! (a link in a remote document naming another host is refused, so the token never leaves it),
//! through the guarded outbound client (the target policy applies at connect time).

use crate::retry::{Answer, Decision, RetryConfig, decide};
use crate::throttle::Throttle;
use convene_delivery::http::{Outbound, refusal};
use convene_delivery::outcome::parse_retry_after;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// This request failed for good (a 4xx other than 429): its record fails, the run goes on.
    Failed { status: u16, excerpt: String },
    /// Out of attempts, or a failure that cannot be retried safely: the run aborts.
    Aborted(Abort),
}

/// Why a run stops: what happened and, when the server answered, the status that ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abort {
    pub status: Option<u16>,
    pub why: String,
}

impl Abort {
    /// An abort no answer of the server caused (a refused URL, a page that does not advance).
    pub fn because(why: impl Into<String>) -> Self {
        Self {
            status: None,
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

#[derive(Clone)]
pub struct OsdiClient {
    http: Outbound,
    /// The entry point's scheme, host and port: the only place requests go.
    origin: url::Origin,
    token: String,
    rate_per_s: u32,
    /// Shared by every client in the process: one window per API token.
    throttle: Arc<Throttle>,
    retry: RetryConfig,
}

const EXCERPT: usize = 500;

impl OsdiClient {
    pub fn new(
        token: &str,
        rate_per_s: u32,
        throttle: Arc<Throttle>,
        retry: RetryConfig,
        http: Outbound,
        entry_point: &str,
    ) -> Self {
        let origin =
            url::Url::parse(entry_point).map_or_else(|_| url::Origin::new_opaque(), |u| u.origin());
        Self {
            http,
            origin,
            token: token.to_owned(),
            rate_per_s,
            throttle,
            retry,
        }
    }

    /// GET, PUT and DELETE are idempotent; a POST is only when the caller says so (Action
    /// Network's person signup helper is an upsert by email).
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Value, CallError> {
        let refused = |why: &dyn std::fmt::Display| {
            CallError::Aborted(Abort::because(format!("{method} {url} refused: {why}")))
        };
        let same_origin = url::Url::parse(url).is_ok_and(|u| u.origin() == self.origin);
        if !same_origin {
            return Err(refused(
                &"it is not on the entry point's origin, and the API token goes nowhere else",
            ));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.throttle.start(&self.token, self.rate_per_s).await;
            let mut request = self
                .http
                .request(method.clone(), url)
                .map_err(|r| refused(&r))?
                .header("OSDI-API-Token", &self.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let (answer, text) = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, time::OffsetDateTime::now_utc()))
                        .map(|d| d.unsigned_abs());
                    let text = response.text().await.unwrap_or_default();
                    (
                        Answer::Status {
                            status,
                            retry_after,
                        },
                        text,
                    )
                }
                Err(e) if refusal(&e).is_some() => return Err(refused(&e)),
                Err(e) => (Answer::Connection, e.to_string()),
            };
            match decide(
                &self.retry,
                attempt,
                &answer,
                idempotent,
                rand::random::<f64>(),
            ) {
                Decision::Done => return Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
                Decision::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Decision::FailRecord => {
                    let status = match answer {
                        Answer::Status { status, .. } => status,
                        Answer::Connection => 0,
                    };
                    return Err(CallError::Failed {
                        status,
                        excerpt: text.chars().take(EXCERPT).collect(),
                    });
                }
                Decision::AbortRun => {
                    let abort = match answer {
                        Answer::Status { status, .. } => Abort {
                            status: Some(status),
                            why: format!(
                                "{method} {url} answered {status} on attempt {attempt}: {}",
                                text.chars().take(200).collect::<String>()
                            ),
                        },
                        Answer::Connection => Abort::because(format!(
                            "{method} {url} unreachable on attempt {attempt}: {text}"
                        )),
                    };
                    return Err(CallError::Aborted(abort));
                }
            }
        }
    }

    /// Walks a collection from `url`, handing each page's records to `each`; stops at the
    /// first empty page or the last one.
    pub async fn walk(
        &self,
        url: &str,
        mut each: impl FnMut(Vec<Value>),
    ) -> Result<u32, CallError> {
        let mut next = Some(url.to_owned());
        let (mut pages, mut number) = (0, None);
        while let Some(url) = next {
            let page = self.call(Method::GET, &url, None, true).await?;
            pages += 1;
            next = crate::paging::next_page(&page, number)
                .map_err(|e| CallError::Aborted(Abort::because(format!("paging: {e:?}"))))?;
            number = page["page"].as_u64().or(number);
            each(crate::paging::records(&page));
        }
        Ok(pages)
    }
}
