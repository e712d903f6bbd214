//! Selecting what a job touches: `FileFilter` on the lazy listing (names with odd characters
//! included), and `Batch::skip_existing` sending only what the workspace does not hold.

mod common;

use common::{client_for, temp_dir, text};
use openrouter_files::{FileFilter, FilesClient, Outcome};
use openrouter_files_emulator::Emulator;

const ODD_NAMES: [&str; 8] = [
    "plain.csv",
    "with space.csv",
    "star*name.csv",
    "brackets [1].csv",
    "quote\"and'apostrophe.csv",
    "ünïcödé 名前.csv",
    "dir/like/path.csv",
    "braces {a,b}.txt",
];

fn selected(client: &FilesClient, filter: &FileFilter) -> Vec<String> {
    filter
        .select(client.list().page_size(3).files())
        .map(|f| f.unwrap().filename)
        .collect()
}

fn seeded() -> (Emulator, FilesClient) {
    let mut builder = Emulator::builder();
    for (i, name) in ODD_NAMES.iter().enumerate() {
        builder = builder.seed_file(name, text(10 * (i + 1)));
    }
    let emulator = builder.start().unwrap();
    let client = client_for(&emulator);
    (emulator, client)
}

#[test]
fn name_globs_match_odd_characters_literally_when_escaped() {
    let (_emulator, client) = seeded();
    let all_csv = FileFilter::new().name("*.csv").unwrap();
    assert_eq!(selected(&client, &all_csv).len(), 7);
    for (pattern, expected) in [
        (r"star\*name.csv", "star*name.csv"),
        (r"brackets \[1\].csv", "brackets [1].csv"),
        ("quote\"and'apostrophe.csv", "quote\"and'apostrophe.csv"),
        ("ünïcödé *", "ünïcödé 名前.csv"),
        ("dir/*/path.csv", "dir/like/path.csv"),
        (r"braces \{a,b\}.txt", "braces {a,b}.txt"),
        ("with?space.csv", "with space.csv"),
    ] {
        let filter = FileFilter::new().name(pattern).unwrap();
        assert_eq!(selected(&client, &filter), [expected], "{pattern}");
    }
}

#[test]
fn conditions_combine_with_and_over_pages() {
    let (_emulator, client) = seeded();
    let filter = FileFilter::new()
        .name("*.csv")
        .unwrap()
        .min_size(30)
        .max_size(60)
        .mime_prefix("text/")
        .downloadable(true);
    assert_eq!(
        selected(&client, &filter),
        [
            "star*name.csv",
            "brackets [1].csv",
            "quote\"and'apostrophe.csv",
            "ünïcödé 名前.csv"
        ]
    );
    assert!(
        selected(&client, &filter.clone().downloadable(false)).is_empty(),
        "seeded files are downloadable"
    );
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    assert!(selected(&client, &FileFilter::new().since(future)).is_empty());
    assert_eq!(
        selected(&client, &FileFilter::new().before(future)).len(),
        8
    );
}

#[test]
fn skip_existing_sends_only_files_not_already_stored_with_one_listing() {
    let emulator = Emulator::builder()
        .seed_file("same.txt", text(5))
        .seed_file("resized.txt", text(5))
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let dir = temp_dir("skip-existing");
    let files = [("same.txt", 5), ("resized.txt", 6), ("new.txt", 7)];
    let paths: Vec<_> = files
        .iter()
        .map(|(name, size)| {
            let path = dir.join(name);
            std::fs::write(&path, text(*size)).unwrap();
            path
        })
        .collect();
    emulator.clear_requests();
    let report = client.batch().skip_existing(true).upload_paths(&paths);
    assert!(report.is_success(), "{report:?}");
    let outcomes: Vec<_> = report.items().iter().map(|i| &i.outcome).collect();
    assert!(matches!(outcomes[0], Outcome::Existing(f) if f.filename == "same.txt"));
    assert!(matches!(outcomes[1], Outcome::Done(f) if f.size_bytes == 6));
    assert!(matches!(outcomes[2], Outcome::Done(f) if f.filename == "new.txt"));
    let requests = emulator.requests();
    let lists = requests.iter().filter(|r| r.method == "GET").count();
    let posts = requests.iter().filter(|r| r.method == "POST").count();
    assert_eq!((lists, posts), (1, 2));
    // Run again: everything is there now, nothing is sent.
    emulator.clear_requests();
    let again = client.batch().skip_existing(true).upload_paths(&paths);
    assert!(
        again
            .items()
            .iter()
            .all(|i| matches!(i.outcome, Outcome::Existing(_)))
    );
    assert!(emulator.requests().iter().all(|r| r.method == "GET"));
}
