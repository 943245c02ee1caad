//! The outbound HTTP client, the one every connector uses (webhooks, webfilters, the Dashboard,
//! the wiki account check, Meetecho, OSDI, the mail API): no redirects followed, a timeout, and
//! the target policy applied at connect time: a resolver that refuses non-public addresses (so a
//! host that resolves differently later is judged then, and the client connects only to the
//! addresses it judged), and IP-literal URLs, which never reach a resolver, judged before the
//! request is built. `Sender` is the webhook-shaped use of it.

use crate::outcome::Outcome;
use crate::target::{Refusal, TargetPolicy};
use convene_core::Timestamp;
use convene_core::webhook::ResponseHeaders;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

struct GuardedResolver(TargetPolicy);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = judged_addresses(&policy, &host)
                .await
                .map_err(|e| match e {
                    Unusable::Unresolved(e) => Box::new(e) as Box<dyn StdError + Send + Sync>,
                    Unusable::Refused(r) => Box::new(r),
                })?;
            let addrs = ips.into_iter().map(|ip| SocketAddr::new(ip, 0));
            Ok(Box::new(addrs) as Addrs)
        })
    }
}

/// Why a host cannot be called.
#[derive(Debug)]
pub enum Unusable {
    Unresolved(std::io::Error),
    Refused(Refusal),
}

/// The addresses `host` (a name or an IP literal) resolves to now, when the policy allows every
/// one: what the guarded resolver does for HTTP, for a protocol that connects by itself (SMTP),
/// which then connects to one of these and not to the name.
pub async fn judged_addresses(policy: &TargetPolicy, host: &str) -> Result<Vec<IpAddr>, Unusable> {
    let ips: Vec<IpAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(Unusable::Unresolved)?
        .map(|a| a.ip())
        .collect();
    policy.check(host, &ips).map_err(Unusable::Refused)?;
    Ok(ips)
}

/// rustls needs one process-wide crypto provider; ring is the light one. Call before building
/// any `reqwest::Client`.
pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A guarded HTTP client: the only way to reach another host over HTTP.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl Outbound {
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        install_crypto();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("Convene/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .build()?;
        Ok(Self { client, policy })
    }

    /// A request to `url`, unless its host is an address the policy refuses. (A name is judged
    /// when it is resolved, as the request connects.) It carries the trace context of the work
    /// in progress, if any.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, Refusal> {
        // Parsed once: the client takes the parsed URL as it is.
        let request = match url::Url::parse(url) {
            Ok(parsed) => {
                if let Some(refusal) = self.literal_refusal(&parsed) {
                    return Err(refusal);
                }
                self.client.request(method, parsed)
            }
            // The client reports why it cannot be sent.
            Err(_) => self.client.request(method, url),
        };
        Ok(match crate::trace::traceparent() {
            Some(parent) => request.header("traceparent", parent),
            None => request,
        })
    }

    /// An IP-literal URL never reaches the resolver, so it is judged here.
    fn literal_refusal(&self, parsed: &url::Url) -> Option<Refusal> {
        let ip = match parsed.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        self.policy.check(&ip.to_string(), &[ip]).err()
    }
}

/// The policy's refusal inside a failed request, if that is why it failed.
pub fn refusal(e: &reqwest::Error) -> Option<&Refusal> {
    let mut source: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(refusal) = err.downcast_ref::<Refusal>() {
            return Some(refusal);
        }
        source = err.source();
    }
    None
}

#[derive(Clone)]
pub struct Sender {
    outbound: Outbound,
    body_limit: usize,
}

/// What came back, for the attempt log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub outcome: Outcome,
    pub duration_ms: u32,
    /// The start of the body, at most the configured size, lossily decoded.
    pub response_body: Option<String>,
    /// The answer's headers (none when nothing answered).
    pub response_headers: ResponseHeaders,
}

impl Sent {
    /// The answer's `Content-Type`, if it had one.
    pub fn content_type(&self) -> Option<&str> {
        self.response_headers
            .pairs()
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.as_str())
    }
}

impl Sender {
    pub fn new(
        policy: TargetPolicy,
        timeout: Duration,
        body_limit: usize,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            outbound: Outbound::new(policy, timeout)?,
            body_limit,
        })
    }

    /// POSTs `body`; never fails: every failure is an `Outcome`. `now` dates a `Retry-After`.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        now: Timestamp,
    ) -> Sent {
        self.post_within(url, headers, body, now, None).await
    }

    /// [`Sender::post`] with its own timeout instead of the client's.
    pub async fn post_within(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        now: Timestamp,
        timeout: Option<Duration>,
    ) -> Sent {
        let started = Instant::now();
        let (outcome, response_body, response_headers) =
            match self.outbound.request(reqwest::Method::POST, url) {
                Err(refusal) => (
                    Outcome::Refused(refusal.to_string()),
                    None,
                    ResponseHeaders::default(),
                ),
                Ok(request) => self.exchange(request, headers, body, now, timeout).await,
            };
        Sent {
            outcome,
            duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
            response_body,
            response_headers,
        }
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        headers: &[(String, String)],
        body: Vec<u8>,
        now: Timestamp,
        timeout: Option<Duration>,
    ) -> (Outcome, Option<String>, ResponseHeaders) {
        let mut request = request.body(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return (classify(&e), None, ResponseHeaders::default()),
        };
        let response_headers = ResponseHeaders::keep(
            response
                .headers()
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
        );
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::outcome::parse_retry_after(v, now));
        let mut kept = Vec::new();
        // Read at most the limit; a huge or endless body is cut, not waited for in full.
        while kept.len() < self.body_limit {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.body_limit - kept.len();
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let text = (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned());
        (
            Outcome::Answered {
                status,
                retry_after,
            },
            text,
            response_headers,
        )
    }
}

fn classify(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        return Outcome::TimedOut;
    }
    match refusal(e) {
        Some(refusal) => Outcome::Refused(refusal.to_string()),
        None => Outcome::Unreachable(chain(e)),
    }
}

/// The error with its causes, `: `-joined, as operators read it in the attempt log.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        let more = err.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = err.source();
    }
    text
}
