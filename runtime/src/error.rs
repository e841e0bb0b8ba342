//! Errors raised while building or running a pipeline.
//!
//! Every runtime error names the DoFn and, where there is one, the key, the window, the timer and the times
//! involved, so that a failure in a long run can be traced to the exact cell that caused it.

use std::fmt;

use crate::time::{Duration, Instant};
use crate::window::Window;

/// A boxed error returned by a user callback (`Result<(), E>` with `E` convertible to it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where in a DoFn something went wrong: the DoFn, the method, and the key and window it ran for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The DoFn's type name.
    pub dofn: &'static str,
    /// The method: `process_element`, `on_timer("expiry")`, `on_window_expiration`, ...
    pub method: String,
    /// The key, as its `Debug` form, if the DoFn is keyed.
    pub key: Option<String>,
    /// The window the method ran in.
    pub window: Option<Window>,
    /// The element's timestamp, or the timer's firing time.
    pub timestamp: Option<Instant>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in `{}` of DoFn `{}`", self.method, self.dofn)?;
        if let Some(key) = &self.key {
            write!(f, ", key {key}")?;
        }
        if let Some(window) = &self.window {
            write!(f, ", window {window}")?;
        }
        if let Some(ts) = &self.timestamp {
            write!(f, ", at {ts}")?;
        }
        Ok(())
    }
}

/// Why a timer could not be set.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerError {
    /// An event-time timer was set to fire after its window expires.
    FiringAfterExpiry {
        /// The requested firing time.
        firing: Instant,
        /// The window's garbage-collection time.
        expiry: Instant,
    },
    /// An event-time timer's output timestamp is after its firing time.
    OutputAfterFiring {
        /// The requested output timestamp.
        output: Instant,
        /// The firing time.
        firing: Instant,
    },
    /// The output timestamp is after the window's expiry.
    OutputAfterExpiry {
        /// The requested output timestamp.
        output: Instant,
        /// The window's garbage-collection time.
        expiry: Instant,
    },
    /// The output timestamp is before the input's timestamp minus the allowed skew.
    OutputBeforeInput {
        /// The requested output timestamp.
        output: Instant,
        /// The timestamp of the element or timer being processed.
        input: Instant,
        /// The DoFn's allowed timestamp skew.
        skew: Duration,
    },
}

impl fmt::Display for TimerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerError::FiringAfterExpiry { firing, expiry } => write!(
                f,
                "an event-time timer was set to fire at {firing}, after its window expires at {expiry} \
                 (window end plus allowed lateness); set it to at most `cx.window_expiry()`, or set it with \
                 `offset(..).set_relative()`, which stops at the expiry"
            ),
            TimerError::OutputAfterFiring { output, firing } => {
                write!(f, "an event-time timer firing at {firing} was given the later output timestamp {output}")
            }
            TimerError::OutputAfterExpiry { output, expiry } => {
                write!(f, "a timer was given the output timestamp {output}, after its window expires at {expiry}")
            }
            TimerError::OutputBeforeInput { output, input, skew } => write!(
                f,
                "a timer was given the output timestamp {output}, earlier than the input's timestamp {input} \
                 minus the allowed skew ({skew}; an `#[allowed_timestamp_skew]` method sets it)"
            ),
        }
    }
}

impl std::error::Error for TimerError {}

/// An error from building or running a pipeline.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline cannot be built as declared (checked before any element is processed).
    Construction {
        /// The DoFn or transform concerned.
        dofn: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A timer was set with a firing or output time the model does not allow.
    Timer {
        /// Where it was set.
        site: Box<Site>,
        /// The timer's id (and tag, for a family).
        timer: String,
        /// What is wrong.
        error: TimerError,
    },
    /// An output was given a timestamp earlier than the input's minus the allowed skew.
    OutputTimestamp {
        /// Where it was output.
        site: Box<Site>,
        /// The requested timestamp.
        output: Instant,
        /// The timestamp of the element or timer being processed.
        input: Instant,
        /// The DoFn's allowed timestamp skew.
        skew: Duration,
    },
    /// A user callback returned an error.
    User {
        /// Where it was returned.
        site: Box<Site>,
        /// The callback's error.
        source: BoxError,
    },
    /// A callback panicked. The DoFn runs nothing more (not even `#[teardown]`); the run ends with this error.
    Panicked {
        /// The DoFn whose callback panicked.
        dofn: &'static str,
        /// The panic's message, when it was a string.
        message: String,
        /// Where it panicked: the method, the key and window it ran for, and the element's timestamp (or the
        /// firing time, for a timer or an expiration; a stateless DoFn has no key; `#[setup]`,
        /// `#[start_bundle]` and `#[finish_bundle]` name the method alone); `None` for a panic outside the
        /// DoFn's methods (a key's `Hash`, ...).
        site: Option<Box<Site>>,
    },
    /// The pipeline's windowing is invalid (a window size, period or gap that is not positive, an offset out
    /// of range, a negative allowed lateness), as set by a pipeline method; checked before any element is
    /// processed. (A test harness given such a strategy reports [`Error::Construction`] for its DoFn.)
    Windowing {
        /// The pipeline method that set it.
        method: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input source failed (a channel closed abnormally, a line could not be read, ...).
    Source {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Construction { dofn, message } => write!(f, "cannot apply DoFn `{dofn}`: {message}"),
            Error::Timer { site, timer, error } => write!(f, "timer `{timer}` {site}: {error}"),
            Error::OutputTimestamp { site, output, input, skew } => write!(
                f,
                "output {site} has timestamp {output}, earlier than the input's timestamp {input} minus the \
                 allowed skew ({skew}; an `#[allowed_timestamp_skew]` method sets it)"
            ),
            Error::User { site, source } => write!(f, "error {site}: {source}"),
            Error::Panicked { site: Some(site), message, .. } => write!(f, "panic {site}: {message}"),
            Error::Panicked { dofn, message, site: None } => write!(f, "DoFn `{dofn}` panicked: {message}"),
            Error::Windowing { method, message } => write!(f, "invalid windowing in `{method}`: {message}"),
            Error::Source { message } => write!(f, "input source failed: {message}"),
        }
    }
}

/// The message of a user's error (or of a [`TimerError`]) is part of this error's own message, so `source()`
/// goes on from the error *behind* it, as `std::io::Error` does for a custom error: printing the chain
/// (`anyhow`'s `{:#}`, say) shows each message once. The user's error itself is in the variant's field.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::User { source, .. } => source.source(),
            Error::Timer { error, .. } => error.source(),
            _ => None,
        }
    }
}
