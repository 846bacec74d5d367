//! swedbank adapter (in progress).
