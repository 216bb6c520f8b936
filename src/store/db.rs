//! The database port: one sqlx `AnyPool` over SQLite (embedded) or PostgreSQL (production).
//!
//! Queries are written once in portable SQL (`$1` placeholders, BIGINT timestamps, TEXT ids);
//! the only dialect-specific parts are the migration folders and connection set-up, both here.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached or timed out; callers answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                metrics::counter!("store_errors_total", "store" => "db", "kind" => "unavailable").increment(1);
                DbError::Unavailable(e.to_string())
            }
            other => {
                metrics::counter!("store_errors_total", "store" => "db", "kind" => "query").increment(1);
                DbError::Query(other.to_string())
            }
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects a pool. The URL is never logged: it may carry a password.
    pub async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") { Dialect::Sqlite } else { Dialect::Postgres };
        if dialect == Dialect::Sqlite {
            create_sqlite_parent(url)?;
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| DbError::Unavailable(format!("bad database URL: {}", redact(&e.to_string()))))?
            .log_statements(tracing::log::LevelFilter::Debug);
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers proceed during a write; busy_timeout makes concurrent
                        // writers wait instead of failing with SQLITE_BUSY.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, dialect })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|e| DbError::Migrate(e.to_string()))
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_parent(url: &str) -> Result<(), DbError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
    }
    Ok(())
}

/// Strips anything that looks like a password from an error message.
fn redact(msg: &str) -> String {
    match (msg.find("://"), msg.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &msg[..s], &msg[at..]),
        _ => msg.to_string(),
    }
}
