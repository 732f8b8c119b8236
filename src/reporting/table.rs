//! GitHub-flavoured markdown tables.

/// A markdown table with `headers` and `rows` (each row as many cells as headers); a `|` inside
/// a cell is escaped, so it cannot split the cell.
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::from("|");
        for c in cells {
            s.push(' ');
            s.push_str(&c.replace('|', "\\|"));
            s.push_str(" |");
        }
        s.push('\n');
        s
    };
    let mut out = line(&mut headers.iter().copied());
    out += &line(&mut headers.iter().map(|_| "---"));
    for row in rows {
        debug_assert_eq!(row.len(), headers.len());
        out += &line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_header_rule_and_rows() {
        let t = super::markdown_table(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(t, "| a | b |\n| --- | --- |\n| 1 | 2 |\n");
    }

    #[test]
    fn a_pipe_inside_a_cell_does_not_split_it() {
        let t = super::markdown_table(&["P(CLWE | null)", "b"], &[vec!["x|y".into(), "2".into()]]);
        assert_eq!(t, "| P(CLWE \\| null) | b |\n| --- | --- |\n| x\\|y | 2 |\n");
    }
}
