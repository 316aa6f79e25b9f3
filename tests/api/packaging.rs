//! The Docker image's build stage, checked without Docker: cargo refuses a manifest whose
//! declared targets are missing, so the image must copy every file a declared target or the
//! binary's `include_*!` names.

const DOCKERFILE: &str = include_str!("../../Dockerfile");
const MANIFEST: &str = include_str!("../../Cargo.toml");

fn copied() -> Vec<&'static str> {
    DOCKERFILE
        .lines()
        .filter_map(|line| line.strip_prefix("COPY "))
        .filter(|line| !line.starts_with("--from"))
        .flat_map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            words.pop();
            words
        })
        .collect()
}

/// The directory of each target the manifest declares (`[[bench]]`, `[[example]]`, ...), from
/// its `path` or cargo's default place for its kind.
fn declared_directories() -> Vec<(String, String)> {
    let mut declared = Vec::new();
    for section in MANIFEST.split("\n[[").skip(1) {
        let (kind, body) = section.split_once("]]").unwrap();
        let default = match kind {
            "bench" => "benches",
            "example" => "examples",
            "test" => "tests",
            _ => "src",
        };
        let path = body
            .lines()
            .take_while(|line| !line.starts_with('['))
            .find_map(|line| line.trim().strip_prefix("path = "))
            .map(|path| path.trim_matches('"').split('/').next().unwrap().to_string());
        declared.push((kind.to_string(), path.unwrap_or_else(|| default.to_string())));
    }
    declared
}

#[test]
fn the_image_copies_every_target_the_manifest_declares() {
    let copied = copied();
    let declared = declared_directories();
    assert!(declared.iter().any(|(kind, _)| kind == "bench"), "{declared:?}");
    for (kind, directory) in declared {
        assert!(
            copied.contains(&directory.as_str()),
            "the Dockerfile does not copy {directory}/ (a {kind} target); cargo would refuse the manifest"
        );
    }
    for needed in ["Cargo.toml", "Cargo.lock", "src", "migrations", "assets"] {
        assert!(copied.contains(&needed), "the Dockerfile does not copy {needed}");
    }
}
