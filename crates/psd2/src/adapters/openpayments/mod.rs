//! openpayments adapter (in progress).
