//! The wall-clock budget of a run (`--budget-seconds`) as one value every learner checks at its
//! natural checkpoints: between steps, between chunks of a design matrix, inside lattice
//! reduction. Evaluation on the test set is outside the budget.

use std::time::{Duration, Instant};

/// A point in time after which work should stop, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No limit.
    pub const NONE: Self = Self(None);

    /// `seconds` from now (none for `None`).
    pub fn after(seconds: Option<f64>) -> Self {
        Self(seconds.map(|s| Instant::now() + Duration::from_secs_f64(s.clamp(0.0, 1e9))))
    }

    /// Whether the limit has passed.
    pub fn expired(&self) -> bool {
        self.0.is_some_and(|t| Instant::now() >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_never_expires_and_zero_expires_at_once() {
        assert!(!Deadline::NONE.expired());
        assert!(!Deadline::after(None).expired());
        assert!(Deadline::after(Some(0.0)).expired());
        assert!(!Deadline::after(Some(3600.0)).expired());
    }
}
