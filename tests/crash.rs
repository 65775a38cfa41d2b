//! A child process killed with SIGKILL in the middle of batch recommends: on
//! reopening, every batch is wholly there or wholly absent, the indexes agree with
//! the applications and the chain verifies.

#[path = "world.rs"]
mod world;

use shenbao::{ActionRequest, HostConfig, Kernel, KernelConfig, ManualClock};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use world::*;

const APPS: usize = 60;
const CHILD_ENV: &str = "SHENBAO_CRASH_CHILD_DIR";

fn open(dir: &std::path::Path) -> Kernel {
    let config = KernelConfig {
        host: HostConfig { cache_dir: Some(dir.join("cache")), ..HostConfig::default() },
        clock: Arc::new(ManualClock::new(t(2024, 8, 20, 9))),
        blob_dir: None,
        ..KernelConfig::default()
    };
    Kernel::open_with(dir.join("shenbao.redb"), config).unwrap()
}

/// The child: batch-recommend every application at city review, return each from the
/// province one by one, and again, until killed. Runs only when the parent asks.
#[test]
#[ignore = "run by a_killed_batch_is_wholly_there_or_wholly_absent in a child process"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let k = open(std::path::Path::new(&dir));
    let ids: Vec<String> = k.applications_in(ROUND).unwrap().into_iter().map(|a| a.id).collect();
    println!("ready");
    for round in 0.. {
        let at_city: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| k.application(id).unwrap().state.stage == "city-review")
            .collect();
        k.act_batch("city-huizhou", &at_city, &ActionRequest::with_opinion("city-recommend", "同意推荐")).unwrap();
        println!("batch {round}");
        for id in &ids {
            k.act("province", id, &ActionRequest::with_opinion("province-return", "复核")).unwrap();
        }
    }
}

#[test]
fn a_killed_batch_is_wholly_there_or_wholly_absent() {
    let mut s = spec();
    s.cities.get_mut("huizhou").unwrap().district_review = false;
    s.cities.get_mut("huizhou").unwrap().district_deadline = None;
    let w = world_with(s);
    for i in 0..APPS {
        w.submitted(1 + (i as u32 % 6));
    }
    let dir = w.dir.path().to_path_buf();
    let World { kernel, dir: _keep, .. } = w;
    drop(kernel);

    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    let mut rng = seed;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for kill in 0..5 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it works (libtest prints "test crash_child ... " before the
        // child's own output, so look for the word), then kill it at a random moment.
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line =
                rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the child did not start within a minute");
            if line.ends_with("ready") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(next() % 400));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let batches_seen = rx.try_iter().filter(|l| l.starts_with("batch")).count();

        let k = open(&dir);
        let chain = k.verify_chain().unwrap();
        assert_eq!(chain.first_broken, None, "kill {kill} (seed {seed})");
        assert!(k.verify_indexes().unwrap().is_empty(), "kill {kill} (seed {seed}): {:?}", k.verify_indexes().unwrap());
        let mut batches = std::collections::BTreeMap::<String, usize>::new();
        for i in 0..chain.length {
            if let Some(b) = k.decision(i).unwrap().unwrap().batch {
                *batches.entry(b).or_default() += 1;
            }
        }
        for (b, n) in &batches {
            let size: usize = b.rsplit('-').next().unwrap().parse().unwrap();
            assert_eq!(*n, size, "batch {b} is partial after kill {kill} (seed {seed})");
        }
        eprintln!(
            "kill {kill}: {} decisions, {} whole batches ({batches_seen} reported before the kill)",
            chain.length,
            batches.len()
        );
        assert!(batches.len() >= batches_seen, "an acknowledged batch was lost");
    }
}
