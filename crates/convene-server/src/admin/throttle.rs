//! What a sign-in may cost before its password is checked. A password check is argon2id (19 MiB,
//! tens of milliseconds of one core), so an unauthenticated client must not be able to start
//! many: checks run on a fixed set of threads, one per core, each with its own reused argon2
//! memory (`password::verify`), so a flood of sign-ins costs those threads' memory and no more;
//! a caller waits briefly for its turn, and each client address has a budget of failed sign-ins
//! per minute. The stored per-name lock is kept per name *and* address (see `login`), so someone
//! else's guesses cannot lock a real admin out.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use convene_core::Timestamp;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failed sign-ins an address may make per window before it is answered 429.
pub const FAILURES_PER_ADDRESS: u32 = 10;
/// The window those failures are counted in.
pub const ADDRESS_WINDOW: time::Duration = time::Duration::minutes(1);
/// How long a sign-in waits for a password check to be free before it is answered 429.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Addresses remembered at once; past this, windows that ended are forgotten first.
const ADDRESSES_KEPT: usize = 10_000;

pub struct SignInGuard {
    checks: Arc<Semaphore>,
    queue_wait: Duration,
    /// Hands (password, stored hash, reply) to the checking threads.
    jobs: std::sync::mpsc::SyncSender<Check>,
    failures: Mutex<HashMap<AddressKey, Window>>,
}

/// An IPv4 address, or the /64 an IPv6 address is in (one host usually holds a whole /64).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AddressKey(u128);

impl AddressKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(u128::from(u32::from(v4))),
                None => Self(u128::from(v6) & !((1u128 << 64) - 1) | 1 << 127),
            },
        }
    }
}

/// The address a request came from: the peer of its connection. (Behind a reverse proxy every
/// client shares the proxy's address; forwarded headers are not trusted, as anyone can send one.)
impl<S: Send + Sync> FromRequestParts<S> for AddressKey {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Self::of(ip))
    }
}

impl std::fmt::Display for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// A password, the stored hash if any, and where the verdict goes.
type Check = (String, Option<String>, tokio::sync::oneshot::Sender<bool>);

#[derive(Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
}

/// Why a sign-in was not let through to the password check.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The address spent its budget; it may try again after this many seconds.
    Address { retry_after_s: u64 },
    /// Every password check is busy.
    Busy,
}

impl SignInGuard {
    /// `checks` password checks may run at once (at least one); a sign-in waits `queue_wait`
    /// for its turn.
    pub fn new(checks: usize, queue_wait: Duration) -> Self {
        let checks = checks.max(1);
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Check>(checks);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..checks {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || {
                    // Ends when the guard (the only sender) is dropped.
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((password, stored, reply)) = next else {
                            return;
                        };
                        let _ = reply.send(super::password::verify(&password, stored.as_deref()));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        Self {
            checks: Arc::new(Semaphore::new(checks)),
            queue_wait,
            jobs,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// One check per core: more would only queue on the CPU while holding their memory.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, QUEUE_WAIT)
    }

    /// Whether `address` may try now.
    pub fn admit(&self, address: AddressKey, now: Timestamp) -> Result<(), Refused> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&address) {
            Some(w) if w.started + ADDRESS_WINDOW > now && w.failures >= FAILURES_PER_ADDRESS => {
                let left = (w.started + ADDRESS_WINDOW - now).whole_seconds().max(1);
                Err(Refused::Address {
                    retry_after_s: left as u64,
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether `password` matches `stored` (see `password::verify`), checked on one of the
    /// checking threads once a turn is free; `Busy` when none frees up within the wait.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Refused> {
        let _turn = self.check_slot().await?;
        let (reply, verdict) = tokio::sync::oneshot::channel();
        self.jobs
            .send((password.to_owned(), stored.map(str::to_owned), reply))
            .map_err(|_| Refused::Busy)?;
        Ok(verdict.await.unwrap_or(false))
    }

    /// A turn at the password check, waited for briefly.
    async fn check_slot(&self) -> Result<OwnedSemaphorePermit, Refused> {
        tokio::time::timeout(self.queue_wait, self.checks.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(Refused::Busy)
    }

    /// Counts a failed sign-in from `address`.
    pub fn failed(&self, address: AddressKey, now: Timestamp) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= ADDRESSES_KEPT && !failures.contains_key(&address) {
            failures.retain(|_, w| w.started + ADDRESS_WINDOW > now);
        }
        let window = failures.entry(address).or_insert(Window {
            started: now,
            failures: 0,
        });
        if window.started + ADDRESS_WINDOW <= now {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn an_address_gets_a_budget_per_window() {
        let guard = SignInGuard::new(1, QUEUE_WAIT);
        let a = AddressKey::of("192.0.2.1".parse().unwrap());
        let b = AddressKey::of("192.0.2.2".parse().unwrap());
        for _ in 0..FAILURES_PER_ADDRESS {
            assert_eq!(guard.admit(a, at(0)), Ok(()));
            guard.failed(a, at(0));
        }
        assert_eq!(
            guard.admit(a, at(10)),
            Err(Refused::Address { retry_after_s: 50 })
        );
        assert_eq!(
            guard.admit(b, at(10)),
            Ok(()),
            "other addresses are not affected"
        );
        assert_eq!(guard.admit(a, at(60)), Ok(()), "a new window, a new budget");
    }

    #[test]
    fn ipv6_addresses_of_one_host_share_a_budget() {
        let one = AddressKey::of("2001:db8::1".parse().unwrap());
        let other = AddressKey::of("2001:db8::ffff:1".parse().unwrap());
        let elsewhere = AddressKey::of("2001:db8:0:1::1".parse().unwrap());
        assert_eq!(one, other);
        assert_ne!(one, elsewhere);
        assert_eq!(
            AddressKey::of("::ffff:192.0.2.1".parse().unwrap()),
            AddressKey::of("192.0.2.1".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn passwords_are_checked_on_the_checking_threads() {
        let guard = SignInGuard::new(1, QUEUE_WAIT);
        let stored = crate::admin::password::hash("correct horse battery").unwrap();
        assert_eq!(
            guard.verify("correct horse battery", Some(&stored)).await,
            Ok(true)
        );
        assert_eq!(
            guard.verify("wrong horse battery", Some(&stored)).await,
            Ok(false)
        );
        assert_eq!(guard.verify("anything", None).await, Ok(false));
    }

    #[tokio::test]
    async fn checks_beyond_the_cores_wait_then_are_refused() {
        let guard = SignInGuard::new(1, Duration::from_millis(50));
        let held = guard.check_slot().await.expect("the first is free");
        assert_eq!(guard.check_slot().await.err(), Some(Refused::Busy));
        drop(held);
        assert!(guard.check_slot().await.is_ok());
    }
}
