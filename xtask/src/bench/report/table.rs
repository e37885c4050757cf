//! The Markdown the report is made of: tables with aligned columns, and the
//! number formats every section uses.

/// How a table column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A Markdown table.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(header: &[(&str, Align)]) -> Self {
        Self {
            header: header
                .iter()
                .map(|(name, align)| ((*name).to_owned(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty, extra ones dropped.
    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        let mut cells = cells;
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
        self
    }

    /// The table as Markdown, one line per row.
    pub fn render(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.header.iter().map(|(name, _)| cell(name)).collect());
        out.push_str(&line(
            self.header
                .iter()
                .map(|(_, align)| match align {
                    Align::Left => "---".to_owned(),
                    Align::Right => "---:".to_owned(),
                })
                .collect(),
        ));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|text| cell(text)).collect()));
        }
        out
    }
}

/// `text` made safe for one cell: pipes escaped, whitespace folded.
pub(super) fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// `value` with thousands separated by commas, e.g. `21,345`.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// `bytes` in MiB with one decimal.
pub(super) fn mib(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0))
}

/// A ratio as `1.23×`, or `–` when there is none.
pub(super) fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |value| format!("{value:.2}×"))
}

/// Microseconds shown as milliseconds with two decimals.
pub(super) fn millis_from_us(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_numbers_right_and_escape_pipes() {
        let mut table = Table::new(&[("request", Align::Left), ("req/s", Align::Right)]);
        table.row(vec!["`GET /a|b`".into(), "21,345".into()]);

        assert_eq!(
            table.render(),
            "| request | req/s |\n| --- | ---: |\n| `GET /a\\|b` | 21,345 |\n"
        );
    }

    #[test]
    fn rows_are_padded_to_the_header() {
        let mut table = Table::new(&[("a", Align::Left), ("b", Align::Left)]);
        table.row(vec!["1".into()]);

        assert!(table.render().ends_with("| 1 |  |\n"));
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(21_345.4), "21,345");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(-1_500.0), "-1,500");
        assert_eq!(thousands(f64::NAN), "–");
    }
}
