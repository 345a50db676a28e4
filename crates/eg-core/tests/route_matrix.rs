//! Latency-matrix parser: tolerance (CRLF, blank lines, comments) and typed errors.

use eg_core::route::{parse_matrix, MatrixError, WeightedEdge, EXAMPLE_MATRIX};

fn error(text: &str) -> MatrixError {
    parse_matrix(text).unwrap_err()
}

#[test]
fn example_parses() {
    let m = parse_matrix(EXAMPLE_MATRIX).unwrap();
    assert_eq!(m.ids, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(m.edges.len(), 12);
    assert_eq!(m.edges[0], WeightedEdge::new(1, 2, 0.5, 0.0));
}

#[test]
fn crlf_blank_lines_and_comments() {
    let text = "# latency matrix\r\n\r\nX 1 2 3   # header\r\n1 0 0.5 Inf\r\n# a comment line\r\n2 0.5 0 -0.25\r\n3 inf 99999 7\r\n\r\n\r\n\n";
    let m = parse_matrix(text).unwrap();
    assert_eq!(m.ids, vec![1, 2, 3]);
    assert_eq!(
        m.edges,
        vec![
            WeightedEdge::new(1, 2, 0.5, 0.0),
            WeightedEdge::new(2, 1, 0.5, 0.0),
            WeightedEdge::new(2, 3, -0.25, 0.0)
        ]
    );
    // Same as the plain form; a trailing newline is fine (upstream crashes on it).
    let plain = parse_matrix("X 1 2 3\n1 0 0.5 Inf\n2 0.5 0 -0.25\n3 inf 99999 7\n").unwrap();
    assert_eq!(plain, m);
    // Diagonal values are ignored, whatever they are.
    let diag = parse_matrix("X 5 6\n5 1.0 2\n6 3 1.0").unwrap();
    assert_eq!(diag.edges.len(), 2);
}

#[test]
fn value_errors_have_line_and_column() {
    let e = error("X 1 2\n1 0 1\n2 abc 0\n");
    assert_eq!((e.line, e.column), (3, 3));
    assert_eq!(
        e.to_string(),
        "line 3, column 3: expected a number or Inf, found 'abc'"
    );
    let e = error("X 1 2\n1 0 NaN\n2 1 0\n");
    assert_eq!((e.line, e.column), (2, 5));
    // Columns count characters, tabs and repeated spaces included.
    let e = error("X 1 2\n1\t0    x\n");
    assert_eq!((e.line, e.column), (2, 8));
}

#[test]
fn field_count_mismatch() {
    let e = error("X 1 2 3\n1 0 1 1\n2 1 0\n");
    assert_eq!((e.line, e.column), (3, 6));
    assert!(e.message.contains("element number mismatch"), "{e}");
    assert!(e.message.contains("2 values, expected 3"), "{e}");
    let e = error("X 1 2\n1 0 1 5 # too many\n");
    assert_eq!((e.line, e.column), (2, 7));
}

#[test]
fn id_errors() {
    let e = error("X 1 2 1\n");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (1, 7, "duplicate node id 1 in header")
    );
    let e = error("X 1 65532\n");
    assert_eq!((e.line, e.column), (1, 5));
    assert!(e.message.contains("65532"));
    let e = error("X 1 2\n1 0 1\n3 1 0\n");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (3, 1, "row id 3 is not in the header")
    );
    let e = error("X 1 2\n1 0 1\n1 1 0\n");
    assert_eq!(
        (e.line, e.message.as_str()),
        (3, "duplicate row for node 1")
    );
    let e = error("X 1 b\n");
    assert_eq!((e.line, e.column), (1, 5));
    let e = error("\n\nY 1 2\n");
    assert_eq!((e.line, e.column), (3, 1));
    let e = error("  # only comments\n\n");
    assert!(e.message.starts_with("empty matrix"), "{e}");
    let e = error("X\n");
    assert_eq!(e.message, "header lists no node ids");
}

#[test]
fn missing_rows_mean_no_outgoing_edges() {
    let m = parse_matrix("X 1 2 3\n1 0 1 Inf\n").unwrap();
    let sol = m.solve().unwrap();
    assert_eq!(sol.ids(), &[1, 2, 3]);
    assert_eq!(sol.next_hop(1, 2), 2);
    assert!(sol.path(2, 1).is_none());
}
