//! Rate limits on what attackers repeat: sign-in starts, sign-in callbacks, passkey attempts and
//! credential checks,
//! per client IP (and per account where there is one). In memory, per instance: a limit of N per
//! minute becomes N per instance per minute behind a load balancer, which is still a limit.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::{Config, error::ApiError};

type Limiter = DefaultKeyedRateLimiter<String>;

#[derive(Clone)]
pub struct RateLimits {
    sign_in: Arc<Limiter>,
    passkey: Arc<Limiter>,
    verify: Arc<Limiter>,
}

fn per_minute(n: u32) -> Arc<Limiter> {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(n)))
}

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Starting a sign-in or coming back from the identity provider, per IP.
    SignIn,
    /// A passkey attempt, per IP and per account.
    Passkey,
    /// A credential check on the server, per IP (verifiers check offline on their device).
    Verify,
}

impl RateLimits {
    pub fn new(config: &Config) -> RateLimits {
        RateLimits {
            sign_in: per_minute(config.rate_limit_sign_in_per_minute),
            passkey: per_minute(config.rate_limit_passkey_per_minute),
            verify: per_minute(config.rate_limit_verify_per_minute),
        }
    }

    /// Counts one request of `limit` for `key`; refuses it with 429 and `Retry-After` when over.
    pub fn check(&self, limit: Limit, key: &str) -> Result<(), ApiError> {
        let limiter = match limit {
            Limit::SignIn => &self.sign_in,
            Limit::Passkey => &self.passkey,
            Limit::Verify => &self.verify,
        };
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// Forgets keys that have not been seen for a while, so memory stays bounded.
    pub fn prune(&self) {
        self.sign_in.retain_recent();
        self.passkey.retain_recent();
        self.verify.retain_recent();
    }

    /// Prunes once a minute for as long as the server runs.
    pub fn spawn_pruning(&self) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.prune();
            }
        });
    }
}
