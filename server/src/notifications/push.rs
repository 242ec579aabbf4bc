//! Web push: the adapter that posts to a browser's push service (RFC 8030 delivery, RFC 8291
//! aes128gcm encryption and RFC 8292 VAPID, by the `web-push` crate; sent with reqwest), the
//! server's VAPID key, and the outbox consumer that pushes every new notice to its person's
//! devices.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use web_push::{
    ContentEncoding, PartialVapidSignatureBuilder, SubscriptionInfo, VapidSignature,
    VapidSignatureBuilder, WebPushMessageBuilder,
};

use super::{
    decide::{self, PushOutcome, PushServices, Urgency},
    storage::{PushPlan, Subscription},
};
use crate::{
    config::Config,
    events::{DomainEvent, NoticeEvent},
    outbox::{Consumer, Delivery, DeliveryError},
    store::{Store, now_ms},
};

/// The server's side of web push: its VAPID key and the push services it posts to.
pub struct WebPush {
    vapid: PartialVapidSignatureBuilder,
    /// The VAPID token of each push service's origin, with when it was made: valid for 12 hours
    /// (the crate's `exp`), reused for one, so a push costs no new ECDSA signature.
    tokens:
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, VapidSignature)>>,
    public_key: String,
    subject: String,
    services: PushServices,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPush")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The VAPID private key: `vapid_private_key` (base64url of the 32-byte P-256 scalar), else the
/// one in `<data_dir>/keys/vapid-private-key`, made there (readable by this user only) on the
/// first start.
fn vapid_private_key(config: &Config) -> anyhow::Result<String> {
    let configured = config.vapid_private_key.expose().trim();
    if !configured.is_empty() {
        return Ok(configured.to_owned());
    }
    let dir = config.data_dir.join("keys");
    let path = dir.join("vapid-private-key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return Ok(key.trim().to_owned());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // A scalar outside the curve's order is refused; drawing again is the fix.
        if p256::SecretKey::from_slice(&bytes).is_ok() {
            break URL_SAFE_NO_PAD.encode(bytes);
        }
    };
    write_private(&path, &key)?;
    tracing::info!(path = %path.display(), "made a VAPID key for web push");
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

impl WebPush {
    pub fn new(config: &Config) -> anyhow::Result<WebPush> {
        let key = vapid_private_key(config)?;
        let vapid = VapidSignatureBuilder::from_base64_no_sub(&key)
            .map_err(|e| anyhow::anyhow!("the VAPID private key is not a P-256 key: {e}"))?;
        let public_key = URL_SAFE_NO_PAD.encode(vapid.get_public_key());
        let subject = if config.vapid_subject.is_empty() {
            config.public_url.clone()
        } else {
            config.vapid_subject.clone()
        };
        let services = PushServices::parse(&format!(
            "{},{}",
            decide::KNOWN_PUSH_SERVICES,
            config.push_services
        ));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the push client")?;
        Ok(WebPush {
            tokens: std::sync::Mutex::new(std::collections::HashMap::new()),
            vapid,
            public_key,
            subject,
            services,
            client,
        })
    }

    /// The VAPID public key: the 65-byte uncompressed point, base64url.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Whether this server will post to `endpoint`.
    pub fn allows(&self, endpoint: &str) -> bool {
        self.services.allows(endpoint)
    }

    /// The VAPID token for the push service of `info`'s endpoint (its origin is the token's
    /// audience), made anew after an hour.
    fn token_for(&self, info: &SubscriptionInfo) -> anyhow::Result<VapidSignature> {
        let origin = url::Url::parse(&info.endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let fresh = |made: &std::time::Instant| made.elapsed() < Duration::from_secs(3600);
        if let Ok(tokens) = self.tokens.lock()
            && let Some((made, token)) = tokens.get(&origin)
            && fresh(made)
        {
            return Ok(token.clone());
        }
        let mut signature = self.vapid.clone().add_sub_info(info);
        signature.add_claim("sub", self.subject.as_str());
        let token = signature
            .build()
            .map_err(|e| anyhow::anyhow!("signing VAPID: {e}"))?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.retain(|_, (made, _)| fresh(made));
            tokens.insert(origin, (std::time::Instant::now(), token.clone()));
        }
        Ok(token)
    }

    /// Encrypts `payload` for `device` and posts it: the push service's status and
    /// `Retry-After`, or why it could not be reached.
    pub async fn send(
        &self,
        device: &Subscription,
        payload: &[u8],
        ttl: u32,
        urgency: Urgency,
        topic: &str,
    ) -> anyhow::Result<(u16, Option<String>)> {
        anyhow::ensure!(
            self.allows(&device.endpoint),
            "not a push service this server posts to"
        );
        let info = SubscriptionInfo::new(&device.endpoint, &device.p256dh, &device.auth);
        let signature = self.token_for(&info)?;
        let mut builder = WebPushMessageBuilder::new(&info);
        builder.set_payload(ContentEncoding::Aes128Gcm, payload);
        builder.set_vapid_signature(signature);
        builder.set_ttl(ttl);
        builder.set_urgency(match urgency {
            Urgency::High => web_push::Urgency::High,
            Urgency::Normal => web_push::Urgency::Normal,
        });
        builder.set_topic(topic.to_owned());
        let message = builder
            .build()
            .map_err(|e| anyhow::anyhow!("encrypting the push: {e}"))?;
        let mut request = self
            .client
            .post(message.endpoint.to_string())
            .header("TTL", message.ttl.to_string());
        if let Some(urgency) = message.urgency {
            request = request.header("Urgency", urgency.to_string());
        }
        if let Some(topic) = message.topic {
            request = request.header("Topic", topic);
        }
        if let Some(payload) = message.payload {
            request = request
                .header("Content-Encoding", payload.content_encoding.to_str())
                .header("Content-Type", "application/octet-stream");
            for (name, value) in payload.crypto_headers {
                request = request.header(name, value);
            }
            request = request.body(payload.content);
        }
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("the push service did not answer: {}", e.without_url()))?;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((response.status().as_u16(), retry_after))
    }
}

/// What a lock screen shows of a notice, in the person's language: its title (a lock-screen
/// version when the inbox's says more, such as an amount), one short line, the page it opens,
/// and its topic as the tag that replaces an older notification about the same thing.
pub fn payload(plan: &PushPlan) -> Value {
    let lang = plan.settings.lang;
    let notice = &plan.notice;
    let params: Value = notice
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    let title = match &notice.template {
        Some(template) => {
            let safe = format!("push_{template}");
            let text = super::inbox::render(&safe, "title", &params, lang);
            if text.is_empty() {
                super::inbox::render(template, "title", &params, lang)
            } else {
                text
            }
        }
        None => match lang {
            motcua_shared::Lang::En => notice.title_en.clone(),
            motcua_shared::Lang::Vi => notice.title_vi.clone(),
        },
    };
    let body = crate::i18n::text(lang, "push.open_to_read", &[]).unwrap_or_default();
    json!({
        "title": title,
        "body": body,
        "url": notice.link.clone().unwrap_or_else(|| "/dossiers".to_owned()),
        "tag": notice.topic.clone().unwrap_or_default(),
        "lang": lang.code(),
    })
}

/// The outbox consumer that pushes each new notice to its person's devices (the inbox has it
/// whatever happens here). A device that takes it is not pushed it again; 404 or 410 removes
/// the subscription; 429 and 5xx are retried with the outbox's jittered backoff, honouring
/// `Retry-After`, up to [`PushConsumer::max_attempts`], then given up with the last error. A
/// push that is not urgent waits out the person's quiet hours.
pub struct PushConsumer {
    pub store: Store,
    pub push: Arc<WebPush>,
    pub metrics: crate::monitoring::Metrics,
}

#[async_trait::async_trait]
impl Consumer for PushConsumer {
    fn name(&self) -> &'static str {
        "push"
    }

    fn max_attempts(&self) -> i64 {
        10
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let DomainEvent::Notice(NoticeEvent {
            notice_id,
            person_id,
        }) = &delivery.event
        else {
            return Ok(());
        };
        let Some(plan) = self
            .store
            .push_plan(notice_id, person_id)
            .await
            .map_err(|e| DeliveryError::new(e.to_string()))?
        else {
            return Ok(());
        };
        let wanted = motcua_shared::notification_api::NoticeKind::parse(&plan.notice.kind)
            .is_some_and(|kind| plan.settings.push_kinds.contains(&kind));
        if !wanted || plan.devices.is_empty() {
            return Ok(());
        }
        let template = plan.notice.template.clone().unwrap_or_default();
        let urgency = decide::urgency(&template);
        let now = now_ms();
        if urgency == Urgency::Normal
            && let Some(until) = decide::quiet_until(now, plan.quiet.0, plan.quiet.1)
        {
            return Err(DeliveryError::later("quiet hours", until - now));
        }
        let body = payload(&plan).to_string();
        let ttl = decide::ttl_secs(&plan.notice.kind);
        let topic = decide::push_topic(plan.notice.topic.as_deref().unwrap_or(notice_id));
        let mut retry: Option<DeliveryError> = None;
        for device in &plan.devices {
            let (outcome, status, error) = match self
                .push
                .send(device, body.as_bytes(), ttl, urgency, &topic)
                .await
            {
                Ok((status, retry_after)) => {
                    let outcome = decide::push_outcome(status, retry_after.as_deref(), now);
                    let error = (outcome != PushOutcome::Sent)
                        .then(|| format!("the push service answered {status}"));
                    (outcome, Some(status), error)
                }
                Err(e) => (
                    PushOutcome::Retry {
                        retry_after_ms: None,
                    },
                    None,
                    Some(format!("{e:#}")),
                ),
            };
            self.metrics
                .pushes
                .with_label_values(&[match outcome {
                    PushOutcome::Sent => "sent",
                    PushOutcome::Gone => "gone",
                    PushOutcome::Retry { .. } => "retry",
                    PushOutcome::Refused => "refused",
                }])
                .inc();
            self.store
                .record_push(
                    notice_id,
                    person_id,
                    &device.id,
                    outcome,
                    status,
                    error.as_deref(),
                )
                .await
                .map_err(|e| DeliveryError::new(e.to_string()))?;
            if let PushOutcome::Retry { retry_after_ms } = outcome {
                let wait = retry_after_ms.max(retry.as_ref().and_then(|r| r.retry_after_ms));
                retry = Some(DeliveryError {
                    message: error.unwrap_or_default(),
                    retry_after_ms: wait,
                    later: false,
                });
            }
        }
        retry.map_or(Ok(()), Err)
    }
}
