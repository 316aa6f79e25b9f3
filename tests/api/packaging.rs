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

/// The compose file's own instructions, followed from the directory they name: the `.env` they
/// create is the one every service reads, and every build context holds the Dockerfile.
#[test]
fn the_compose_instructions_work_from_the_directory_they_name() {
    let compose_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let compose = std::fs::read_to_string(compose_dir.join("docker-compose.yml")).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let instructions: Vec<&str> = compose
        .lines()
        .take_while(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches('#').trim().strip_prefix("cp "))
        .collect();
    assert_eq!(instructions.len(), 1, "one copy step: {instructions:?}");
    let mut words = instructions[0].split_whitespace();
    let (from, to) = (words.next().unwrap(), words.next().unwrap());
    assert!(
        root.join(from).is_file(),
        "{from} exists in the root the instructions start from"
    );
    let created = root.join(to);
    let mut services = 0;
    for line in compose.lines().map(str::trim) {
        if let Some(file) = line.strip_prefix("env_file: ") {
            services += 1;
            assert_eq!(
                normalise(&compose_dir.join(file)),
                normalise(&created),
                "a service reads the .env the instructions create"
            );
        }
        if let Some(context) = line.strip_prefix("build: ") {
            assert!(compose_dir.join(context).join("Dockerfile").is_file(), "{context}");
        }
    }
    assert!(services >= 2, "the migration and the replicas read it");
    assert!(compose.contains("docker compose -f deploy/docker-compose.yml up"));
}

/// `a/b/../c` as `a/c`, without touching the file system (the `.env` need not exist).
fn normalise(path: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `.env.example` and the book's settings tables are what the binary writes from its own list
/// of settings: a setting added, renamed or given another default shows in both or fails here.
#[tokio::test]
async fn the_env_example_and_the_settings_tables_are_the_binarys_own() {
    let dir = tempfile::tempdir().unwrap();
    let printed = |args: &'static [&'static str]| {
        let mut command = crate::helpers::lookerbot(dir.path());
        command.args(args);
        async move { String::from_utf8(command.output().await.unwrap().stdout).unwrap() }
    };
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    assert!(
        printed(&["settings"]).await == example,
        ".env.example is out of date: run `lookerbot settings > .env.example`"
    );
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/configuration.md")).unwrap();
    let begin = readme
        .find("<!-- settings:")
        .expect("the configuration chapter marks its settings tables");
    let block = &readme[begin..readme.find("<!-- end of settings -->").unwrap()];
    let block = &block[block.find("-->\n").unwrap() + 4..];
    assert!(
        printed(&["settings", "--markdown"]).await == block,
        "docs/src/configuration.md's settings tables are out of date: paste `lookerbot settings --markdown`"
    );
}
