//! The function refuses to start without its configuration, and says which variable is missing.

#[test]
fn a_missing_table_stops_the_function_with_its_name() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_case-api")).env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BATON_TABLE"));
}
