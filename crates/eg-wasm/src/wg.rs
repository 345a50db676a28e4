//! filled by its issue
