//! Rate limits on what attackers repeat: sign-in starts, sign-in callbacks, passkey attempts and
//! credential checks, per client IP (and per account where there is one).
//!
//! Each limit is counted twice. First in this instance's memory (`governor`), which turns a
//! flood away without touching the database; then in the database every instance shares
//! (`rate_limits`, the same GCRA in one upsert), so that behind a load balancer a limit of N a
//! minute stays N a minute, not N per instance.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use anyhow::Context;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::{
    Config,
    error::ApiError,
    store::{Store, StoreResult, now_ms},
};

type Limiter = DefaultKeyedRateLimiter<String>;

#[derive(Clone)]
pub struct RateLimits {
    sign_in: Arc<Limiter>,
    passkey: Arc<Limiter>,
    verify: Arc<Limiter>,
    per_minute: [u32; 3],
    store: Store,
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
    pub fn new(config: &Config, store: Store) -> RateLimits {
        let per_minute_of = [
            config.rate_limit_sign_in_per_minute,
            config.rate_limit_passkey_per_minute,
            config.rate_limit_verify_per_minute,
        ];
        RateLimits {
            sign_in: per_minute(per_minute_of[0]),
            passkey: per_minute(per_minute_of[1]),
            verify: per_minute(per_minute_of[2]),
            per_minute: per_minute_of.map(|n| n.max(1)),
            store,
        }
    }

    /// Counts one request of `limit` for `key`, in this instance and then across instances;
    /// refuses it with 429 and `Retry-After` when over either.
    pub async fn check(&self, limit: Limit, key: &str) -> Result<(), ApiError> {
        let (limiter, name, n) = match limit {
            Limit::SignIn => (&self.sign_in, "sign_in", self.per_minute[0]),
            Limit::Passkey => (&self.passkey, "passkey", self.per_minute[1]),
            Limit::Verify => (&self.verify, "verify", self.per_minute[2]),
        };
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })?;
        let gcra = Gcra::per_minute(n);
        match self
            .store
            .take_rate_token(&format!("{name}:{key}"), gcra, now_ms())
            .await?
        {
            None => Ok(()),
            Some(wait_ms) => Err(ApiError::RateLimited {
                retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1),
            }),
        }
    }

    /// Forgets keys that have not been seen for a while, so memory stays bounded, and deletes
    /// the shared rows that stand for a full burst again.
    pub async fn prune(&self) {
        self.sign_in.retain_recent();
        self.passkey.retain_recent();
        self.verify.retain_recent();
        if let Err(e) = self.store.prune_rate_limits(now_ms()).await {
            tracing::warn!(error = %e, "pruning the shared rate limits failed");
        }
    }

    /// Prunes once a minute for as long as the server runs.
    pub fn spawn_pruning(&self) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.prune().await;
            }
        });
    }
}

/// A generic cell rate: one request each `interval_ms`, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    pub interval_ms: i64,
    pub burst: i64,
}

impl Gcra {
    /// N a minute, all N at once (as `governor`'s `Quota::per_minute`).
    pub fn per_minute(n: u32) -> Gcra {
        let n = i64::from(n.max(1));
        Gcra {
            interval_ms: 60_000 / n,
            burst: n,
        }
    }

    /// Whether a request at `now` is let through when the key's theoretical arrival time is
    /// `tat` (`None`: never seen, or pruned): `Ok` with the new time, or `Err` with how long to
    /// wait. What the shared statement computes in SQL, stated once here for the tests.
    pub fn take(self, tat: Option<i64>, now: i64) -> Result<i64, i64> {
        let next = tat.unwrap_or(now).max(now) + self.interval_ms;
        let allowance = self.interval_ms * self.burst;
        if next - now <= allowance {
            Ok(next)
        } else {
            Err(next - now - allowance)
        }
    }
}

/// The shared rate limits' storage.
impl Store {
    /// Counts one request for `bucket` at `now` across every instance: `None` when it is let
    /// through, `Some(ms to wait)` when it is over. One upsert: only a request within the burst
    /// moves the key's time on.
    pub async fn take_rate_token(
        &self,
        bucket: &str,
        gcra: Gcra,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "insert into rate_limits (bucket, tat_ms) values ($1, $2 + $3) \
             on conflict (bucket) do update \
             set tat_ms = (case when rate_limits.tat_ms > $2 then rate_limits.tat_ms else $2 end) + $3 \
             where (case when rate_limits.tat_ms > $2 then rate_limits.tat_ms else $2 end) + $3 - $2 <= $4 \
             returning tat_ms",
        )
        .bind(bucket)
        .bind(now)
        .bind(gcra.interval_ms)
        .bind(gcra.interval_ms * gcra.burst)
        .fetch_optional(&mut *tx)
        .await
        .context("counting a request against a shared rate limit")?;
        let wait = match taken {
            Some(_) => None,
            None => {
                let tat: i64 =
                    sqlx::query_scalar("select tat_ms from rate_limits where bucket = $1")
                        .bind(bucket)
                        .fetch_one(&mut *tx)
                        .await
                        .context("reading a shared rate limit")?;
                gcra.take(Some(tat), now).err()
            }
        };
        tx.commit().await.context("counting a request")?;
        Ok(wait)
    }

    /// Deletes the keys whose time has passed (each stands for a full burst, as no row does).
    pub async fn prune_rate_limits(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("delete from rate_limits where tat_ms < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("pruning the shared rate limits")?;
        tx.commit()
            .await
            .context("pruning the shared rate limits")?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::Gcra;

    #[test]
    fn a_burst_of_n_then_one_each_interval() {
        let gcra = Gcra::per_minute(3);
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(gcra.take(tat, 0).expect("within the burst"));
        }
        assert_eq!(gcra.take(tat, 0), Err(20_000));
        // A refusal does not move the time on: 20 s later one more is let through.
        assert_eq!(gcra.take(tat, 19_999), Err(1));
        let after = gcra.take(tat, 20_000).expect("one interval later");
        assert_eq!(gcra.take(Some(after), 20_000), Err(20_000));
        // A key unseen for a minute has its whole burst again.
        assert_eq!(gcra.take(Some(after), 80_000), Ok(100_000));
    }
}
