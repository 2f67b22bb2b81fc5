//! `mttx verify` (see: issue 34) names each damaged file of a store, and `mttx compact` records
//! the hashes, key ranges and stamps of files that lack them.

use predicates::str::contains;
use serde_json::Value;

use crate::monthly::*;
use crate::util::mttx;

#[test]
fn verify_names_each_damaged_file() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated");
    mttx().args(["generate", "--incidents", "300", "--out"]).arg(&generated).assert().success();
    let store = dir.path().join("store");
    load("--out", &store, std::slice::from_ref(&generated));
    mttx().arg("verify").arg(&store).assert().success().stdout(contains("hashes match")).stdout(contains("is intact"));
    let listed = listed_files(&store);
    let file = |table: &str| store.join(listed.iter().find(|f| f.starts_with(&format!("data/{table}/"))).unwrap());
    // A byte changed in place: the size holds, the hash does not.
    let flipped = file("incidents");
    let mut bytes = std::fs::read(&flipped).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&flipped, &bytes).unwrap();
    // A file cut short, and one gone.
    let cut = file("changes");
    let length = std::fs::metadata(&cut).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&cut).unwrap().set_len(length - 10).unwrap();
    std::fs::remove_file(file("events")).unwrap();
    mttx()
        .arg("verify")
        .arg(&store)
        .assert()
        .code(1)
        .stdout(contains("damaged: data/incidents/"))
        .stdout(contains("its SHA-256 is"))
        .stdout(contains(format!("{} bytes on disk, and the manifest records {length}", length - 10)))
        .stdout(contains("damaged: data/events/"))
        .stdout(contains(": missing"))
        .stdout(contains("3 problems found"));
    // A store written before hashes were recorded is decoded in full instead.
    let old = dir.path().join("old");
    load("--out", &old, std::slice::from_ref(&generated));
    let mut m = manifest(&old);
    for table in m["tables"].as_object_mut().unwrap().values_mut() {
        for f in table["files"].as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("sha256");
        }
    }
    std::fs::write(old.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    mttx().arg("verify").arg(&old).assert().success().stdout(contains("0 hashes match")).stdout(contains("without a recorded hash decoded in full"));
    // `mttx compact` records what such files lack: their hashes, key ranges and stamps.
    let described = dir.path().join("described");
    copy_dir(&old, &described);
    let mut bare = manifest(&described);
    for table in bare["tables"].as_object_mut().unwrap().values_mut() {
        for f in table["files"].as_array_mut().unwrap() {
            let f = f.as_object_mut().unwrap();
            f.remove("key_ranges");
            f.remove("stamps");
        }
    }
    std::fs::write(described.join("manifest.json"), serde_json::to_string_pretty(&bare).unwrap()).unwrap();
    let files = listed_files(&described).len();
    mttx().arg("compact").arg(&described).assert().success().stdout(contains(format!("recorded the SHA-256, key ranges and stamps of {files} files")));
    let recorded = manifest(&described);
    mttx().arg("verify").arg(&described).assert().success().stdout(contains(format!("{files} hashes match")));
    for (name, files) in recorded["tables"].as_object().unwrap() {
        for (f, fresh) in files["files"].as_array().unwrap().iter().zip(manifest(&store)["tables"][name]["files"].as_array().unwrap()) {
            assert_eq!(f["key_ranges"], fresh["key_ranges"], "{name}: the ranges a load records");
            assert_eq!(f["stamps"], fresh["stamps"], "{name}: the stamps a load records");
        }
    }
    // A manifest whose row count disagrees with the file's footer.
    m["tables"]["incidents"]["files"][0]["rows"] = Value::from(999);
    m["tables"]["incidents"]["rows"] = Value::from(999);
    std::fs::write(old.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    mttx().arg("verify").arg(&old).assert().code(1).stdout(contains("the manifest records 999"));
}
