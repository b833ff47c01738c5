//! The ingest writer: group commit of uploaded reports, one task per server process.

use quell_store::Db;
use quell_store::reports::{self, ParsedReport, Stored};

use crate::ServerError;
use crate::limits::{GROUP_COMMIT_MAX_FINDINGS, GROUP_COMMIT_MAX_REPORTS, WRITE_QUEUE_REPORTS};

/// One upload waiting for the writer.
struct Job {
    org_id: i64,
    token_id: i64,
    report: ParsedReport,
    reply: tokio::sync::oneshot::Sender<Result<Stored, ServerError>>,
}

/// Group commit: one task per server process stores the uploads waiting at that moment (up to
/// [`GROUP_COMMIT_MAX_REPORTS`] reports, [`GROUP_COMMIT_MAX_FINDINGS`] findings) in one
/// transaction, and answers each upload only after that commit. One fsync then covers many
/// reports, and SQLite's single writer is never contended. When a batch fails, its reports are
/// retried one by one so one bad report cannot fail the others.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: tokio::sync::mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("org_id", &self.org_id).field("host", &self.report.host).finish()
    }
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> Writer {
        let (queue, jobs) = tokio::sync::mpsc::channel(WRITE_QUEUE_REPORTS);
        tokio::spawn(write_loop(db, jobs));
        Writer { queue }
    }

    /// Stores a report; returns once it is committed.
    pub async fn store(&self, org_id: i64, token_id: i64, report: ParsedReport) -> Result<Stored, ServerError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send(Job { org_id, token_id, report, reply })
            .await
            .map_err(|_| ServerError::Internal("the writer stopped".into()))?;
        answer.await.map_err(|_| ServerError::Internal("the writer dropped an upload".into()))?
    }
}

async fn write_loop(db: Db, mut jobs: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut findings = first.report.findings.len();
        let mut batch = vec![first];
        while batch.len() < GROUP_COMMIT_MAX_REPORTS && findings < GROUP_COMMIT_MAX_FINDINGS {
            match jobs.try_recv() {
                Ok(job) => {
                    findings += job.report.findings.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        match store_batch(&db, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(error) if batch.len() == 1 => {
                if let Some(job) = batch.into_iter().next() {
                    let _ = job.reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, reports = batch.len(), "group commit failed; storing one by one");
                for job in batch {
                    let result =
                        reports::store(&db, job.org_id, job.token_id, &job.report).await.map_err(ServerError::from);
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

async fn store_batch(db: &Db, batch: &[Job]) -> Result<Vec<Stored>, ServerError> {
    let batch: Vec<_> = batch.iter().map(|job| (job.org_id, job.token_id, &job.report)).collect();
    Ok(reports::store_batch(db, &batch).await?)
}
