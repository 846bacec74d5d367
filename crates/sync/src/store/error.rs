//! What a store operation can fail with. Messages name the operation, table or column,
//! never a stored value (values hold tokens, PSU ids and bank free text).

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused a statement.
    #[error("store: {operation} failed: {reason}")]
    Database {
        /// What the store was doing, e.g. `commit_page`.
        operation: &'static str,
        /// The driver's error kind and the database's message.
        reason: String,
        /// Whether trying again later may succeed (connection lost, busy, serialization).
        transient: bool,
    },
    /// The schema migrations failed (a newer or a changed schema, or a failed statement).
    #[error("store: migrating the schema failed: {0}")]
    Migrate(String),
    /// The database URL names no supported engine (`sqlite:` or `postgres://`).
    #[error("store: unsupported database URL (use sqlite:PATH or postgres://...)")]
    UnsupportedUrl,
    /// No such row.
    #[error("store: {what} {id} does not exist")]
    NotFound {
        /// `connection`.
        what: &'static str,
        /// Our id (not a secret).
        id: String,
    },
    /// A row with this id exists already.
    #[error("store: {what} {id} exists already")]
    AlreadyExists {
        /// `connection`.
        what: &'static str,
        /// Our id.
        id: String,
    },
    /// The worker's lease on the connection was taken over by another worker; nothing was
    /// written.
    #[error("store: the lease on connection {connection} is no longer this worker's")]
    LeaseLost {
        /// Our id of the connection.
        connection: String,
    },
    /// A commit is inconsistent (a programming error in the caller); nothing was written.
    #[error("store: invalid commit: {0}")]
    InvalidCommit(&'static str),
    /// A number does not fit the database's 64-bit signed integer.
    #[error("store: {field} is too large to store")]
    OutOfRange {
        /// The column.
        field: &'static str,
    },
    /// A value could not be written as JSON.
    #[error("store: {field} could not be encoded: {reason}")]
    Encode {
        /// The column.
        field: &'static str,
        /// The kind of encoding error.
        reason: String,
    },
    /// A stored value does not read back (changed by hand, or written by a newer version).
    #[error("store: {field} holds an unreadable value: {reason}")]
    Corrupt {
        /// The table and column, e.g. `transactions.amount`.
        field: &'static str,
        /// What is wrong with it, by shape only.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn corrupt(field: &'static str, reason: &str) -> Self {
        Self::Corrupt {
            field,
            reason: reason.to_string(),
        }
    }

    /// A driver error while doing `operation`. The database's message is kept (it names
    /// tables, columns and constraints), row values are not: PostgreSQL puts those in the
    /// error's detail, which is dropped.
    pub(crate) fn db(operation: &'static str, error: sqlx::Error) -> Self {
        let transient = matches!(
            error,
            sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
        ) || matches!(&error, sqlx::Error::Database(e) if is_transient_code(e.code().as_deref()));
        let reason = match &error {
            sqlx::Error::Database(e) => match e.code() {
                Some(code) => format!("database error {code}: {}", e.message()),
                None => format!("database error: {}", e.message()),
            },
            sqlx::Error::Io(e) => format!("I/O error: {}", e.kind()),
            sqlx::Error::ColumnDecode { index, .. } => {
                format!("column {index} does not decode")
            }
            sqlx::Error::ColumnNotFound(name) => format!("column {name} not found"),
            sqlx::Error::Configuration(_) => "invalid connection settings".to_string(),
            sqlx::Error::Tls(_) => "TLS error".to_string(),
            other => {
                // Remaining variants carry no row values; keep only their first line.
                let text = other.to_string();
                text.lines().next().unwrap_or_default().to_string()
            }
        };
        Self::Database {
            operation,
            reason,
            transient,
        }
    }

    /// Whether trying the operation again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Database {
                transient: true,
                ..
            }
        )
    }
}

/// SQLite busy/locked (5, 6) and PostgreSQL serialization failure, deadlock, connection
/// and shutdown classes.
fn is_transient_code(code: Option<&str>) -> bool {
    match code {
        Some("5" | "6" | "517" | "261" | "40001" | "40P01" | "57P01" | "57P02" | "57P03") => true,
        Some(code) => code.starts_with("08"),
        None => false,
    }
}
