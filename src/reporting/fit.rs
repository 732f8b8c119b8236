//! Least-squares lines, shared by the studies that fit laws to their measurements (the lattice
//! frontier's σ_max(d), compute-to-learn's samples against γ_s²).

/// The least-squares line y = a + b·x through `points`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    /// Intercept.
    pub a: f64,
    /// Slope.
    pub b: f64,
}

/// The least-squares line through `points`; `None` with fewer than two distinct x.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| {
        let b = sxy / sxx;
        Line { a: my - b * mx, b }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_is_recovered_and_a_single_x_has_none() {
        let line = super::least_squares(&[(1.0, 5.0), (2.0, 7.0), (4.0, 11.0)]).unwrap();
        assert!((line.a - 3.0).abs() < 1e-12 && (line.b - 2.0).abs() < 1e-12);
        assert!(super::least_squares(&[(1.0, 5.0), (1.0, 7.0)]).is_none());
        assert!(super::least_squares(&[]).is_none());
    }
}
