//! Background steps repeated on a timer until the server stops.

use std::{future::Future, time::Duration};

/// Runs `step` every `every` until `stop` turns true. A failed step is logged with `what`, and
/// the next one runs on time.
pub async fn every<F, Fut, E>(
    what: &'static str,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<anyhow::Error>,
{
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = step().await {
            let e: anyhow::Error = e.into();
            tracing::error!(error = %format!("{e:#}"), "{what} failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    #[tokio::test(start_paused = true)]
    async fn steps_repeat_past_a_failure_and_stop_when_told() {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let worker = tokio::spawn(super::every(
            "a test step",
            std::time::Duration::from_secs(1),
            stopped,
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    anyhow::ensure!(n != 1, "the second run fails");
                    Ok(())
                }
            },
        ));
        tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        stop.send(true).expect("sent");
        worker.await.expect("stopped");
        let after = runs.load(Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), after);
    }
}
